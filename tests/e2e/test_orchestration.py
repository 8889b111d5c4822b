"""Shards on a real orchestrator: Dagster's multiprocess executor runs `meltano run` per
shard of orchestration/demo into PostgreSQL, with state in a PostgreSQL system database.

One scenario (a module fixture) runs, in order: 4 shards from scratch; 4 shards again after
some leads changed; a reshard to 6 after more changes and some deletions; 6 shards with one
account's credentials broken, then a retry of the failed shard alone with the fix. The
tests below each check one part of it.
"""

from __future__ import annotations

import json
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest

from emulator import LeadsEmulator
from orchestration.meltano_state import effective
from tap_leads.providers.accounts import shard_of
from tap_leads.timestamps import parse_timestamp
from tests.e2e.conftest import MELTANO, REPO, clean_environ, plugins_lock, run_logged
from tests.e2e.test_postgres import DATABASE, SCHEMA, postgres  # noqa: F401 - the fixture

pytestmark = pytest.mark.e2e

DAGSTER_PYTHON = REPO / ".venv-dagster" / "bin" / "python"
PROJECT = REPO / "orchestration" / "demo"
ACCOUNTS = 100
AUTOCALLS = {f"ac-{n:03d}": 3 + n % 4 for n in range(ACCOUNTS)}
TELI = {f"te-{n:03d}": 2 + n % 3 for n in range(ACCOUNTS)}
STREAMS = {"autocalls": ("autocalls_leads", "id"), "teli": ("teli_leads", "unique_id")}
RUN_TIMEOUT = 900


@dataclass
class Run:
    outcome: dict
    seconds: float
    emitted: dict[str, set[tuple[str, ...]]] = field(default_factory=dict)
    #: (provider, account) of every request the run made to the emulator.
    requested: list[tuple[str, str]] = field(default_factory=list)
    #: What `python -m orchestration` wrote, stdout and stderr.
    log_text: str = ""


@dataclass
class Scenario:
    emu: LeadsEmulator
    socket: str
    runs: dict[str, Run] = field(default_factory=dict)
    expected: dict[str, dict] = field(default_factory=dict)
    states: dict[str, dict] = field(default_factory=dict)
    warehouse: dict[str, dict] = field(default_factory=dict)
    requests: dict[str, int] = field(default_factory=dict)


@pytest.fixture(scope="module")
def dagster_installed(meltano_installed, tmp_path_factory) -> None:
    """.venv-dagster (and the PostgreSQL driver in .venv-meltano), made on demand."""
    log = tmp_path_factory.mktemp("dagster") / "setup.log"
    env = {**clean_environ(), "WITH_DAGSTER": "1", "OTHER_PYTHONS": "0"}
    with plugins_lock(exclusive=True):
        run_logged([str(REPO / "scripts" / "setup")], log, env=env, timeout=1800).check()


def warehouse_rows(conn: psycopg.Connection, provider: str) -> list[tuple[str, str, object]]:
    table, key = STREAMS[provider]
    return conn.execute(
        f'SELECT account, "{key}"::text, _sdc_batched_at FROM {SCHEMA}.{table}'
    ).fetchall()


class Pipeline:
    """`python -m orchestration` runs with the scenario's environment, and what they did."""

    def __init__(self, emu: LeadsEmulator, socket: str, workdir: Path) -> None:
        self.emu = emu
        self.socket = socket
        self.workdir = workdir
        self.calls = 0
        self.env = {
            **clean_environ(),
            "PYTHONPATH": str(REPO),
            "DAGSTER_HOME": str(workdir / "dagster"),
            "MELTANO_DATABASE_URI": f"postgresql+psycopg://postgres@/meltano?host={quote(socket)}",
            "TARGET_POSTGRES_SQLALCHEMY_URL": (
                f"postgresql+psycopg://postgres@/{DATABASE}?host={quote(socket)}"
            ),
            "TARGET_POSTGRES_ADD_RECORD_METADATA": "true",
            "LEADS_ORCH_PROJECT": str(PROJECT),
            "LEADS_ORCH_MELTANO": str(MELTANO),
            "LEADS_ORCH_PLUGINS": str(REPO / ".meltano"),
            "LEADS_ORCH_WORK_DIR": str(workdir / "shards"),
            "LEADS_ORCH_MAX_CONCURRENT": "4",
        }
        self.configure()

    def configure(self, broken: str | None = None) -> None:
        config = self.emu.accounts_config(["autocalls", "teli"])
        for account in config["autocalls"]["accounts"]:
            if account["name"] == broken:
                account["api_key"] = "revoked-key"
        self.env["TAP_LEADS_AUTOCALLS"] = json.dumps(config["autocalls"])
        self.env["TAP_LEADS_TELI"] = json.dumps(config["teli"])

    def batched_before(self) -> object:
        with psycopg.connect(host=self.socket, dbname=DATABASE, user="postgres") as conn:
            exists = conn.execute("SELECT to_regclass(%s)", (f"{SCHEMA}.autocalls_leads",))
            if exists.fetchone()[0] is None:
                return None
            return max(
                (row[2] for provider in STREAMS for row in warehouse_rows(conn, provider)),
                default=None,
            )

    def __call__(self, *args: str) -> Run:
        self.calls += 1
        log = self.workdir / f"orchestration-{self.calls}-{args[0]}.log"
        since = self.batched_before()
        first_request = len(self.emu.requests)
        with plugins_lock():
            done = run_logged(
                [str(DAGSTER_PYTHON), "-m", "orchestration", *args],
                log,
                env=self.env,
                timeout=RUN_TIMEOUT,
            )
        text = log.read_text()
        lines = [line for line in text.splitlines() if line.startswith('{"run_id"')]
        assert lines, f"no outcome line; last lines of {log}:\n{done.tail()}"
        outcome = json.loads(lines[-1])
        assert (done.returncode == 0) is outcome["success"], done.tail()
        run = Run(outcome, done.seconds, log_text=text)
        run.requested = [
            (r.provider, r.account)
            for r in self.emu.requests[first_request:]
            if r.provider in STREAMS
        ]
        with psycopg.connect(host=self.socket, dbname=DATABASE, user="postgres") as conn:
            for provider in STREAMS:
                run.emitted[provider] = {
                    (account, key)
                    for account, key, batched in warehouse_rows(conn, provider)
                    if since is None or batched > since
                }
            if conn.execute("SELECT to_regclass(%s)", (f"{SCHEMA}.deleted_leads",)).fetchone()[0]:
                rows = conn.execute(
                    f"SELECT stream, account, id, _sdc_batched_at FROM {SCHEMA}.deleted_leads"
                ).fetchall()
                run.emitted["deleted"] = {
                    (stream, account, key)
                    for stream, account, key, batched in rows
                    if since is None or batched > since
                }
        print(f"\n{' '.join(args)}: {done.seconds:.1f} s, {outcome}")
        return run

    def states(self) -> dict[str, dict]:
        """Every shard state of the pipeline by suffix (`shard-0-of-4`, `shards`), read with
        one `meltano state export`, as the next run of each would start from it."""
        env = {**self.env, "MELTANO_SYS_DIR_ROOT": str(self.workdir / "state-reader" / ".meltano")}
        with plugins_lock():
            done = subprocess.run(
                [str(MELTANO), "state", "export"],
                capture_output=True,
                text=True,
                env=env,
                cwd=PROJECT,
                timeout=300,
                check=False,
            )
        assert done.returncode == 0, done.stderr[-2000:]
        prefix = "dev:tap-leads-to-target-postgres:"
        return {
            state_id.removeprefix(prefix): effective(entry)
            for state_id, entry in json.loads(done.stdout).items()
            if state_id.startswith(prefix)
        }


def lead_keys(emu: LeadsEmulator, provider: str, account: str) -> set[tuple[str, str]]:
    key = STREAMS[provider][1]
    return {(account, str(lead[key])) for lead in emu.leads(provider, account=account)}


def everything(emu: LeadsEmulator) -> dict[str, set[tuple[str, str]]]:
    names = {"autocalls": AUTOCALLS, "teli": TELI}
    return {p: set().union(*(lead_keys(emu, p, a) for a in names[p])) for p in STREAMS}


def due(emu: LeadsEmulator, state: dict) -> dict[str, set[tuple[str, str]]]:
    """What a run from `state` may emit: per account, the leads at or after its bookmark."""
    found: dict[str, set[tuple[str, str]]] = {}
    for provider, (stream, key) in STREAMS.items():
        found[provider] = set()
        for entry in state["bookmarks"][stream]["partitions"]:
            account = entry["context"]["account"]
            bookmark = parse_timestamp(entry["replication_key_value"])
            for lead in emu.leads(provider, account=account):
                if parse_timestamp(lead["updated_at"]) >= bookmark:
                    found[provider].add((account, str(lead[key])))
    return found


def touch(emu: LeadsEmulator, provider: str, accounts: list[str]) -> set[tuple[str, str]]:
    """Change the first lead of each account; the (account, key) pairs changed."""
    key = STREAMS[provider][1]
    changed = set()
    for account in accounts:
        lead = emu.leads(provider, account=account)[0]
        emu.touch(provider, [lead[key]], account=account)
        changed.add((account, str(lead[key])))
    return changed


def shard_accounts(state: dict) -> set[tuple[str, str]]:
    return {
        (provider, entry["context"]["account"])
        for provider, (stream, _) in STREAMS.items()
        for entry in state.get("bookmarks", {}).get(stream, {}).get("partitions", [])
    }


def step(index: int, count: int) -> str:
    return f"run_shard[shard_{index}_of_{count}]"


BROKEN = "ac-042"


def succeeded(run: Run) -> None:
    """Stop the scenario at a run that failed, with each failed shard's own error lines."""
    assert run.outcome["success"], f"the run failed: {run.outcome['errors']}"


@pytest.fixture(scope="module")
def scenario(dagster_installed, postgres, tmp_path_factory):  # noqa: F811 - the fixture
    with psycopg.connect(host=postgres, dbname="postgres", user="postgres") as conn:
        conn.autocommit = True
        conn.execute("CREATE DATABASE meltano")
    with LeadsEmulator(
        leads_per_provider=3, seed=11, accounts={"autocalls": AUTOCALLS, "teli": TELI}
    ) as emu:
        s = Scenario(emu, postgres)
        run = Pipeline(emu, postgres, tmp_path_factory.mktemp("orchestration"))
        started = time.monotonic()

        s.runs["first"] = run("run", "--shards", "4")
        succeeded(s.runs["first"])
        s.expected["first"] = everything(emu)
        s.requests = {f"{r.provider}/{r.account}": 0 for r in emu.requests if r.provider in STREAMS}
        for r in emu.requests:
            if r.provider in STREAMS:
                s.requests[f"{r.provider}/{r.account}"] += 1
        found = run.states()
        s.states.update({f"first {k}": found[f"shard-{k}-of-4"] for k in range(4)})

        s.expected["second changed"] = {
            "autocalls": touch(emu, "autocalls", ["ac-001", "ac-050", "ac-099"]),
            "teli": touch(emu, "teli", ["te-007", "te-070"]),
        }
        s.runs["second"] = run("run", "--shards", "4")
        succeeded(s.runs["second"])
        s.expected["second"] = due(emu, run.states()["shards"])

        s.expected["reshard changed"] = {
            "autocalls": touch(emu, "autocalls", ["ac-002", "ac-060"]),
            "teli": touch(emu, "teli", ["te-008"]),
        }
        deleted = emu.delete_leads("autocalls", account="ac-010", n=2, start=0)
        s.expected["deleted"] = {("autocalls_leads", "ac-010", str(key)) for key in deleted}
        s.runs["reshard"] = run("run", "--shards", "6")
        succeeded(s.runs["reshard"])
        found = run.states()
        s.expected["reshard"] = due(emu, found["shards"])
        s.states["old ids after reshard"] = found["shard-0-of-4"]
        s.states.update({f"reshard {k}": found[f"shard-{k}-of-6"] for k in range(6)})

        others = [n for n in ("ac-003", "ac-004", "ac-005", "ac-006") if n != BROKEN]
        s.expected["broken changed"] = touch(emu, "autocalls", [BROKEN, *others])
        run.configure(broken=BROKEN)
        s.runs["broken"] = run("run", "--shards", "6")
        found = run.states()
        s.states.update({f"broken {k}": found[f"shard-{k}-of-6"] for k in range(6)})
        run.configure()
        s.runs["retry"] = run("retry", s.runs["broken"].outcome["run_id"])
        succeeded(s.runs["retry"])
        s.states["retried"] = run.states()[f"shard-{shard_of('autocalls', BROKEN, 6)}-of-6"]
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


def test_bad_settings_fail_in_one_line_naming_the_setting(dagster_installed, tmp_path):
    env = {**clean_environ(), "PYTHONPATH": str(REPO), "DAGSTER_HOME": str(tmp_path / "home")}
    command = [str(DAGSTER_PYTHON), "-m", "orchestration"]
    shards = subprocess.run(
        [*command, "run"],
        env={**env, "LEADS_ORCH_SHARDS": "four"},
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
        check=False,
    )
    assert shards.returncode == 1
    assert shards.stderr.strip() == (
        "orchestration: LEADS_ORCH_SHARDS must be a whole number of 1 or more, got 'four'"
    )
    retry = subprocess.run(
        [*command, "retry", "no-such-run"],
        env=env,
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
        check=False,
    )
    assert retry.returncode == 1
    assert retry.stderr.strip().splitlines()[-1] == (
        f"orchestration: no run no-such-run in DAGSTER_HOME={tmp_path / 'home'}"
    )
    # A project that is not there fails the first step, before any shard starts.
    missing = tmp_path / "no-project"
    project = subprocess.run(
        [*command, "run", "--shards", "2"],
        env={**env, "LEADS_ORCH_PROJECT": str(missing), "LEADS_ORCH_MELTANO": str(MELTANO)},
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
        check=False,
    )
    assert project.returncode == 1
    outcome = json.loads(project.stdout.strip().splitlines()[-1])
    assert outcome["failed"] == ["merge_shard_states"]
    message = f"no meltano.yml in {missing}: set LEADS_ORCH_PROJECT to a Meltano project"
    assert message in project.stderr
    assert "run_shard" not in project.stderr


def test_the_code_location_loads_as_dagster_loads_it(dagster_installed, tmp_path):
    env = {**clean_environ(), "PYTHONPATH": str(REPO), "DAGSTER_HOME": str(tmp_path)}
    done = subprocess.run(
        [
            str(DAGSTER_PYTHON.with_name("dagster")),
            *("definitions", "validate", "-m", "orchestration.definitions"),
        ],
        env=env,
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "All code locations passed validation." in done.stderr + done.stdout
