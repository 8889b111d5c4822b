"""Several accounts per provider: one partition each, side by side, failures kept apart."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from emulator import LeadsEmulator
from tap_leads.providers.accounts import shard_of

GOLDEN = Path(__file__).resolve().parents[1] / "data" / "single_block_golden.jsonl"
AUTOCALLS = {"acme": 30, "globex": 20, "initech": 12}
ORGS = {"North": 25, "South": 15}


@pytest.fixture
def emu():
    with LeadsEmulator(
        leads_per_provider=10,
        seed=9,
        accounts={"autocalls": AUTOCALLS, "teli": {"partner": ORGS}},
    ) as emulator:
        yield emulator


def config_of(emu, **extra) -> dict:
    config = emu.accounts_config(["autocalls", "teli"])
    config["autocalls"]["page_size"] = 7
    config["teli"]["page_size"] = 10
    return {**config, **extra}


def by_account(run, stream: str) -> dict[str, list]:
    key = "unique_id" if stream == "teli_leads" else "id"
    found: dict[str, list] = {}
    for record in run.records(stream):
        found.setdefault(record["account"], []).append(record[key])
    return found


def partition_bookmarks(state: dict, stream: str) -> dict[str, str | None]:
    partitions = state["bookmarks"][stream]["partitions"]
    return {
        json.dumps(p["context"], sort_keys=True): p.get("replication_key_value") for p in partitions
    }


def test_every_account_and_organisation_once_with_its_name(emu, run_tap):
    run = run_tap(config_of(emu))
    assert run.returncode == 0, run.stderr
    autocalls = by_account(run, "autocalls_leads")
    assert {name: len(ids) for name, ids in autocalls.items()} == AUTOCALLS
    for name, ids in autocalls.items():
        assert sorted(ids) == sorted(emu.listed_keys("autocalls", account=name))
    # Autocalls numbers every account's leads from 1: ids collide, (account, id) does not.
    overlap = set(emu.listed_keys("autocalls", account="acme")) & set(
        emu.listed_keys("autocalls", account="globex")
    )
    assert len(overlap) > 10
    assert set(autocalls["acme"]) & set(autocalls["globex"]) == overlap
    pairs = [(r["account"], r["id"]) for r in run.records("autocalls_leads")]
    assert len(pairs) == len(set(pairs)) == 62
    teli = by_account(run, "teli_leads")
    assert list(teli) == ["partner"]
    expected = [k for org in ORGS for k in emu.listed_keys("teli", account="partner", org=org)]
    assert sorted(teli["partner"]) == sorted(expected)
    assert len(teli["partner"]) == 40
    for stream in ("autocalls_leads", "teli_leads"):
        schema = run.schema(stream)
        assert schema["key_properties"][0] == "account"
        assert schema["schema"]["properties"]["account"]["type"] == ["string"]
    orgs = {o["name"]: o["unique_id"] for o in emu.teli_orgs("partner")}
    contexts = set(partition_bookmarks(run.final_state, "teli_leads"))
    assert contexts == {
        json.dumps({"account": "partner", "org_id": orgs[name]}, sort_keys=True) for name in ORGS
    }
    # A few hundred bytes of state per account.
    state_bytes = len(json.dumps(run.final_state["bookmarks"]["autocalls_leads"]))
    assert state_bytes / len(AUTOCALLS) < 300


def test_a_second_run_emits_each_accounts_changes_only(emu, run_tap):
    config = config_of(emu)
    first = run_tap(config)
    assert first.returncode == 0, first.stderr
    acme = emu.listed_keys("autocalls", account="acme")
    initech = emu.listed_keys("autocalls", account="initech")
    emu.touch("autocalls", acme[:2], account="acme")
    emu.touch("autocalls", initech[5:6], account="initech")
    second = run_tap(config, first.final_state)
    assert second.returncode == 0, second.stderr
    changed = by_account(second, "autocalls_leads")
    # The changed leads, plus at most the lead(s) holding each account's old bookmark.
    assert set(acme[:2]) <= set(changed["acme"])
    assert set(initech[5:6]) <= set(changed["initech"])
    assert sum(len(ids) for ids in changed.values()) <= 3 + 3
    before = partition_bookmarks(first.final_state, "autocalls_leads")
    after = partition_bookmarks(second.final_state, "autocalls_leads")
    globex = json.dumps({"account": "globex"})
    assert after[globex] == before[globex]
    assert after[json.dumps({"account": "acme"})] > before[json.dumps({"account": "acme"})]


def test_one_account_with_a_bad_key_keeps_its_bookmark_and_the_others_go_on(emu, run_tap):
    config = config_of(emu)
    first = run_tap(config)
    for name in AUTOCALLS:
        emu.touch("autocalls", emu.listed_keys("autocalls", account=name)[:1], account=name)
    emu.revoke("autocalls", "globex")
    second = run_tap(config, first.final_state)
    assert second.returncode == 1
    assert second.errors[-1] == (
        "1 account(s) failed (4 other(s) completed): autocalls_leads[globex]: Autocalls "
        "account globex rejected the credentials (HTTP 401: Unauthenticated.). Check "
        "autocalls.accounts[globex].api_key."
    )
    key = config["autocalls"]["accounts"][1]["api_key"]
    assert key not in second.stderr
    assert key not in second.stdout
    before = partition_bookmarks(first.final_state, "autocalls_leads")
    after = partition_bookmarks(second.final_state, "autocalls_leads")
    assert after['{"account": "globex"}'] == before['{"account": "globex"}']
    for name in ("acme", "initech"):
        context = json.dumps({"account": name})
        assert after[context] > before[context]
    # Teli's organisations, unchanged, completed too: their bookmarks hold.
    assert partition_bookmarks(second.final_state, "teli_leads") == partition_bookmarks(
        first.final_state, "teli_leads"
    )


def test_the_single_block_form_is_byte_identical_to_before_accounts(run_tap):
    with LeadsEmulator(leads_per_provider=60, seed=21) as emu:
        config = emu.tap_config(
            start_date="2025-01-01T00:00:00Z", max_concurrent_requests=1, detect_deletes=False
        )
        run = run_tap(config)
    assert run.returncode == 0, run.stderr
    lines = []
    for message in run.messages:
        message.pop("time_extracted", None)
        lines.append(json.dumps(message, sort_keys=True))
    assert lines == GOLDEN.read_text().splitlines()


@pytest.mark.parametrize("shards", [2, 3])
def test_shards_together_take_every_account_exactly_once(run_tap, shards):
    names = [f"client-{n:02d}" for n in range(9)]
    with LeadsEmulator(
        leads_per_provider=5, seed=2, accounts={"autocalls": dict.fromkeys(names, 6)}
    ) as emu:
        config = emu.accounts_config(["autocalls"])
        seen: list[str] = []
        for k in range(shards):
            run = run_tap({**config, "shard": f"{k}/{shards}"})
            assert run.returncode == 0, run.stderr
            accounts = sorted(by_account(run, "autocalls_leads"))
            assert accounts == sorted(n for n in names if shard_of("autocalls", n, shards) == k)
            seen += accounts
            assert {r.account for r in emu.requests if r.provider == "autocalls"} <= set(names)
    assert sorted(seen) == names
