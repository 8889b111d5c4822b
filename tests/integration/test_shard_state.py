"""Shards' states merge in any order: a sharded run's STATE holds only its own accounts,
and a run of any shard resumes its accounts from the merged state of other shard counts."""

from __future__ import annotations

import itertools

import pytest

from emulator import LeadsEmulator
from orchestration.state_merge import merge_states
from tap_leads.providers.accounts import shard_of
from tap_leads.timestamps import parse_timestamp

NAMES = [f"client-{n:02d}" for n in range(12)]
LEADS = 9


@pytest.fixture
def emu():
    with LeadsEmulator(
        leads_per_provider=5, seed=4, accounts={"autocalls": dict.fromkeys(NAMES, LEADS)}
    ) as emulator:
        yield emulator


def accounts_of(state: dict) -> list[str]:
    partitions = state["bookmarks"]["autocalls_leads"]["partitions"]
    return sorted(p["context"]["account"] for p in partitions)


def emitted(run) -> set[tuple[str, int]]:
    return {(r["account"], r["id"]) for r in run.records("autocalls_leads")}


def due(emu, state: dict) -> set[tuple[str, int]]:
    """What a run from `state` emits: per account, the leads at or after its bookmark."""
    found = set()
    for entry in state["bookmarks"]["autocalls_leads"]["partitions"]:
        account = entry["context"]["account"]
        bookmark = parse_timestamp(entry["replication_key_value"])
        for lead in emu.leads("autocalls", account=account):
            if parse_timestamp(lead["updated_at"]) >= bookmark:
                found.add((account, lead["id"]))
    return found


def run_shards(run_tap, config: dict, count: int, state: dict | None) -> list:
    runs = [run_tap({**config, "shard": f"{k}/{count}"}, state) for k in range(count)]
    for k, run in enumerate(runs):
        assert run.returncode == 0, run.stderr
        assert accounts_of(run.final_state) == sorted(
            n for n in NAMES if shard_of("autocalls", n, count) == k
        )
    return runs


def test_resharding_from_merged_states_emits_only_changed_leads(emu, run_tap):
    config = emu.accounts_config(["autocalls"])
    first = run_shards(run_tap, config, 2, None)
    assert sum(len(emitted(run)) for run in first) == len(NAMES) * LEADS

    # Merged in either order, the states agree: no shard holds a copy of another's account.
    states = [run.final_state for run in first]
    merged = merge_states(states)
    flipped = merge_states(reversed(states))["bookmarks"]["autocalls_leads"]["partitions"]
    assert sorted(map(str, flipped)) == sorted(
        map(str, merged["bookmarks"]["autocalls_leads"]["partitions"])
    )
    assert accounts_of(merged) == NAMES

    changed = {("client-03", 2), ("client-07", 5), ("client-11", 1)}
    for account, lead_id in changed:
        emu.touch("autocalls", [lead_id], account=account)
    expected = due(emu, merged)
    assert changed <= expected
    assert len(expected) < len(NAMES) * 2  # the changed leads, and those at the bookmarks
    second = run_shards(run_tap, config, 3, merged)
    assert set().union(*(emitted(run) for run in second)) == expected
    assert sum(len(run.records("autocalls_leads")) for run in second) == len(expected)

    # The 3 shards' states, merged in any order, give one state that a reshard to 5 resumes.
    finals = [run.final_state for run in second]
    merges = [merge_states(order) for order in itertools.permutations(finals)]
    bookmarks = [
        {p["context"]["account"]: p for p in m["bookmarks"]["autocalls_leads"]["partitions"]}
        for m in merges
    ]
    assert all(b == bookmarks[0] for b in bookmarks)
    expected = due(emu, merges[-1])
    third = run_shards(run_tap, config, 5, merges[-1])
    assert set().union(*(emitted(run) for run in third)) == expected
    assert sum(len(run.records("autocalls_leads")) for run in third) == len(expected)
