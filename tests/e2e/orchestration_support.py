"""What the orchestration tests share: the one way they run a command, the pipeline
runner that drives `python -m orchestration`, and the emulator's leads by account."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest

from emulator import LeadsEmulator
from orchestration.meltano_state import effective
from tap_leads.timestamps import parse_timestamp
from tests.e2e.conftest import MELTANO, REPO, clean_environ, plugins_lock, run_logged
from tests.e2e.test_postgres import DATABASE, SCHEMA

DAGSTER_PYTHON = REPO / ".venv-dagster" / "bin" / "python"
PROJECT = REPO / "orchestration" / "demo"
ACCOUNTS = 100
AUTOCALLS = {f"ac-{n:03d}": 3 + n % 4 for n in range(ACCOUNTS)}
TELI = {f"te-{n:03d}": 2 + n % 3 for n in range(ACCOUNTS)}
STREAMS = {"autocalls": ("autocalls_leads", "id"), "teli": ("teli_leads", "unique_id")}
RUN_TIMEOUT = 900
#: A quick command (a setting check, a state export, a validation) ends within this.
COMMAND_TIMEOUT = 300
BROKEN = "ac-042"


def run(
    cmd: list[str], env: dict[str, str], cwd: Path = REPO, timeout: float = COMMAND_TIMEOUT
) -> subprocess.CompletedProcess[str]:
    """Run a quick command to its end, its output captured as text; never raises on a
    non-zero exit, which the caller asserts on."""
    return subprocess.run(
        cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )


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
        result = Run(outcome, done.seconds, log_text=text)
        result.requested = [
            (r.provider, r.account)
            for r in self.emu.requests[first_request:]
            if r.provider in STREAMS
        ]
        with psycopg.connect(host=self.socket, dbname=DATABASE, user="postgres") as conn:
            for provider in STREAMS:
                result.emitted[provider] = {
                    (account, key)
                    for account, key, batched in warehouse_rows(conn, provider)
                    if since is None or batched > since
                }
            if conn.execute("SELECT to_regclass(%s)", (f"{SCHEMA}.deleted_leads",)).fetchone()[0]:
                rows = conn.execute(
                    f"SELECT stream, account, id, _sdc_batched_at FROM {SCHEMA}.deleted_leads"
                ).fetchall()
                result.emitted["deleted"] = {
                    (stream, account, key)
                    for stream, account, key, batched in rows
                    if since is None or batched > since
                }
        print(f"\n{' '.join(args)}: {done.seconds:.1f} s, {outcome}")
        return result

    def states(self) -> dict[str, dict]:
        """Every shard state of the pipeline by suffix (`shard-0-of-4`, `shards`), read with
        one `meltano state export`, as the next run of each would start from it."""
        env = {**self.env, "MELTANO_SYS_DIR_ROOT": str(self.workdir / "state-reader" / ".meltano")}
        with plugins_lock():
            done = run([str(MELTANO), "state", "export"], env, cwd=PROJECT)
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


def succeeded(result: Run) -> None:
    """Stop the scenario at a run that failed, with each failed shard's own error lines."""
    assert result.outcome["success"], f"the run failed: {result.outcome['errors']}"
