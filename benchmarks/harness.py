"""tap-leads side by side with raw client floors (and a stock singer-sdk tap), in one run.

Every client runs as its own process tree against an emulator running in another process,
with its stdout drained and its RECORD lines counted here. Wall time, CPU time summed over
the client's whole process tree, the peak of its summed RSS and the number of processes it
started come from measure_child.py. See benchmarks/README.md for how to read the output.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks"
RESULTS_DIR = BENCH / "results"
# The raw shared-pool client's threads: the tap's default max_concurrent_requests.
POOL = 8
# Each provider's largest page, which every client asks for.
PAGE_SIZES = {"teli": 200, "nexus_erp": 100, "autocalls": 100}
SCENARIOS = ("50ms", "cpu", "memory", "accounts")
RECORD_MARK = b'{"type":"RECORD"'
STATE_MARK = b'{"type":"STATE"'
EMULATOR_START_SECONDS = 300
STDERR_TAIL_LINES = 15
MIB = 1024 * 1024
# Where the tap's package is read from: the work tree, or a revision exported by --tap-rev.
TAP_ROOT = ROOT


@dataclass(frozen=True)
class Client:
    key: str
    label: str

    def command(self, config: Path, stock_config: Path | None) -> list[str]:
        python = sys.executable
        if self.key == "tap":
            script = Path(python).parent / "tap-leads"
            launcher = [str(script)] if script.exists() else [python, "-m", "tap_leads"]
            return [*launcher, "--config", str(config)]
        if self.key == "raw_seq":
            return [python, str(BENCH / "raw_client.py"), "--config", str(config)]
        if self.key == "raw_pool":
            raw = [python, str(BENCH / "raw_client.py"), "--config", str(config)]
            return [*raw, "--pool", str(POOL)]
        if self.key == "stock":
            assert stock_config is not None
            return [python, str(BENCH / "stock_tap.py"), "--config", str(stock_config)]
        raise ValueError(self.key)


TAP = Client("tap", "tap-leads")
RAW_SEQ = Client("raw_seq", "raw client, sequential")
RAW_POOL = Client("raw_pool", f"raw client, shared pool of {POOL}")
STOCK = Client("stock", "stock singer-sdk tap (Teli)")
LABELS = {client.key: client.label for client in (TAP, RAW_SEQ, RAW_POOL, STOCK)}


@dataclass(frozen=True)
class Case:
    """One emulator set-up and the clients measured against it."""

    key: str
    scenario: str
    latency_ms: float
    # Leads per provider (per account, in the accounts form).
    leads: dict[str, int]
    clients: tuple[tuple[Client, int], ...]
    accounts: dict[str, int] | None = None

    @property
    def total_leads(self) -> int:
        per = self.accounts or {}
        return sum(count * per.get(provider, 1) for provider, count in self.leads.items())

    @property
    def account_count(self) -> int:
        return sum((self.accounts or {}).values())

    @property
    def pages(self) -> int:
        per = self.accounts or {}
        return sum(
            -(-count // PAGE_SIZES[provider]) * per.get(provider, 1)
            for provider, count in self.leads.items()
        )

    def describe(self) -> str:
        sizes = ", ".join(f"{provider} {count:,}" for provider, count in self.leads.items())
        if self.accounts:
            counts = ", ".join(f"{count} {provider}" for provider, count in self.accounts.items())
            sizes = f"{self.account_count} accounts ({counts}), {sizes} leads each"
        else:
            sizes += " leads"
        return f"{sizes}, {self.latency_ms:g} ms per request"


@dataclass
class Run:
    case: str
    scenario: str
    client: str
    leads: int
    wall_s: float = 0.0
    tree_wall_s: float = 0.0
    cpu_user_s: float = 0.0
    cpu_system_s: float = 0.0
    peak_rss_mib: float = 0.0
    max_single_rss_mib: float = 0.0
    processes: int = 0
    peak_processes: int = 0
    records: int = 0
    lines: int = 0
    stdout_mb: float = 0.0
    state_bytes: int | None = None
    first_record_s: float | None = None
    emulator_cpu_s: float | None = None
    measurer_cpu_s: float | None = None
    subreaper: bool | None = None
    exit_code: int | None = None
    # Digest of tap_leads/ when the run started (tap runs only).
    tap_source: str | None = None
    warm_up: bool = False
    error: str | None = None
    stderr_tail: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def cpu_s(self) -> float:
        return self.cpu_user_s + self.cpu_system_s


class Deadline:
    """The whole benchmark's time budget, so that no step can run unbounded."""

    def __init__(self, minutes: float) -> None:
        self.end = time.monotonic() + minutes * 60

    def bound(self, seconds: float) -> float:
        remaining = self.end - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("the benchmark ran past --max-minutes")
        return min(seconds, remaining)


class Unsupported(Exception):
    """A scenario the tap or the emulator cannot run yet."""


class OutputCounter:
    """Counts complete RECORD lines, and keeps the last STATE line, of a stream fed in chunks."""

    def __init__(self) -> None:
        self.records = 0
        self.lines = 0
        self.bytes = 0
        self.last_state: bytes | None = None
        self._partial = b""

    def feed(self, chunk: bytes) -> None:
        self.bytes += len(chunk)
        data = self._partial + chunk if self._partial else chunk
        cut = data.rfind(b"\n") + 1
        if cut == 0:
            self._partial = data
            return
        complete, self._partial = data[:cut], data[cut:]
        self.lines += complete.count(b"\n")
        # Every line of `complete` starts at 0 or right after a newline inside it.
        self.records += complete.count(b"\n" + RECORD_MARK) + complete.startswith(RECORD_MARK)
        state = complete.rfind(b"\n" + STATE_MARK) + 1
        if state == 0 and not complete.startswith(STATE_MARK):
            return
        self.last_state = complete[state : complete.index(b"\n", state)]


class Emulator:
    """The provider emulator in its own process (its CPU is never the client's)."""

    def __init__(self, case: Case, workdir: Path) -> None:
        self.case = case
        self.workdir = workdir
        self.config_path = workdir / f"emulator-{case.key}.json"
        self.log_path = workdir / f"emulator-{case.key}.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.config: dict[str, Any] = {}

    def start(self, deadline: Deadline) -> Emulator:
        spec = {"latency_ms": self.case.latency_ms, "leads": self.case.leads}
        if self.case.accounts:
            spec["accounts"] = self.case.accounts
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [
                sys.executable,
                str(BENCH / "serve_emulator.py"),
                orjson.dumps(spec).decode(),
                str(self.config_path),
            ],
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        give_up = time.monotonic() + deadline.bound(EMULATOR_START_SECONDS)
        while time.monotonic() < give_up:
            with contextlib.suppress(OSError, ValueError):
                written = orjson.loads(self.config_path.read_bytes())
                if "unsupported" in written:
                    raise Unsupported(written["unsupported"])
                self.config = written["config"]
                return self
            if self.process.poll() is not None:
                raise RuntimeError(f"the emulator exited at start:\n{self._log_tail()}")
            time.sleep(0.1)
        raise TimeoutError(f"the emulator did not start in {EMULATOR_START_SECONDS} s")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)

    def _log_tail(self) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-20:])
        return ""

    def cpu_seconds(self) -> float | None:
        """CPU time the emulator has used so far, from /proc (None where there is none)."""
        if self.process is None:
            return None
        try:
            stat = Path(f"/proc/{self.process.pid}/stat").read_text()
            fields = stat.rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            return None
        # Fields 14 and 15 of stat(5) (utime, stime), counted after the ")" of the name.
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def write_client_configs(self) -> tuple[Path, Path | None]:
        """The tap's config (also the raw clients'), and the stock tap's flat Teli one."""
        config = {}
        for provider in self.case.leads:
            config[provider] = {**self.config[provider], "page_size": PAGE_SIZES[provider]}
        tap_config = self.workdir / f"tap-{self.case.key}.json"
        tap_config.write_bytes(orjson.dumps(config))
        stock_config = None
        if "teli" in config and "accounts" not in config["teli"]:
            stock_config = self.workdir / f"stock-{self.case.key}.json"
            stock_config.write_bytes(orjson.dumps(config["teli"]))
        return tap_config, stock_config


def kill_group(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


def measure(
    case: Case, client: Client, command: list[str], emulator: Emulator, timeout: float
) -> Run:
    """One run of one client: its process tree's wall, CPU, RSS and processes, and its output."""
    run = Run(case=case.key, scenario=case.scenario, client=client.key, leads=case.total_leads)
    counter = OutputCounter()
    timed_out = threading.Event()
    report = emulator.workdir / "child.json"
    report.unlink(missing_ok=True)
    first_record_at = None
    with tempfile.TemporaryFile() as stderr:
        emulator_cpu_before = emulator.cpu_seconds()
        process = subprocess.Popen(
            [sys.executable, str(BENCH / "measure_child.py"), str(report), *command],
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=stderr,
            start_new_session=True,
        )

        def expire() -> None:
            timed_out.set()
            kill_group(process)

        timer = threading.Timer(timeout, expire)
        timer.daemon = True
        timer.start()
        try:
            assert process.stdout is not None
            fd = process.stdout.fileno()
            while chunk := os.read(fd, 1 << 20):
                if first_record_at is None and RECORD_MARK in chunk:
                    first_record_at = time.monotonic()
                counter.feed(chunk)
            process.wait()
        finally:
            timer.cancel()
            if process.returncode is None:
                kill_group(process)
                process.wait()
            process.stdout.close()
        emulator_cpu_after = emulator.cpu_seconds()
        stderr.seek(0)
        tail = stderr.read().decode(errors="replace").splitlines()[-STDERR_TAIL_LINES:]
    run.records, run.lines = counter.records, counter.lines
    run.stdout_mb = counter.bytes / 1e6
    if counter.last_state is not None:
        run.state_bytes = len(counter.last_state)
    if emulator_cpu_before is not None and emulator_cpu_after is not None:
        run.emulator_cpu_s = emulator_cpu_after - emulator_cpu_before
    try:
        usage = orjson.loads(report.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        usage = None
    if usage is not None:
        run.wall_s = usage["wall_s"]
        run.tree_wall_s = usage["tree_wall_s"]
        run.exit_code = usage["exit_code"]
        run.cpu_user_s = usage["cpu_user_s"]
        run.cpu_system_s = usage["cpu_system_s"]
        run.peak_rss_mib = usage["peak_tree_rss_kb"] / 1024
        run.max_single_rss_mib = usage["max_single_rss_kb"] / 1024
        run.processes = usage["processes"]
        run.peak_processes = usage["peak_processes"]
        run.measurer_cpu_s = usage["measurer_cpu_s"]
        run.subreaper = usage["subreaper"]
        if first_record_at is not None:
            run.first_record_s = first_record_at - usage["started"]
    if timed_out.is_set():
        run.error = f"killed after the {timeout:g} s timeout"
    elif usage is None:
        run.error = f"no measurement (the wrapper exited with {process.returncode})"
    elif run.exit_code != 0:
        run.error = f"exited with {run.exit_code}"
    elif run.records != run.leads:
        run.error = f"{run.records} RECORD lines, expected {run.leads}"
    if run.error:
        run.stderr_tail = tail
    return run


# ----- orchestration ----------------------------------------------------------


@dataclass(frozen=True)
class Sizes:
    per_provider_50ms: int
    cpu_leads: int
    memory_small: int
    memory_absolute: int
    accounts_large: dict[str, int]
    accounts_small: dict[str, int]
    leads_per_account: int


FULL = Sizes(
    per_provider_50ms=20_000,
    cpu_leads=100_000,
    memory_small=10_000,
    memory_absolute=40_000,
    accounts_large={"autocalls": 100, "teli": 100},
    accounts_small={"autocalls": 10, "teli": 10},
    leads_per_account=500,
)
# The absolute memory goal is stated at 40,000 leads, so quick mode keeps that size.
QUICK = Sizes(
    per_provider_50ms=4_000,
    cpu_leads=20_000,
    memory_small=2_000,
    memory_absolute=40_000,
    accounts_large={"autocalls": 20, "teli": 20},
    accounts_small={"autocalls": 2, "teli": 2},
    leads_per_account=500,
)
MEMORY_LIMIT_MIB = 120


@dataclass
class Plan:
    sizes: Sizes
    runs: int
    stock_runs: int
    scenarios: tuple[str, ...]
    run_timeout: float | None
    deadline: Deadline
    workdir: Path
    skipped: dict[str, str] = field(default_factory=dict)

    def cases(self) -> list[Case]:
        sizes, runs = self.sizes, self.runs
        found = []
        if "50ms" in self.scenarios:
            leads = dict.fromkeys(("teli", "nexus_erp", "autocalls"), sizes.per_provider_50ms)
            clients = ((TAP, runs), (RAW_POOL, runs), (RAW_SEQ, runs))
            found.append(Case("50ms", "50ms", 50.0, leads, clients))
        if "cpu" in self.scenarios:
            clients = ((TAP, runs), (RAW_SEQ, runs), (STOCK, min(self.stock_runs, runs)))
            found.append(Case("cpu", "cpu", 0.0, {"teli": sizes.cpu_leads}, clients))
        if "memory" in self.scenarios:
            for leads in (sizes.memory_small, sizes.memory_absolute):
                found.append(Case(f"mem-{leads}", "memory", 0.0, {"teli": leads}, ((TAP, runs),)))
            # The cpu scenario's tap runs measure the large size, when it runs.
            if "cpu" not in self.scenarios:
                leads = sizes.cpu_leads
                found.append(Case(f"mem-{leads}", "memory", 0.0, {"teli": leads}, ((TAP, runs),)))
        if "accounts" in self.scenarios:
            per = dict.fromkeys(("autocalls", "teli"), sizes.leads_per_account)
            for accounts, clients in (
                (sizes.accounts_large, ((TAP, runs), (RAW_POOL, runs))),
                (sizes.accounts_small, ((TAP, runs),)),
            ):
                key = f"accounts-{sum(accounts.values())}"
                found.append(Case(key, "accounts", 50.0, per, clients, accounts))
        return [case for case in found if case.clients[0][1] > 0]


def tap_supports_accounts() -> str | None:
    """None when the tap's settings have an accounts list, else why the scenario is skipped."""
    command = Client("tap", "").command(Path("-"), None)[:-2]
    try:
        about = subprocess.run(
            [*command, "--about", "--format", "json"],
            cwd=ROOT,
            capture_output=True,
            timeout=120,
            check=True,
        )
        settings = orjson.loads(about.stdout)["settings"]["properties"]
    except (OSError, subprocess.SubprocessError, orjson.JSONDecodeError, KeyError) as exc:
        return f"could not read the tap's settings ({exc})"
    missing = [
        provider
        for provider in ("autocalls", "teli")
        if "accounts" not in settings.get(provider, {}).get("properties", {})
    ]
    if missing:
        return f"the tap has no accounts setting yet (none under {', '.join(missing)})"
    return None


@contextlib.contextmanager
def running_emulator(plan: Plan, case: Case) -> Iterator[Emulator]:
    emulator = Emulator(case, plan.workdir)
    try:
        say(f"  starting the emulator: {case.describe()}")
        emulator.start(plan.deadline)
        yield emulator
    finally:
        emulator.stop()


def run_timeout(plan: Plan, case: Case) -> float:
    if plan.run_timeout:
        return plan.run_timeout
    # Generous: several times the slowest client's expected time on a busy small machine.
    return 120 + case.pages * (case.latency_ms / 1000 * 2 + 0.5)


def warm_up(plan: Plan, case: Case, emulator: Emulator, config: Path) -> list[Run]:
    """One unmeasured run of the raw client and of the tap: the emulator renders each page
    once per query string it is asked with, so every measured run then finds the same work
    done (the raw clients and the stock tap send the same query strings)."""
    runs = []
    timeout = plan.deadline.bound(run_timeout(plan, case))
    for client in (RAW_POOL, TAP):
        run = measure(case, client, client.command(config, None), emulator, timeout)
        run.warm_up = True
        runs.append(run)
        say(f"    {case.key:>13} {client.label:<32} warm-up: {describe(run)}")
    return runs


def run_round_robin(plan: Plan, case: Case, emulator: Emulator) -> list[Run]:
    """Every client's runs, interleaved round by round so that drifting load hits all alike."""
    config, stock_config = emulator.write_client_configs()
    runs = warm_up(plan, case, emulator, config)
    timeout = run_timeout(plan, case)
    rounds = max(count for _, count in case.clients)
    for index in range(rounds):
        active = [client for client, count in case.clients if index < count]
        shift = index % len(active)
        for client in active[shift:] + active[:shift]:
            command = client.command(config, stock_config)
            source = tap_fingerprint() if client is TAP else None
            run = measure(case, client, command, emulator, plan.deadline.bound(timeout))
            run.tap_source = source
            runs.append(run)
            say(f"    {case.key:>13} {client.label:<32} run {index + 1}: {describe(run)}")
    return runs


def describe(run: Run) -> str:
    if not run.ok:
        return f"FAILED ({run.error})"
    return (
        f"{run.wall_s:6.2f} s wall, {run.cpu_s:6.2f} s CPU, {run.peak_rss_mib:6.1f} MiB, "
        f"{run.processes} proc, {run.records:,} records"
    )


def execute(plan: Plan) -> list[Run]:
    runs: list[Run] = []
    accounts_checked = False
    for case in plan.cases():
        if case.scenario in plan.skipped:
            continue
        if case.accounts and not accounts_checked:
            accounts_checked = True
            why = tap_supports_accounts()
            if why:
                plan.skipped["accounts"] = why
                say(f"Scenario accounts: SKIPPED: {why}")
                continue
        say(f"Scenario {case.scenario}, case {case.key}")
        try:
            with running_emulator(plan, case) as emulator:
                runs += run_round_robin(plan, case, emulator)
        except Unsupported as exc:
            plan.skipped[case.scenario] = str(exc)
            say(f"Scenario {case.scenario}: SKIPPED: {exc}")
    return runs


# ----- summary ----------------------------------------------------------------


@dataclass
class Row:
    case: str
    scenario: str
    client: str
    label: str
    leads: int
    runs: int
    failed: int
    wall_s: float | None
    leads_per_s: float | None
    cpu_s: float | None
    peak_rss_mib: float | None
    max_single_rss_mib: float | None
    processes: float | None
    state_bytes: float | None
    emulator_cpu_s: float | None
    first_record_s: float | None


@dataclass
class Check:
    name: str
    value: float | None
    goal: str
    result: str


def median(values: list[float | None]) -> float | None:
    present = [value for value in values if value is not None]
    return statistics.median(present) if present else None


def summarize(runs: list[Run]) -> list[Row]:
    rows: list[Row] = []
    groups: dict[tuple[str, str], list[Run]] = {}
    for run in runs:
        if not run.warm_up:
            groups.setdefault((run.case, run.client), []).append(run)
    for (case, client), group in groups.items():
        good = [run for run in group if run.ok]
        wall = median([run.wall_s for run in good])
        leads = group[0].leads
        rows.append(
            Row(
                case=case,
                scenario=group[0].scenario,
                client=client,
                label=LABELS[client],
                leads=leads,
                runs=len(group),
                failed=len(group) - len(good),
                wall_s=wall,
                leads_per_s=leads / wall if wall else None,
                cpu_s=median([run.cpu_s for run in good]),
                peak_rss_mib=median([run.peak_rss_mib for run in good]),
                max_single_rss_mib=median([run.max_single_rss_mib for run in good]),
                processes=median([run.processes for run in good]),
                state_bytes=median([run.state_bytes for run in good]),
                emulator_cpu_s=median([run.emulator_cpu_s for run in good]),
                first_record_s=median([run.first_record_s for run in good]),
            )
        )
    return rows


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return numerator / denominator


def checks(rows: list[Row], plan: Plan) -> list[Check]:
    def get(case: str, client: str, attr: str) -> float | None:
        for row in rows:
            if row.case == case and row.client == client:
                return getattr(row, attr)
        return None

    sizes = plan.sizes
    large = "cpu" if "cpu" in plan.scenarios else f"mem-{sizes.cpu_leads}"
    big = f"accounts-{sum(sizes.accounts_large.values())}"
    small = f"accounts-{sum(sizes.accounts_small.values())}"
    n50 = sizes.per_provider_50ms
    found = [
        (
            "50ms",
            f"50 ms, 3 x {n50:,}: tap / raw pool wall",
            ratio(get("50ms", "tap", "wall_s"), get("50ms", "raw_pool", "wall_s")),
            "<=",
            1.15,
        ),
        (
            "50ms",
            f"50 ms, 3 x {n50:,}: tap / raw sequential wall",
            ratio(get("50ms", "tap", "wall_s"), get("50ms", "raw_seq", "wall_s")),
            "<=",
            0.2,
        ),
        (
            "cpu",
            f"0 ms, {sizes.cpu_leads:,}: tap / raw sequential CPU (aim 1.2)",
            ratio(get("cpu", "tap", "cpu_s"), get("cpu", "raw_seq", "cpu_s")),
            "<=",
            1.5,
        ),
        (
            "memory",
            f"peak RSS sum, {sizes.cpu_leads:,} / {sizes.memory_small:,} leads",
            ratio(
                get(large, "tap", "peak_rss_mib"),
                get(f"mem-{sizes.memory_small}", "tap", "peak_rss_mib"),
            ),
            "<=",
            1.3,
        ),
        (
            "memory",
            f"peak RSS sum at {sizes.memory_absolute:,} leads, MiB",
            get(f"mem-{sizes.memory_absolute}", "tap", "peak_rss_mib"),
            "<",
            MEMORY_LIMIT_MIB,
        ),
        (
            "accounts",
            f"{sum(sizes.accounts_large.values())} accounts, 50 ms: tap / raw pool wall",
            ratio(get(big, "tap", "wall_s"), get(big, "raw_pool", "wall_s")),
            "<=",
            1.2,
        ),
        (
            "accounts",
            f"peak RSS sum, {sum(sizes.accounts_large.values())} / "
            f"{sum(sizes.accounts_small.values())} accounts",
            ratio(get(big, "tap", "peak_rss_mib"), get(small, "tap", "peak_rss_mib")),
            "<=",
            1.3,
        ),
    ]
    result = []
    for scenario, name, value, op, goal in found:
        if scenario in plan.skipped:
            verdict = "SKIP"
        elif scenario not in plan.scenarios or value is None:
            verdict = "n/a (not measured)"
        else:
            passed = {"<=": value <= goal, "<": value < goal}[op]
            verdict = "PASS" if passed else "FAIL"
        result.append(Check(name, value, f"{op} {goal:g}", verdict))
    return result


def informational(rows: list[Row], plan: Plan) -> list[tuple[str, float | None]]:
    def get(case: str, client: str, attr: str) -> float | None:
        for row in rows:
            if row.case == case and row.client == client:
                return getattr(row, attr)
        return None

    big = f"accounts-{sum(plan.sizes.accounts_large.values())}"
    state = get(big, "tap", "state_bytes")
    accounts = sum(plan.sizes.accounts_large.values())
    return [
        (
            "tap / stock-tap throughput, 0 ms",
            ratio(get("cpu", "tap", "leads_per_s"), get("cpu", "stock", "leads_per_s")),
        ),
        (
            "stock tap / tap CPU, 0 ms",
            ratio(get("cpu", "stock", "cpu_s"), get("cpu", "tap", "cpu_s")),
        ),
        (
            "tap / raw sequential wall, 0 ms",
            ratio(get("cpu", "tap", "wall_s"), get("cpu", "raw_seq", "wall_s")),
        ),
        (
            "raw sequential / raw pool wall, 50 ms",
            ratio(get("50ms", "raw_seq", "wall_s"), get("50ms", "raw_pool", "wall_s")),
        ),
        (
            "tap / raw pool CPU, 50 ms",
            ratio(get("50ms", "tap", "cpu_s"), get("50ms", "raw_pool", "cpu_s")),
        ),
        (f"final STATE bytes per account, {accounts} accounts", ratio(state, accounts)),
    ]


# ----- machine and output -----------------------------------------------------


def machine() -> dict[str, Any]:
    model = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory_gb = None
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    return {
        "cpu_model": model,
        "cores": os.cpu_count(),
        "usable_cores": usable,
        "memory_gb": memory_gb,
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "platform": platform.platform(),
    }


def versions() -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    for name in ("tap-leads", "singer-sdk", "requests", "orjson", "msgspec"):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    found["git"] = None
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        found["git"] = subprocess.run(
            ["git", "describe", "--always", "--dirty"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    return found


def tap_fingerprint() -> str:
    """A digest of the tap's source, to tell whether it changed while the benchmark ran."""
    digest = hashlib.sha256()
    for path in sorted((TAP_ROOT / "tap_leads").rglob("*")):
        if path.is_file() and path.suffix in (".py", ".json"):
            digest.update(str(path.relative_to(TAP_ROOT)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def report(
    plan: Plan,
    rows: list[Row],
    found: list[Check],
    info: list[tuple[str, float | None]],
    context: dict[str, Any],
) -> str:
    host = context["machine"]
    pages = ", ".join(f"{provider} {size}" for provider, size in PAGE_SIZES.items())
    lines = [
        "",
        f"tap-leads benchmark: median of {plan.runs} run(s) unless noted; page sizes {pages}",
        f"machine: {host['cpu_model']}, {host['cores']} cores ({host['usable_cores']} usable), "
        f"{host['memory_gb']} GB, {host['python']}, {host['platform']}",
        "load average (1 min): {:.2f} at start, {:.2f} at end".format(*context["load_average"]),
        "versions: "
        + ", ".join(f"{k} {v}" for k, v in context["versions"].items())
        + f", tap_leads/ sha256 {context['tap_source_sha256']}"
        + (f" (git {context['tap_rev']})" if context["tap_rev"] else " (work tree)"),
        "",
        f"{'case':<13}{'client':<33}{'leads':>9}{'runs':>5}{'wall s':>8}{'leads/s':>9}"
        f"{'CPU s':>7}{'RSS MiB':>8}{'procs':>6}{'1st rec':>8}{'emu CPU':>8}",
    ]
    for row in rows:
        runs = f"{row.runs - row.failed}" + (f"!{row.failed}" if row.failed else "")
        lines.append(
            f"{row.case:<13}{row.label:<33}{row.leads:>9,}{runs:>5}"
            f"{fmt(row.wall_s, '.2f'):>8}{fmt(row.leads_per_s, ',.0f'):>9}"
            f"{fmt(row.cpu_s, '.2f'):>7}{fmt(row.peak_rss_mib, '.1f'):>8}"
            f"{fmt(row.processes, '.0f'):>6}"
            f"{fmt(row.first_record_s, '.2f'):>8}{fmt(row.emulator_cpu_s, '.2f'):>8}"
        )
    lines += ["", f"{'check':<58}{'value':>8}  {'goal':<8}result"]
    for check in found:
        lines.append(f"{check.name:<58}{fmt(check.value, '.2f'):>8}  {check.goal:<8}{check.result}")
    for scenario, why in plan.skipped.items():
        lines.append(f"  {scenario} skipped: {why}")
    lines += ["", "for information:"]
    lines += [f"  {name:<56}{fmt(value, '.2f'):>8}" for name, value in info]
    lines += ["", *[f"note: {note}" for note in context["notes"]]]
    return "\n".join(lines)


def notes(plan: Plan, runs: list[Run]) -> list[str]:
    found = [
        "wall s: from the client's start to its exit, interpreter start-up included; "
        "CPU s: user + system time summed over every process of the client's tree "
        "(RUSAGE_CHILDREN of a subreaper that reaps them all); RSS MiB: the peak of the "
        "tree's summed resident sets, sampled every 20 ms; procs: processes in the tree, "
        "the client itself included.",
        "emu CPU is the emulator's CPU time during the run (it runs in its own process, and "
        "an unmeasured warm-up run of the raw client and of the tap renders every page first).",
        "runs are interleaved round by round; on a shared machine compare the ratios, "
        "not the absolute numbers.",
    ]
    if "cpu" in plan.scenarios:
        found.append(
            f"the stock tap runs {min(plan.stock_runs, plan.runs)} time(s) (--stock-runs) in "
            "the cpu scenario only; it enters no check."
        )
    if "memory" in plan.scenarios and "cpu" in plan.scenarios:
        found.append(
            f"peak RSS at {plan.sizes.cpu_leads:,} leads comes from the tap's runs of the cpu "
            "scenario."
        )
    if any(run.subreaper is False for run in runs):
        found.append(
            "this system refused PR_SET_CHILD_SUBREAPER: processes orphaned by the tap were "
            "not reaped by the measurer, so their CPU may be missing."
        )
    failed = [run for run in runs if not run.ok and not run.warm_up]
    if failed:
        found.append(
            f"{len(failed)} run(s) failed and are left out of the medians (the runs column "
            "shows good!failed)."
        )
    return found


def say(message: str) -> None:
    print(message, flush=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="scripts/benchmark",
        description="tap-leads against raw client floors, with the goals checked.",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smaller sizes (3 x 4,000 at 50 ms, 20,000 at 0 ms, 40 accounts), 1 run",
    )
    parser.add_argument("--runs", type=int, help="runs per client and case (default 3, quick 1)")
    parser.add_argument(
        "--only",
        action="append",
        choices=SCENARIOS,
        help="run only this scenario (repeatable): " + ", ".join(SCENARIOS),
    )
    parser.add_argument(
        "--stock-runs",
        type=int,
        default=1,
        help="runs of the stock tap in the cpu scenario, at most --runs (default 1; 0 skips it)",
    )
    parser.add_argument(
        "--run-timeout", type=float, help="seconds one client run may take (default: by size)"
    )
    parser.add_argument(
        "--max-minutes", type=float, default=60, help="budget of the whole benchmark (60)"
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=RESULTS_DIR / "latest.json",
        help="where the JSON results go (default benchmarks/results/latest.json)",
    )
    parser.add_argument(
        "--tap-rev",
        metavar="REV",
        help="measure tap_leads/ as committed at this git revision, not the work tree's",
    )
    parser.add_argument(
        "--strict", action="store_true", help="exit 1 when a check fails, not only a run"
    )
    args = parser.parse_args(argv)
    if args.runs is None:
        args.runs = 1 if args.quick else 3
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    return args


def export_tap(rev: str, into: Path) -> Path:
    """tap_leads/ of a git revision, in a directory that goes first on the tap's PYTHONPATH.

    An installed (or editable) tap-leads comes later on sys.path, so this copy wins; the
    work tree is never touched."""
    target = into / "tap-source"
    target.mkdir()
    archive = subprocess.run(
        ["git", "archive", "--format=tar", rev, "--", "tap_leads"],
        cwd=ROOT,
        capture_output=True,
        timeout=60,
        check=True,
    )
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout, check=True, timeout=60)
    os.environ["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(target), os.environ.get("PYTHONPATH")])
    )
    return target


def main(argv: list[str] | None = None) -> int:
    global TAP_ROOT  # noqa: PLW0603
    args = parse_args(argv)
    tap_dir = tempfile.TemporaryDirectory(prefix="tap-leads-source-")
    if args.tap_rev:
        TAP_ROOT = export_tap(args.tap_rev, Path(tap_dir.name))
    # SIGTERM (e.g. from timeout(1)) unwinds like Ctrl-C, so the emulator is stopped.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    started_at = datetime.now(UTC)
    started = time.monotonic()
    load_start = os.getloadavg()[0]
    tap_source = tap_fingerprint()
    found_versions = versions()
    scenarios = tuple(s for s in SCENARIOS if not args.only or s in args.only)
    with tempfile.TemporaryDirectory(prefix="tap-leads-bench-") as workdir:
        plan = Plan(
            sizes=QUICK if args.quick else FULL,
            runs=args.runs,
            stock_runs=max(0, args.stock_runs),
            scenarios=scenarios,
            run_timeout=args.run_timeout,
            deadline=Deadline(args.max_minutes),
            workdir=Path(workdir),
        )
        say(
            f"Benchmarking tap-leads: {'quick' if args.quick else 'full'} sizes, "
            f"{plan.runs} run(s), scenarios {', '.join(scenarios)}"
        )
        runs = execute(plan)
    rows = summarize(runs)
    found = checks(rows, plan)
    info = informational(rows, plan)
    context = {
        "machine": machine(),
        "versions": found_versions,
        "tap_source_sha256": tap_source,
        "tap_rev": args.tap_rev,
        "load_average": (load_start, os.getloadavg()[0]),
        "notes": notes(plan, runs),
    }
    sources = {run.tap_source for run in runs if run.tap_source} | {tap_source}
    if tap_fingerprint() != tap_source or len(sources) > 1:
        context["notes"].append(
            "tap_leads/ changed while the benchmark ran, so its runs may mix versions "
            "(each run's tap_source in the JSON tells which): rerun it on a quiet tree."
        )
    elapsed = time.monotonic() - started
    context["notes"].append(f"the benchmark took {elapsed / 60:.1f} min.")
    text = report(plan, rows, found, info, context)
    say(text)
    for run in runs:
        if not run.ok:
            warm = " (warm-up)" if run.warm_up else ""
            say(f"\nfailed{warm}: {run.case} {LABELS[run.client]}: {run.error}")
            say("\n".join(f"  | {line}" for line in run.stderr_tail))
    results = {
        "started_at": started_at.isoformat(timespec="seconds"),
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "elapsed_s": round(elapsed, 1),
        "command": ["scripts/benchmark", *(sys.argv[1:] if argv is None else argv)],
        "settings": {
            "quick": args.quick,
            "sizes": asdict(plan.sizes),
            "runs": plan.runs,
            "page_sizes": PAGE_SIZES,
            "pool": POOL,
            "scenarios": list(scenarios),
            "stock_runs": min(plan.stock_runs, plan.runs),
        },
        "skipped": plan.skipped,
        **context,
        "summary": [asdict(row) for row in rows],
        "checks": [asdict(check) for check in found],
        "informational": dict(info),
        "runs": [{**asdict(run), "cpu_s": run.cpu_s} for run in runs],
        "report": text.strip().splitlines(),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2) + b"\n")
    say(f"\nresults: {args.output}")
    tap_dir.cleanup()
    if any(not run.ok for run in runs if not run.warm_up):
        return 1
    if args.strict and any(check.result == "FAIL" for check in found):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
