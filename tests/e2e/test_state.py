"""Two `meltano run`s in a row: Meltano keeps the state, the second run loads only changes."""

from __future__ import annotations

import json

import pytest

from emulator import LeadsEmulator
from tap_leads.timestamps import format_timestamp
from tests.e2e.conftest import (
    PROVIDERS,
    STREAMS,
    MeltanoProject,
    changed_since,
    latest_change,
    lead_ids,
    primary_key,
    read_jsonl,
)

pytestmark = pytest.mark.e2e

TOUCHED = 3
ADDED = 2


@pytest.fixture
def own_emu():
    # This test edits leads, so it gets an emulator of its own.
    with LeadsEmulator(leads_per_provider=150, seed=11) as emulator:
        yield emulator


def test_second_run_loads_only_changed_leads(meltano_installed, own_emu, tmp_path):
    emu = own_emu
    meltano = MeltanoProject(tmp_path, emu)
    first, second = tmp_path / "run1", tmp_path / "run2"

    meltano("run", "tap-leads", "target-jsonl", TARGET_JSONL_DESTINATION_PATH=str(first)).check()
    loaded = read_jsonl(first)
    assert {stream: len(rows) for stream, rows in loaded.items()} == {
        STREAMS[p]: len(emu.leads(p)) for p in PROVIDERS
    }

    bookmarks = {p: latest_change(emu, p) for p in PROVIDERS}
    state = json.loads(meltano.output("state", "get", "dev:tap-leads-to-target-jsonl"))
    saved = state["singer_state"]["bookmarks"]
    for provider in PROVIDERS:
        assert saved[STREAMS[provider]]["replication_key_value"] == format_timestamp(
            bookmarks[provider]
        )

    touched, added = {}, {}
    for provider in PROVIDERS:
        before = lead_ids(emu, provider)
        touched[provider] = {lead[primary_key(provider)] for lead in emu.leads(provider)[40:43]}
        emu.touch(provider, sorted(touched[provider]))
        emu.add(provider, ADDED)
        added[provider] = lead_ids(emu, provider) - before
        assert len(touched[provider]) == TOUCHED
        assert len(added[provider]) == ADDED
    expected = {STREAMS[p]: changed_since(emu, p, bookmarks[p]) for p in PROVIDERS}

    meltano("run", "tap-leads", "target-jsonl", TARGET_JSONL_DESTINATION_PATH=str(second)).check()
    loaded = read_jsonl(second)
    assert set(loaded) == set(STREAMS.values())
    for provider in PROVIDERS:
        stream, key = STREAMS[provider], primary_key(provider)
        ids = [record[key] for record in loaded[stream]]
        assert len(ids) == len(expected[stream]), provider
        assert set(ids) == expected[stream], provider
        # Besides the edits, only the leads stamped exactly at the bookmark come again.
        assert touched[provider] | added[provider] <= set(ids)
        assert len(ids) < TOUCHED + ADDED + 10, provider
