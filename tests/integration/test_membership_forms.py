"""States written before the current membership form still work, over real HTTP: a
membership stored in the first form ("i1:" integers, "s1:" texts) is compared with the
next walk, and that walk's membership is written in the current form."""

from __future__ import annotations

import base64
import zlib

import pytest

from emulator import LeadsEmulator
from tests.conftest import STREAMS

PROVIDERS = list(STREAMS)


def varint(value: int, out: bytearray) -> None:
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)


def first_form(keys: list[str]) -> str:
    """Keys as the first form wrote them: integers as varint gaps ("i1:"), other text
    front-coded ("s1:"), then zlib and base85."""
    out = bytearray()
    if all(key.isdigit() and not key.startswith("0") for key in keys):
        header, previous = "i1:", 0
        for value in sorted(map(int, keys)):
            varint(value - previous, out)
            previous = value
    else:
        header, before = "s1:", b""
        for raw in sorted(key.encode() for key in keys):
            shared = 0
            while shared < min(len(raw), len(before)) and raw[shared] == before[shared]:
                shared += 1
            varint(shared, out)
            varint(len(raw) - shared, out)
            out += raw[shared:]
            before = raw
    return header + base64.b85encode(zlib.compress(bytes(out), 9)).decode()


@pytest.fixture
def emu():
    with LeadsEmulator(leads_per_provider=60, seed=29) as emulator:
        yield emulator


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_first_form_membership_reports_deletions_once(emu, run_tap, provider):
    config = emu.tap_config(providers=[provider], **{provider: {"page_size": 20}})
    first = run_tap(config)
    assert first.returncode == 0, first.stderr[-3000:]
    stream = STREAMS[provider]
    state = first.final_state
    entry = state["bookmarks"][stream]["membership"]
    listed = [str(key) for key in emu.listed_keys(provider)]
    assert entry["count"] == len(listed) == 60
    entry["ids"] = first_form(listed)
    assert entry["ids"][:3] in {"i1:", "s1:"}
    gone = emu.listed_keys(provider)[10:13]
    emu.delete_leads(provider, ids=gone)
    second = run_tap(config, state)
    assert second.returncode == 0, second.stderr[-3000:]
    reported = [(r["stream"], r["id"]) for r in second.records("deleted_leads")]
    assert sorted(reported) == sorted((stream, str(key)) for key in gone)
    written = second.final_state["bookmarks"][stream]["membership"]
    assert written["count"] == 57
    assert written["ids"][:3] in {"n2:", "s2:"}
    third = run_tap(config, second.final_state)
    assert third.returncode == 0, third.stderr[-3000:]
    assert list(third.records("deleted_leads")) == []
    assert third.final_state["bookmarks"][stream]["membership"] == written
