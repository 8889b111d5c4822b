"""Several accounts per provider through real Meltano: into PostgreSQL, and as parallel shards."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest

from emulator import LeadsEmulator
from tap_leads.providers.accounts import shard_of
from tests.e2e.conftest import Completed, MeltanoProject, meltano_env, read_jsonl
from tests.e2e.test_postgres import DATABASE, SCHEMA, postgres, target_env  # noqa: F401

pytestmark = pytest.mark.e2e

AUTOCALLS = {"acme": 30, "globex": 20, "initech": 12}
ORGS = {"North": 25, "South": 15}
SHARDS = 2
# Teli's partner and these names fall in both shards of two (see shard_of).
SHARDED_AUTOCALLS = {**AUTOCALLS, "umbrella": 15}
KEYS = {"autocalls_leads": "id", "teli_leads": "unique_id"}


def accounts_emulator(autocalls: dict[str, int]) -> LeadsEmulator:
    return LeadsEmulator(
        leads_per_provider=10, seed=17, accounts={"autocalls": autocalls, "teli": {"partner": ORGS}}
    )


@pytest.fixture(scope="module")
def accounts_emu():
    with accounts_emulator(AUTOCALLS) as emulator:
        yield emulator


@pytest.fixture(scope="module")
def sharded_emu():
    with accounts_emulator(SHARDED_AUTOCALLS) as emulator:
        yield emulator


def accounts_env(emu: LeadsEmulator) -> dict[str, str]:
    """The variables a user exports: each provider's accounts as one JSON list."""
    config = emu.accounts_config(
        ["autocalls", "teli"], autocalls={"page_size": 7}, teli={"page_size": 10}
    )
    env = meltano_env.tap_env(config)
    assert set(env) == {
        "TAP_LEADS_AUTOCALLS_API_URL",
        "TAP_LEADS_AUTOCALLS_PAGE_SIZE",
        "TAP_LEADS_AUTOCALLS_ACCOUNTS",
        "TAP_LEADS_TELI_API_URL",
        "TAP_LEADS_TELI_PAGE_SIZE",
        "TAP_LEADS_TELI_ACCOUNTS",
    }
    assert json.loads(env["TAP_LEADS_TELI_ACCOUNTS"])[0]["org_id"] == "*"
    return env


def project(tmp_path, emu: LeadsEmulator, **env: str) -> MeltanoProject:
    tmp_path.mkdir(parents=True, exist_ok=True)
    meltano = MeltanoProject(tmp_path, emu)
    for key in [key for key in meltano.env if key.startswith("TAP_LEADS_")]:
        del meltano.env[key]
    meltano.env.update({**accounts_env(emu), **env})
    return meltano


def expected_counts(emu: LeadsEmulator, autocalls: dict[str, int]) -> dict[str, dict[str, int]]:
    teli = sum(len(emu.listed_keys("teli", account="partner", org=org)) for org in ORGS)
    assert teli == sum(ORGS.values())
    return {
        "autocalls_leads": {
            name: len(emu.listed_keys("autocalls", account=name)) for name in autocalls
        },
        "teli_leads": {"partner": teli},
    }


def expected_pairs(emu: LeadsEmulator, accounts: set[str]) -> dict[str, set[tuple[str, str]]]:
    """(account, key) of every lead of these accounts, per stream."""
    autocalls = {
        (name, str(key))
        for name in accounts
        if name != "partner"
        for key in emu.listed_keys("autocalls", account=name)
    }
    teli = {
        ("partner", str(key))
        for org in ORGS
        if "partner" in accounts
        for key in emu.listed_keys("teli", account="partner", org=org)
    }
    return {"autocalls_leads": autocalls, "teli_leads": teli}


def test_accounts_land_in_postgres_keyed_by_account(
    meltano_installed,
    accounts_emu,
    postgres,  # noqa: F811
    tmp_path,
):
    emu = accounts_emu
    ids = {name: set(emu.listed_keys("autocalls", account=name)) for name in AUTOCALLS}
    # Every account numbers its leads from 1, so only (account, id) tells them apart.
    assert len(ids["acme"] & ids["globex"] & ids["initech"]) >= 5

    meltano = project(tmp_path, emu)
    run = meltano("run", "tap-leads", "target-postgres", **target_env(postgres)).check()
    print(f"\nmeltano run, accounts into PostgreSQL: {run.seconds:.1f} s")

    expected = expected_counts(emu, AUTOCALLS)
    with psycopg.connect(host=postgres, dbname=DATABASE, user="postgres") as conn:
        for table, per_account in expected.items():
            key = KEYS[table]
            columns = [
                name
                for (name,) in conn.execute(
                    "SELECT column_name FROM information_schema.columns "
                    "WHERE table_schema = %s AND table_name = %s",
                    (SCHEMA, table),
                ).fetchall()
            ]
            assert "account" in columns, table
            grouped = conn.execute(
                f"SELECT account, count(*) FROM {SCHEMA}.{table} GROUP BY account"
            ).fetchall()
            assert dict(grouped) == per_account, table
            rows, distinct = conn.execute(
                f'SELECT count(*), count(DISTINCT (account, "{key}")) FROM {SCHEMA}.{table}'
            ).fetchone()
            assert rows == distinct == sum(per_account.values()), table
            stored = {
                (account, str(value))
                for account, value in conn.execute(
                    f'SELECT account, "{key}" FROM {SCHEMA}.{table}'
                ).fetchall()
            }
            assert stored == expected_pairs(emu, set(per_account))[table], table
            primary = conn.execute(
                "SELECT a.attname FROM pg_index i "
                "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
                "WHERE i.indrelid = %s::regclass AND i.indisprimary "
                "ORDER BY array_position(i.indkey, a.attnum)",
                (f"{SCHEMA}.{table}",),
            ).fetchall()
            assert [name for (name,) in primary] == ["account", key], table


def run_at_once(runs: list[tuple[MeltanoProject, tuple[str, ...], dict[str, str]]]):
    """Start every run in its own thread at once; each returns (result, started, ended)."""

    def timed(meltano: MeltanoProject, args: tuple[str, ...], env: dict[str, str]):
        started = time.monotonic()
        result: Completed = meltano(*args, **env)
        return result, started, time.monotonic()

    with ThreadPoolExecutor(max_workers=len(runs)) as pool:
        futures = [pool.submit(timed, meltano, args, env) for meltano, args, env in runs]
        return [future.result() for future in futures]


def test_parallel_shards_load_every_account_once_each_with_its_state(
    meltano_installed, sharded_emu, tmp_path
):
    emu = sharded_emu
    accounts = [("autocalls", name) for name in SHARDED_AUTOCALLS] + [("teli", "partner")]
    shard_accounts = {
        k: {name for provider, name in accounts if shard_of(provider, name, SHARDS) == k}
        for k in range(SHARDS)
    }
    assert all(shard_accounts.values()), shard_accounts

    # Each shard is a job of its own (separate run files), sharing only the state backend,
    # as shards on separate machines would.
    backend = f"file://{tmp_path / 'state'}"
    shards = {
        k: project(tmp_path / f"shard-{k}", emu, MELTANO_STATE_BACKEND_URI=backend)
        for k in range(SHARDS)
    }
    outputs = {k: tmp_path / f"out-{k}" for k in range(SHARDS)}
    runs = [
        (
            shards[k],
            ("run", "--state-id-suffix", f"shard-{k}", "tap-leads", "target-jsonl"),
            {"TAP_LEADS_SHARD": f"{k}/{SHARDS}", "TARGET_JSONL_DESTINATION_PATH": str(outputs[k])},
        )
        for k in range(SHARDS)
    ]
    started = time.monotonic()
    results = run_at_once(runs)
    print(f"\ntwo shards side by side: {time.monotonic() - started:.1f} s")
    for result, _, _ in results:
        result.check()
    (_, start_0, end_0), (_, start_1, end_1) = results
    assert max(start_0, start_1) < min(end_0, end_1), "the shards did not run side by side"

    loaded_by_shard: dict[int, dict[str, list[tuple[str, str]]]] = {}
    for k in range(SHARDS):
        records = read_jsonl(outputs[k])
        loaded_by_shard[k] = {
            stream: [(r["account"], str(r[KEYS[stream]])) for r in records.get(stream, [])]
            for stream in KEYS
        }
        seen = {account for pairs in loaded_by_shard[k].values() for account, _ in pairs}
        assert seen == shard_accounts[k], k

    everything = expected_pairs(emu, set(SHARDED_AUTOCALLS) | {"partner"})
    for stream, expected in everything.items():
        together = [pair for k in range(SHARDS) for pair in loaded_by_shard[k][stream]]
        assert len(together) == len(set(together)), stream
        assert set(together) == expected, stream

    state_ids = [f"dev:tap-leads-to-target-jsonl:shard-{k}" for k in range(SHARDS)]
    assert sorted(shards[0].output("state", "list").split()) == state_ids
    for k in range(SHARDS):
        state = json.loads(shards[k].output("state", "get", state_ids[k]))
        bookmarks = state["singer_state"]["bookmarks"]
        contexts = {
            partition["context"]["account"]
            for stream in bookmarks.values()
            for partition in stream.get("partitions", [])
            if partition.get("replication_key_value")
        }
        assert contexts == shard_accounts[k], k
