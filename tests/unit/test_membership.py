"""Membership: the compact encoding in the state, and where a walk keeps what it knows."""

from __future__ import annotations

import base64
import inspect
import json
import random
import zlib
from pathlib import Path

import pytest
from singer_sdk import Stream

from tap_leads import sdk_hooks
from tap_leads.providers import PROVIDERS
from tap_leads.replication import walks
from tap_leads.replication.keys import KeyLedger, Keys
from tap_leads.replication.membership import Membership, decode, encode, fingerprint
from tap_leads.replication.shapes import Hex, Pair, Whole
from tap_leads.streams import LeadsStream, stream_class

RNG = random.Random(5)
N = 100_000
DATA = Path(__file__).resolve().parent.parent / "data"


def texts(stored: str) -> set[str]:
    return set(decode(stored).texts())


def teli_id() -> str:
    return f"{1_700_000_000_000 + RNG.randrange(10**10)}x{10**17 + RNG.randrange(9 * 10**17)}"


def object_id() -> str:
    return f"{1_700_000_000 + RNG.randrange(10**7):08x}{RNG.getrandbits(64):016x}"


@pytest.mark.parametrize(
    ("make", "per_lead"),
    [
        (lambda n: str(RNG.randrange(1, 3 * N)), 4),
        (lambda n: teli_id(), 16),
        (lambda n: object_id(), 16),
    ],
    ids=["integer", "teli_unique_id", "object_id"],
)
def test_100000_keys_round_trip_within_their_size(make, per_lead):
    keys = {make(n) for n in range(N)}
    text = encode(keys)
    assert texts(text) == keys
    assert len(text) <= per_lead * len(keys)


@pytest.mark.parametrize(
    "keys",
    [
        set(),
        {"0", "1", "10"},
        {"007", "7"},  # leading zeros are not integers
        {"a:b", "x"},
        {"1x05", "22x17"},
        {"ABCDEF", "abcdef"},
        {"é", "e"},
        {f"{n:032x}" for n in range(50)},
    ],
)
def test_any_keys_round_trip(keys):
    assert texts(encode(keys)) == keys


def test_an_unreadable_membership_counts_as_none_recorded():
    assert not Membership({"ids": "i1:@@@", "filters": "x"}, "x").known
    assert not Membership(None, "x").known
    recorded = Membership({"ids": encode({"1", "2"}), "filters": "x"}, "x")
    assert recorded.known
    assert recorded.same_filters
    assert recorded.entered(3)
    assert not recorded.entered(2)
    assert not Membership({"ids": encode({"1"}), "filters": "y"}, "x").same_filters


def test_the_fingerprint_ignores_unset_filters_and_sees_a_changed_one():
    assert fingerprint({"user_id": None, "status": ""}) == fingerprint({})
    assert fingerprint({"status": "NEW"}) != fingerprint({"status": "LOST"})


def test_lead_streams_mix_in_only_the_sdk_shortcuts():
    for stream in (LeadsStream, *(stream_class(spec) for spec in PROVIDERS)):
        bases = [b for b in stream.__mro__ if b not in (stream, object)]
        own = [b for b in bases if b.__module__.startswith("tap_leads")]
        assert set(own) <= {LeadsStream, sdk_hooks.StreamShortcuts}
        assert LeadsStream.__bases__ == (sdk_hooks.StreamShortcuts, Stream)


def test_the_walk_state_lives_on_the_walk_object():
    stream_source = inspect.getsource(LeadsStream) + inspect.getsource(sdk_hooks.StreamShortcuts)
    for name in ("threshold", "record_limit", "greatest_seen", "extracted_at", "membership"):
        assert f"self._{name}" not in stream_source
        assert f"self.{name} =" not in stream_source
    walk_source = inspect.getsource(walks.AccountWalk.__init__)
    for name in ("threshold", "record_limit", "greatest_seen", "extracted_at", "membership"):
        assert f"self.{name}" in walk_source


def golden() -> dict[str, dict[str, list[str] | str]]:
    """Memberships as the first stored form wrote them (i1, h1, d1, s1), with their keys."""
    return json.loads((DATA / "membership_v1.json").read_text())


@pytest.mark.parametrize("kind", ["integer", "object_id", "teli_unique_id", "text", "empty"])
def test_memberships_of_the_first_form_still_read(kind):
    case = golden()[kind]
    assert str(case["ids"])[:3] in {"i1:", "h1:", "d1:", "s1:"}
    assert texts(str(case["ids"])) == set(case["keys"])
    assert Membership({"ids": case["ids"], "filters": "x"}, "x").known
    # written again in the current form, the same keys come back
    assert not encode(set(case["keys"])).startswith(("i1:", "h1:", "d1:", "s1:"))
    assert texts(encode(set(case["keys"]))) == set(case["keys"])


def first_form_teli_keys() -> set[str]:
    """The keys of membership_v1_teli_7000.txt (written by the first form's encoder)."""
    rng = random.Random(7)
    return {
        f"{1762000000000 + rng.randrange(10**9)}x{rng.randrange(10**18):018d}" for _ in range(7_000)
    }


def test_a_first_form_membership_across_its_chunk_boundaries_still_reads():
    """Its Rice bits span several 8 KiB chunks and its base85 more than one 64 KiB chunk."""
    stored = (DATA / "membership_v1_teli_7000.txt").read_text().strip()
    assert stored.startswith("d1:x:18:")
    keys = decode(stored)
    assert keys.shape == Pair("x", 18)
    assert len(keys) == 7_000
    assert set(keys.texts()) == first_form_teli_keys()


def test_a_membership_whose_bits_end_early_is_unreadable():
    stored = (DATA / "membership_v1_teli_7000.txt").read_text().strip()
    header, _, body = stored.rpartition(":")
    data = zlib.decompress(base64.b85decode(body))
    short = base64.b85encode(zlib.compress(data[:-40])).decode()
    with pytest.raises(ValueError, match="end early"):
        decode(f"{header}:{short}")
    assert not Membership({"ids": f"{header}:{short}", "filters": "x"}, "x").known


@pytest.mark.parametrize(
    "stored",
    [
        "n2:i:3:@@@",  # not base64
        "n2:i:3:" + base64.b64encode(zlib.compress(b"1:1:\x01")).decode(),  # 2 gaps, 1 byte
        "n2:i:x:" + base64.b64encode(zlib.compress(b"1:0:")).decode(),  # no count
        "n2:q:1:" + base64.b64encode(zlib.compress(b"1:0:")).decode(),  # no such shape
        "s2:2:" + base64.b64encode(zlib.compress(b"\x01\x00\x00\x00")).decode(),
        "z9:1:" + base64.b64encode(zlib.compress(b"1:0:")).decode(),
        "n2:i:2:" + base64.b64encode(b"not zlib").decode(),
    ],
)
def test_an_unreadable_current_form_raises_value_error(stored):
    with pytest.raises(ValueError, match=r"unreadable membership|unknown membership"):
        decode(stored)
    assert not Membership({"ids": stored, "filters": "x"}, "x").known


def test_the_ledger_holds_numbers_not_texts():
    cases = [
        ([5, "6", 7], Whole(), [5, 6, 7]),
        (["655733a938e2406ff946bd51"], Hex(24), [0x655733A938E2406FF946BD51]),
        (["1700x000000000000000042"], Pair("x", 18), [1700 * 10**18 + 42]),
    ]
    for keys, shape, values in cases:
        ledger = KeyLedger()
        assert all(ledger.first_time(key) for key in keys)
        snapshot = ledger.snapshot()
        assert snapshot.shape == shape
        assert snapshot.values == values
        assert list(snapshot.texts()) == [str(key) for key in keys]


def test_a_key_of_another_shape_reshapes_the_ledger_or_keeps_texts():
    ledger = KeyLedger()
    # an all-digit ObjectId first reads as a whole number, the next one makes them hex
    assert ledger.first_time("123456789012345678901234")
    assert ledger.first_time("655733a938e2406ff946bd51")
    assert not ledger.first_time("123456789012345678901234")
    assert ledger.snapshot().shape == Hex(24)
    assert ledger.count == 2
    assert ledger.first_time("not-an-id")
    snapshot = ledger.snapshot()
    assert snapshot.shape is None
    expected = ["123456789012345678901234", "655733a938e2406ff946bd51", "not-an-id"]
    assert snapshot.values == expected
    assert ledger.texts() == set(expected)
    assert ledger.repeats == 1
    # the same lead sent as an int and as text is one key, as its text is one
    mixed = KeyLedger()
    assert [mixed.first_time(k) for k in (7, "7", "07", 7)] == [True, False, True, False]
    assert mixed.texts() == {"7", "07"}


@pytest.mark.parametrize(
    ("first", "then", "shape"),
    [
        ("1x05", "007", None),  # a leading zero is not a number's text
        ("1x05", "1x5", None),  # nor a tail of another width
        ("abcdef", "ABCDEF", None),  # nor upper-case hex
        ("0abc", "0xab", None),
        ("1", "1_000", None),
        ("1", " 12", None),
        ("1", "\u0661\u0662", None),  # Arabic-Indic digits
        ("1", "12", Whole()),
        ("abc123", "abcdef", Hex(6)),
        ("1x05", "22x17", Pair("x", 2)),
    ],
)
def test_only_a_keys_own_text_maps_to_a_number(first, then, shape):
    ledger = KeyLedger()
    assert ledger.first_time(first)
    assert ledger.first_time(then)
    snapshot = ledger.snapshot()
    assert snapshot.shape == shape
    assert set(snapshot.texts()) == {first, then}
    assert texts(encode(snapshot)) == {first, then}


def test_departed_keys_and_lookups_need_no_set():
    prior = Keys(Whole(), [1, 5, 9, 12])
    now = Keys(Whole(), [1, 2, 9])
    assert prior.difference(now) == ["5", "12"]
    assert now.difference(prior) == ["2"]
    assert prior.difference(Keys(Whole(), [])) == ["1", "5", "9", "12"]
    assert [key in prior for key in (5, "5", "05", 6, 13, 0, None)] == [True, True] + [False] * 5
    # another shape compares by text
    assert Keys(Hex(2), [1, 255]).difference(Keys(None, ["01"])) == ["ff"]
    recorded = Membership({"ids": encode({"1", "2"}), "filters": "x"}, "x")
    assert recorded.entered(3)
    assert not recorded.entered("2")


@pytest.mark.parametrize(
    ("keys", "packing"),
    [
        ({str(n + n // 7) for n in range(1, 20_000)}, b"BZh"),  # ordered ids, gaps of 1 or 2
        ({f"{RNG.getrandbits(96):024x}" for _ in range(2_000)}, b"\x78"),  # random: zlib
        ({"1", "100000000000000000000"}, b"r"),  # too short to compress
        ({"a", "b"}, b"r"),
    ],
    ids=["bz2", "zlib", "raw-numbers", "raw-texts"],
)
def test_each_packing_round_trips(keys, packing):
    stored = encode(keys)
    assert base64.b64decode(stored.rpartition(":")[2]).startswith(packing)
    assert texts(stored) == keys


def test_an_unknown_packing_is_unreadable():
    with pytest.raises(ValueError, match="packing is unknown"):
        decode("n2:i:1:" + base64.b64encode(b"q1:0:").decode())


def test_one_key_reads_back_whatever_width_its_head_claims():
    assert texts("n2:i:1:" + base64.b64encode(b"r2a:1000000000:").decode()) == {"42"}
    assert texts(encode({"42"})) == {"42"}
