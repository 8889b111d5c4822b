"""Membership: the compact encoding in the state, and where a walk keeps what it knows."""

from __future__ import annotations

import base64
import hashlib
import inspect
import random
import zlib

import pytest
from singer_sdk import Stream

from tap_leads import sdk_hooks
from tap_leads.providers import PROVIDERS
from tap_leads.replication import walks
from tap_leads.replication.membership import Membership, decode, encode, fingerprint
from tap_leads.streams import LeadsStream, stream_class

RNG = random.Random(5)
N = 100_000


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
    assert decode(text) == keys
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
    assert decode(encode(keys)) == keys


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


def test_the_encoding_is_the_same_across_chunk_boundaries():
    """States written before the bits and base85 were processed in chunks still read,
    and the same keys are written the same way (digest of the earlier, unchunked form)."""
    rng = random.Random(7)
    keys = {
        f"{1762000000000 + rng.randrange(10**9)}x{rng.randrange(10**18):018d}"
        for _ in range(20_000)
    }
    text = encode(keys)
    assert len(text) == 240381
    digest = "3b9014d66b53169568d3f4c610f2119fff69b358c15da2506f5551e3b8f76409"
    assert hashlib.sha256(text.encode()).hexdigest() == digest
    assert decode(text) == keys


def test_a_membership_whose_bits_end_early_is_unreadable():
    header, _, body = encode({f"{n}x{n * 7919 % 10**6:06d}" for n in range(1, 500)}).rpartition(":")
    data = zlib.decompress(base64.b85decode(body))
    short = base64.b85encode(zlib.compress(data[:-40])).decode()
    with pytest.raises(ValueError, match="end early"):
        decode(f"{header}:{short}")
    assert not Membership({"ids": f"{header}:{short}", "filters": "x"}, "x").known
