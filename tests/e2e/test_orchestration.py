"""Shards on a real orchestrator: Dagster's multiprocess executor runs `meltano run` per
shard of orchestration/demo into PostgreSQL, with state in a PostgreSQL system database.

One scenario (a module fixture) runs, in order: 4 shards from scratch; 4 shards again after
some leads changed; a reshard to 6 after more changes and some deletions; 6 shards with one
account's credentials broken, then a retry of the failed shard alone with the fix. The
tests below each check one part of it. (tests/e2e/test_orchestration_cli.py checks the
command's settings and the code location without a scenario.)
"""

from __future__ import annotations

import time

import psycopg
import pytest

from emulator import LeadsEmulator
from tap_leads.providers.accounts import shard_of
from tap_leads.timestamps import parse_timestamp
from tests.e2e.orchestration_support import (  # noqa: F401 - dagster_installed: the fixture
    ACCOUNTS,
    AUTOCALLS,
    BROKEN,
    STREAMS,
    TELI,
    Pipeline,
    Scenario,
    dagster_installed,
    due,
    everything,
    shard_accounts,
    step,
    succeeded,
    touch,
    warehouse_rows,
)
from tests.e2e.test_postgres import DATABASE, postgres  # noqa: F401 - the fixture

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def scenario(dagster_installed, postgres, tmp_path_factory):  # noqa: F811 - the fixture
    with psycopg.connect(host=postgres, dbname="postgres", user="postgres") as conn:
        conn.autocommit = True
        conn.execute("CREATE DATABASE meltano")
    with LeadsEmulator(
        leads_per_provider=3, seed=11, accounts={"autocalls": AUTOCALLS, "teli": TELI}
    ) as emu:
        s = Scenario(emu, postgres)
        pipeline = Pipeline(emu, postgres, tmp_path_factory.mktemp("orchestration"))
        started = time.monotonic()

        s.runs["first"] = pipeline("run", "--shards", "4")
        succeeded(s.runs["first"])
        s.expected["first"] = everything(emu)
        s.requests = {f"{r.provider}/{r.account}": 0 for r in emu.requests if r.provider in STREAMS}
        for r in emu.requests:
            if r.provider in STREAMS:
                s.requests[f"{r.provider}/{r.account}"] += 1
        found = pipeline.states()
        s.states.update({f"first {k}": found[f"shard-{k}-of-4"] for k in range(4)})

        s.expected["second changed"] = {
            "autocalls": touch(emu, "autocalls", ["ac-001", "ac-050", "ac-099"]),
            "teli": touch(emu, "teli", ["te-007", "te-070"]),
        }
        s.runs["second"] = pipeline("run", "--shards", "4")
        succeeded(s.runs["second"])
        s.expected["second"] = due(emu, pipeline.states()["shards"])

        s.expected["reshard changed"] = {
            "autocalls": touch(emu, "autocalls", ["ac-002", "ac-060"]),
            "teli": touch(emu, "teli", ["te-008"]),
        }
        deleted = emu.delete_leads("autocalls", account="ac-010", n=2, start=0)
        s.expected["deleted"] = {("autocalls_leads", "ac-010", str(key)) for key in deleted}
        s.runs["reshard"] = pipeline("run", "--shards", "6")
        succeeded(s.runs["reshard"])
        found = pipeline.states()
        s.expected["reshard"] = due(emu, found["shards"])
        s.states["old ids after reshard"] = found["shard-0-of-4"]
        s.states.update({f"reshard {k}": found[f"shard-{k}-of-6"] for k in range(6)})

        others = [n for n in ("ac-003", "ac-004", "ac-005", "ac-006") if n != BROKEN]
        s.expected["broken changed"] = touch(emu, "autocalls", [BROKEN, *others])
        pipeline.configure(broken=BROKEN)
        s.runs["broken"] = pipeline("run", "--shards", "6")
        found = pipeline.states()
        s.states.update({f"broken {k}": found[f"shard-{k}-of-6"] for k in range(6)})
        pipeline.configure()
        s.runs["retry"] = pipeline("retry", s.runs["broken"].outcome["run_id"])
        succeeded(s.runs["retry"])
        s.states["retried"] = pipeline.states()[f"shard-{shard_of('autocalls', BROKEN, 6)}-of-6"]
        print(f"\norchestration scenario: {time.monotonic() - started:.1f} s")
        with psycopg.connect(host=postgres, dbname=DATABASE, user="postgres") as conn:
            for provider in STREAMS:
                s.warehouse[provider] = {
                    (account, key) for account, key, _ in warehouse_rows(conn, provider)
                }
        yield s


def test_four_shards_load_every_account_exactly_once(scenario):
    first = scenario.runs["first"]
    assert first.outcome["success"], first.outcome
    assert first.outcome["failed"] == []
    for provider, sizes in (("autocalls", AUTOCALLS), ("teli", TELI)):
        assert first.emitted[provider] == scenario.expected["first"][provider]
        per_account = {name: 0 for name in sizes}
        for account, _ in first.emitted[provider]:
            per_account[account] += 1
        assert per_account == sizes
        # Every account was read by one run of the tap: the same requests for each.
        counts = {name: 0 for name in sizes}
        for requested_provider, account in first.requested:
            if requested_provider == provider:
                counts[account] += 1
        assert set(counts.values()) == {1}, counts
    taken: set[tuple[str, str]] = set()
    for k in range(4):
        accounts = shard_accounts(scenario.states[f"first {k}"])
        assert accounts == {
            (p, name)
            for p, sizes in (("autocalls", AUTOCALLS), ("teli", TELI))
            for name in sizes
            if shard_of(p, name, 4) == k
        }
        assert not accounts & taken
        taken |= accounts
    assert len(taken) == 2 * ACCOUNTS


def test_a_second_run_emits_only_the_changed_leads(scenario):
    second = scenario.runs["second"]
    assert second.outcome["success"], second.outcome
    for provider in STREAMS:
        changed = scenario.expected["second changed"][provider]
        due_now = scenario.expected["second"][provider]
        # The changed leads, and at most the few leads at each account's bookmark.
        assert changed <= second.emitted[provider] <= due_now
        assert len(due_now) <= ACCOUNTS + len(changed)


def test_a_reshard_to_six_emits_only_the_changed_leads(scenario):
    reshard = scenario.runs["reshard"]
    assert reshard.outcome["success"], reshard.outcome
    for provider in STREAMS:
        changed = scenario.expected["reshard changed"][provider]
        assert changed <= reshard.emitted[provider] <= scenario.expected["reshard"][provider]
    # The 4 shards' state ids are gone; the 6 new ones hold their own accounts only.
    assert scenario.states["old ids after reshard"] == {}
    for k in range(6):
        accounts = shard_accounts(scenario.states[f"reshard {k}"])
        assert accounts
        assert all(shard_of(p, name, 6) == k for p, name in accounts)


def test_leads_deleted_before_a_reshard_are_reported_exactly_once(scenario):
    deleted = scenario.expected["deleted"]
    assert len(deleted) == 2
    assert scenario.runs["second"].emitted["deleted"] == set()
    assert scenario.runs["reshard"].emitted["deleted"] == deleted
    for later in ("broken", "retry"):
        assert scenario.runs[later].emitted["deleted"] == set()


def test_a_broken_shard_fails_alone_and_its_retry_completes_the_data(scenario):
    broken_shard = shard_of("autocalls", BROKEN, 6)
    broken = scenario.runs["broken"]
    assert not broken.outcome["success"]
    assert broken.outcome["failed"] == [step(broken_shard, 6)]
    # The outcome says why, in the tap's and Meltano's words, with no secret.
    (why,) = broken.outcome["errors"].values()
    assert why.startswith(f"shard {broken_shard}/6 failed (exit 1): tap-leads: ")
    assert (
        f"Autocalls account {BROKEN} rejected the credentials (HTTP 401: Unauthenticated.). "
        f"Check autocalls.accounts[{BROKEN}].api_key."
    ) in why
    assert why.endswith(" | meltano: Extractor failed")
    assert "revoked-key" not in why
    assert f"orchestration: {step(broken_shard, 6)} failed: {why}" in broken.log_text
    changed = scenario.expected["broken changed"]
    fixed_lead = next(pair for pair in changed if pair[0] == BROKEN)
    assert fixed_lead not in broken.emitted["autocalls"]
    # Every other account's change is loaded and committed in its shard's state, the
    # broken shard's other accounts included; the broken account keeps its bookmark.
    for account, key in changed:
        k = shard_of("autocalls", account, 6)
        state = scenario.states[f"broken {k}"]
        (entry,) = [
            e
            for e in state["bookmarks"]["autocalls_leads"]["partitions"]
            if e["context"]["account"] == account
        ]
        lead = next(
            lead
            for lead in scenario.emu.leads("autocalls", account=account)
            if str(lead["id"]) == key
        )
        reached = parse_timestamp(entry["replication_key_value"]) >= parse_timestamp(
            lead["updated_at"]
        )
        assert reached is (account != BROKEN), (account, entry)
        assert ((account, key) in broken.emitted["autocalls"]) is (account != BROKEN)

    retry = scenario.runs["retry"]
    assert retry.outcome["success"], retry.outcome
    assert retry.outcome["run_id"] != broken.outcome["run_id"]
    # Only the failed shard ran again.
    assert retry.requested
    assert {shard_of(p, account, 6) for p, account in retry.requested} == {broken_shard}
    assert fixed_lead in retry.emitted["autocalls"]
    # ... and its state now holds the fixed account's new bookmark.
    (entry,) = [
        e
        for e in scenario.states["retried"]["bookmarks"]["autocalls_leads"]["partitions"]
        if e["context"]["account"] == BROKEN
    ]
    fixed = next(
        lead
        for lead in scenario.emu.leads("autocalls", account=BROKEN)
        if str(lead["id"]) == fixed_lead[1]
    )
    assert parse_timestamp(entry["replication_key_value"]) >= parse_timestamp(fixed["updated_at"])
    # The warehouse holds every lead of every account (and the two deleted ones).
    for provider in STREAMS:
        now = everything(scenario.emu)[provider]
        assert now <= scenario.warehouse[provider]
        gone = {(account, key) for _, account, key in scenario.expected["deleted"]}
        assert scenario.warehouse[provider] - now == (gone if provider == "autocalls" else set())
