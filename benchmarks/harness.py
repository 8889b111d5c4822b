"""tap-leads side by side with a raw client floor and a stock singer-sdk tap, in one run.

Every client runs as its own process against an emulator running in another process, with
its stdout drained and its RECORD lines counted here; wall time, CPU time and peak RSS are
those of that one child (os.wait4, in measure_child.py). See benchmarks/README.md for how
to read the output.
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
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import quote

import orjson
import requests

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks"
RESULTS_DIR = BENCH / "results"
STREAM = "teli_leads"
PAGE_SIZE = 100
# The tap's default max_concurrent_requests, which the concurrent raw client matches.
WINDOW = 8
LATENCIES_MS = {"0ms": 0.0, "50ms": 50.0}
SCENARIOS = ("0ms", "50ms", "rss")
RECORD_PREFIX = b'{"type":"RECORD","stream":"' + STREAM.encode() + b'",'
# The emulator keeps rendered pages per exact query string, and clients order the same
# parameters differently; warming every form they send keeps server cost equal for all.
QUERY_ORDERS = (("page", "page_size", "is_admin"), ("page_size", "is_admin", "page"))
EMULATOR_START_SECONDS = 180
REQUEST_TIMEOUT_SECONDS = 60
STDERR_TAIL_LINES = 15


@dataclass(frozen=True)
class Client:
    key: str
    label: str

    def command(self, tap_config: Path, flat_config: Path) -> list[str]:
        python = sys.executable
        if self.key == "tap":
            script = Path(python).parent / "tap-leads"
            launcher = [str(script)] if script.exists() else [python, "-m", "tap_leads"]
            return [*launcher, "--config", str(tap_config)]
        if self.key == "raw":
            return [python, str(BENCH / "raw_client.py"), "--config", str(flat_config)]
        if self.key == "raw_concurrent":
            return [
                python,
                str(BENCH / "raw_concurrent_client.py"),
                "--config",
                str(flat_config),
                "--window",
                str(WINDOW),
            ]
        if self.key == "stock":
            return [python, str(BENCH / "stock_tap.py"), "--config", str(flat_config)]
        raise ValueError(self.key)


TAP = Client("tap", "tap-leads")
RAW = Client("raw", "raw client, sequential")
RAW_CONCURRENT = Client("raw_concurrent", f"raw client, {WINDOW} pages at once")
STOCK = Client("stock", "stock singer-sdk tap")


@dataclass
class Run:
    scenario: str
    client: str
    leads: int
    wall_s: float = 0.0
    cpu_user_s: float = 0.0
    cpu_system_s: float = 0.0
    max_rss_mb: float = 0.0
    records: int = 0
    lines: int = 0
    stdout_mb: float = 0.0
    first_record_s: float | None = None
    emulator_cpu_s: float | None = None
    exit_code: int | None = None
    # Digest of tap_leads/ when the run started (tap runs only).
    tap_source: str | None = None
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

    def remaining(self) -> float:
        return self.end - time.monotonic()

    def bound(self, seconds: float) -> float:
        remaining = self.remaining()
        if remaining <= 0:
            raise TimeoutError("the benchmark ran past --max-minutes")
        return min(seconds, remaining)


class RecordCounter:
    """Counts complete RECORD lines of the stream in a byte stream fed in chunks."""

    def __init__(self) -> None:
        self.records = 0
        self.lines = 0
        self.bytes = 0
        self._partial = b""
        self._marker = b"\n" + RECORD_PREFIX

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
        self.records += complete.count(self._marker) + complete.startswith(RECORD_PREFIX)


class Emulator:
    """The provider emulator in its own process, serving only a Teli dataset of note."""

    def __init__(self, leads: int, latency_ms: float, workdir: Path) -> None:
        self.leads = leads
        self.latency_ms = latency_ms
        self.workdir = workdir
        self.config_path = workdir / f"emulator-{leads}-{latency_ms:g}ms.json"
        self.log_path = workdir / f"emulator-{leads}-{latency_ms:g}ms.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.teli: dict[str, Any] = {}

    def start(self, deadline: Deadline) -> Emulator:
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "emulator",
                "--port",
                "0",
                # The other four providers are not benchmarked: keep them tiny.
                "--leads",
                "1",
                "--provider-leads",
                f"teli={self.leads}",
                "--latency-ms",
                f"{self.latency_ms:g}",
                "--write-config",
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
            if self.process.poll() is not None:
                raise RuntimeError(f"the emulator exited at start:\n{self._log_tail()}")
            with contextlib.suppress(OSError, ValueError):
                self.teli = orjson.loads(self.config_path.read_bytes())["teli"]
                return self
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

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def cpu_seconds(self) -> float | None:
        """CPU time the emulator has used so far, from /proc (None where there is none)."""
        try:
            fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            return None
        # Fields 14 and 15 of stat(5) (utime, stime), counted after the ")" of the name.
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def write_client_configs(self) -> tuple[Path, Path]:
        """The tap's config (only the Teli block) and the flat one of the other clients."""
        teli = {**self.teli, "page_size": PAGE_SIZE}
        tap_config = self.workdir / f"tap-{self.leads}-{self.latency_ms:g}ms.json"
        flat_config = self.workdir / f"teli-{self.leads}-{self.latency_ms:g}ms.json"
        tap_config.write_bytes(orjson.dumps({"teli": teli}))
        flat_config.write_bytes(orjson.dumps(teli))
        return tap_config, flat_config

    def warm_up(self, deadline: Deadline) -> float:
        """Fetch every page in every query form the clients send, so that each client
        finds the data generated and the pages rendered. Returns the seconds it took."""
        started = time.monotonic()
        org_id = quote(str(self.teli["org_id"]), safe="")
        url = f"{self.teli['api_url'].rstrip('/')}/v1/organizations/{org_id}/leads"
        local = threading.local()
        timeout = deadline.bound(REQUEST_TIMEOUT_SECONDS)

        def get(order: tuple[str, ...], page: int) -> dict[str, Any]:
            session = getattr(local, "session", None)
            if session is None:
                session = local.session = requests.Session()
                session.headers["X-API-Key"] = self.teli["api_key"]
            values = {"page": page, "page_size": PAGE_SIZE, "is_admin": "true"}
            response = session.get(url, params={k: values[k] for k in order}, timeout=timeout)
            response.raise_for_status()
            return orjson.loads(response.content)

        first = get(QUERY_ORDERS[0], 1)
        if first.get("total") != self.leads:
            raise RuntimeError(f"the emulator serves {first.get('total')} leads, not {self.leads}")
        pages = int(first["total_pages"])
        jobs = [(order, page) for order in QUERY_ORDERS for page in range(1, pages + 1)]
        with ThreadPoolExecutor(max_workers=WINDOW * 2) as pool:
            for body in pool.map(lambda job: get(*job), jobs):
                if not body.get("leads"):
                    raise RuntimeError("the emulator answered an empty page while warming up")
        return time.monotonic() - started


def kill_group(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


def measure(
    scenario: str,
    client: Client,
    command: list[str],
    emulator: Emulator,
    timeout: float,
) -> Run:
    """One run of one client: its own wall, CPU and peak RSS, and its records counted.

    The client starts from measure_child.py, which waits for it with os.wait4 (that
    child's usage alone: RUSAGE_CHILDREN would give a maximum over every child so far).
    """
    run = Run(scenario=scenario, client=client.key, leads=emulator.leads)
    counter = RecordCounter()
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
                if first_record_at is None and RECORD_PREFIX in chunk:
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
    if emulator_cpu_before is not None and emulator_cpu_after is not None:
        run.emulator_cpu_s = emulator_cpu_after - emulator_cpu_before
    try:
        usage = orjson.loads(report.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        usage = None
    if usage is not None:
        run.wall_s = usage["wall_s"]
        run.exit_code = usage["exit_code"]
        run.cpu_user_s = usage["cpu_user_s"]
        run.cpu_system_s = usage["cpu_system_s"]
        run.max_rss_mb = usage["max_rss_kb"] / 1024
        if first_record_at is not None:
            run.first_record_s = first_record_at - usage["started"]
    if timed_out.is_set():
        run.error = f"killed after the {timeout:g} s timeout"
    elif usage is None:
        run.error = f"no measurement (the wrapper exited with {process.returncode})"
    elif run.exit_code != 0:
        run.error = f"exited with {run.exit_code}"
    elif run.records != emulator.leads:
        run.error = f"{run.records} RECORD lines, expected {emulator.leads}"
    if run.error:
        run.stderr_tail = tail
    return run


# ----- orchestration ----------------------------------------------------------


@dataclass
class Plan:
    leads: int
    runs: int
    stock_runs_50ms: int
    scenarios: tuple[str, ...]
    run_timeout: float | None
    deadline: Deadline
    workdir: Path


@contextlib.contextmanager
def running_emulator(plan: Plan, leads: int, latency_ms: float) -> Iterator[Emulator]:
    emulator = Emulator(leads, latency_ms, plan.workdir)
    try:
        say(f"  starting the emulator: {leads:,} Teli leads, {latency_ms:g} ms latency")
        emulator.start(plan.deadline)
        warm = emulator.warm_up(plan.deadline)
        say(f"  warmed up in {warm:.1f} s (every page, in each client's query form)")
        yield emulator
    finally:
        emulator.stop()


def run_timeout(plan: Plan, leads: int, latency_ms: float) -> float:
    if plan.run_timeout:
        return plan.run_timeout
    pages = -(-leads // PAGE_SIZE)
    # Generous: several times the slowest client's expected time on a busy small machine.
    return 120 + pages * (latency_ms / 1000 * 2 + 0.3)


def run_round_robin(
    plan: Plan, scenario: str, emulator: Emulator, clients: list[tuple[Client, int]]
) -> list[Run]:
    """Every client's runs, interleaved round by round so that drifting load hits all alike."""
    tap_config, flat_config = emulator.write_client_configs()
    timeout = run_timeout(plan, emulator.leads, emulator.latency_ms)
    runs: list[Run] = []
    rounds = max(count for _, count in clients)
    for index in range(rounds):
        active = [client for client, count in clients if index < count]
        shift = index % len(active)
        for client in active[shift:] + active[:shift]:
            command = client.command(tap_config, flat_config)
            source = tap_fingerprint() if client is TAP else None
            run = measure(scenario, client, command, emulator, plan.deadline.bound(timeout))
            run.tap_source = source
            runs.append(run)
            say(f"    {scenario:>5} {client.label:<28} run {index + 1}: {describe(run)}")
    return runs


def describe(run: Run) -> str:
    if not run.ok:
        return f"FAILED ({run.error})"
    return (
        f"{run.wall_s:7.2f} s wall, {run.cpu_s:6.2f} s CPU, {run.max_rss_mb:6.1f} MB RSS, "
        f"{run.records:,} records"
    )


def execute(plan: Plan) -> list[Run]:
    runs: list[Run] = []
    if "0ms" in plan.scenarios:
        say("Scenario 0ms")
        with running_emulator(plan, plan.leads, LATENCIES_MS["0ms"]) as emulator:
            clients = [(TAP, plan.runs), (RAW, plan.runs), (STOCK, plan.runs)]
            runs += run_round_robin(plan, "0ms", emulator, clients)
    if "50ms" in plan.scenarios:
        say("Scenario 50ms")
        with running_emulator(plan, plan.leads, LATENCIES_MS["50ms"]) as emulator:
            clients = [
                (TAP, plan.runs),
                (RAW, plan.runs),
                (RAW_CONCURRENT, plan.runs),
                (STOCK, min(plan.stock_runs_50ms, plan.runs)),
            ]
            runs += run_round_robin(plan, "50ms", emulator, [c for c in clients if c[1] > 0])
    if "rss" in plan.scenarios:
        say("Scenario rss")
        sizes = [small_leads(plan.leads)]
        # The 0ms scenario's tap runs already measured the full size at 0 ms latency.
        if "0ms" not in plan.scenarios:
            sizes.append(plan.leads)
        for size in sizes:
            with running_emulator(plan, size, 0.0) as emulator:
                runs += run_round_robin(plan, "rss", emulator, [(TAP, plan.runs)])
    return runs


def small_leads(leads: int) -> int:
    return max(1, leads // 10)


# ----- summary ----------------------------------------------------------------


@dataclass
class Row:
    scenario: str
    client: str
    label: str
    leads: int
    runs: int
    failed: int
    wall_s: float | None
    leads_per_s: float | None
    cpu_s: float | None
    max_rss_mb: float | None
    emulator_cpu_s: float | None
    first_record_s: float | None


@dataclass
class Check:
    name: str
    value: float | None
    goal: str
    passed: bool | None


LABELS = {client.key: client.label for client in (TAP, RAW, RAW_CONCURRENT, STOCK)}


def median(values: list[float | None]) -> float | None:
    present = [value for value in values if value is not None]
    return statistics.median(present) if present else None


def summarize(runs: list[Run]) -> list[Row]:
    rows: list[Row] = []
    groups: dict[tuple[str, str, int], list[Run]] = {}
    for run in runs:
        groups.setdefault((run.scenario, run.client, run.leads), []).append(run)
    for (scenario, client, leads), group in groups.items():
        good = [run for run in group if run.ok]
        wall = median([run.wall_s for run in good])
        rows.append(
            Row(
                scenario=scenario,
                client=client,
                label=LABELS[client],
                leads=leads,
                runs=len(group),
                failed=len(group) - len(good),
                wall_s=wall,
                leads_per_s=leads / wall if wall else None,
                cpu_s=median([run.cpu_s for run in good]),
                max_rss_mb=median([run.max_rss_mb for run in good]),
                emulator_cpu_s=median([run.emulator_cpu_s for run in good]),
                first_record_s=median([run.first_record_s for run in good]),
            )
        )
    return rows


def find(rows: list[Row], scenario: str, client: str, leads: int | None = None) -> Row | None:
    for row in rows:
        if row.scenario == scenario and row.client == client and leads in (None, row.leads):
            return row
    return None


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return numerator / denominator


def rss_row(rows: list[Row], leads: int) -> Row | None:
    return find(rows, "rss", "tap", leads) or find(rows, "0ms", "tap", leads)


def checks(rows: list[Row], plan: Plan) -> list[Check]:
    def wall(scenario: str, client: str) -> float | None:
        row = find(rows, scenario, client, plan.leads)
        return row.wall_s if row else None

    def throughput(scenario: str, client: str) -> float | None:
        row = find(rows, scenario, client, plan.leads)
        return row.leads_per_s if row else None

    small, large = rss_row(rows, small_leads(plan.leads)), rss_row(rows, plan.leads)
    found = [
        ("tap / raw wall, 0 ms", ratio(wall("0ms", "tap"), wall("0ms", "raw")), "<=", 1.5),
        (
            "tap / stock-tap throughput, 0 ms",
            ratio(throughput("0ms", "tap"), throughput("0ms", "stock")),
            ">=",
            5.0,
        ),
        (
            "raw sequential / tap wall, 50 ms",
            ratio(wall("50ms", "raw"), wall("50ms", "tap")),
            ">=",
            5.0,
        ),
        (
            "tap / raw concurrent wall, 50 ms",
            ratio(wall("50ms", "tap"), wall("50ms", "raw_concurrent")),
            "<=",
            1.3,
        ),
        (
            f"tap RSS {plan.leads:,} / {small_leads(plan.leads):,} leads",
            ratio(large and large.max_rss_mb, small and small.max_rss_mb),
            "<=",
            1.3,
        ),
    ]
    result = []
    for name, value, op, goal in found:
        passed = None if value is None else (value <= goal if op == "<=" else value >= goal)
        result.append(Check(name, value, f"{op} {goal:g}", passed))
    return result


def informational(rows: list[Row], plan: Plan) -> list[tuple[str, float | None]]:
    def get(scenario: str, client: str, attr: str) -> float | None:
        row = find(rows, scenario, client, plan.leads)
        return getattr(row, attr) if row else None

    return [
        ("tap / raw CPU, 0 ms", ratio(get("0ms", "tap", "cpu_s"), get("0ms", "raw", "cpu_s"))),
        (
            "stock tap / tap CPU, 0 ms",
            ratio(get("0ms", "stock", "cpu_s"), get("0ms", "tap", "cpu_s")),
        ),
        (
            "tap / stock-tap throughput, 50 ms",
            ratio(get("50ms", "tap", "leads_per_s"), get("50ms", "stock", "leads_per_s")),
        ),
        (
            "raw sequential / raw concurrent wall, 50 ms",
            ratio(get("50ms", "raw", "wall_s"), get("50ms", "raw_concurrent", "wall_s")),
        ),
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
    for path in sorted((ROOT / "tap_leads").rglob("*")):
        if path.is_file() and path.suffix in (".py", ".json"):
            digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
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
    lines = [
        "",
        f"tap-leads benchmark: {STREAM}, {plan.leads:,} leads, page size {PAGE_SIZE}, "
        f"median of {plan.runs} run(s) unless noted",
        f"machine: {host['cpu_model']}, {host['cores']} cores ({host['usable_cores']} usable), "
        f"{host['memory_gb']} GB, {host['python']}, {host['platform']}",
        "load average (1 min): {:.2f} at start, {:.2f} at end".format(*context["load_average"]),
        "versions: "
        + ", ".join(f"{k} {v}" for k, v in context["versions"].items())
        + f", tap_leads/ sha256 {context['tap_source_sha256']}",
        "",
        f"{'scenario':<9}{'client':<30}{'leads':>9}{'runs':>6}{'wall s':>9}{'leads/s':>10}"
        f"{'CPU s':>8}{'RSS MB':>8}{'1st rec s':>10}{'emu CPU s':>10}",
    ]
    for row in rows:
        runs = f"{row.runs - row.failed}" + (f"!{row.failed}" if row.failed else "")
        lines.append(
            f"{row.scenario:<9}{row.label:<30}{row.leads:>9,}{runs:>6}"
            f"{fmt(row.wall_s, '.2f'):>9}{fmt(row.leads_per_s, ',.0f'):>10}"
            f"{fmt(row.cpu_s, '.2f'):>8}{fmt(row.max_rss_mb, '.1f'):>8}"
            f"{fmt(row.first_record_s, '.2f'):>10}{fmt(row.emulator_cpu_s, '.2f'):>10}"
        )
    lines += ["", f"{'check':<46}{'value':>8}  {'goal':<8}result"]
    for check in found:
        verdict = {True: "PASS", False: "FAIL", None: "n/a (not measured)"}[check.passed]
        lines.append(f"{check.name:<46}{fmt(check.value, '.2f'):>8}  {check.goal:<8}{verdict}")
    lines += ["", "for information:"]
    lines += [f"  {name:<44}{fmt(value, '.2f'):>8}" for name, value in info]
    lines += ["", *[f"note: {note}" for note in context["notes"]]]
    return "\n".join(lines)


def notes(plan: Plan, runs: list[Run]) -> list[str]:
    found = [
        "wall s is from process start to the end of its output, interpreter start-up and "
        "imports included; leads/s = leads / median wall s; CPU s = user + system time "
        "of that one process; RSS MB = its peak resident set (os.wait4).",
        "emu CPU s is the emulator's CPU time during the run (it runs in its own process, "
        "with every page rendered ahead by the warm-up).",
        "runs are interleaved round by round; on a shared machine compare the ratios, "
        "not the absolute numbers.",
    ]
    if "50ms" in plan.scenarios:
        stock_runs = min(plan.stock_runs_50ms, plan.runs)
        found.append(
            f"the stock tap at 50 ms runs {stock_runs} time(s) (--stock-runs-50ms) over all "
            f"{plan.leads:,} leads, since it reads them one page at a time; it enters no check."
        )
    if "rss" in plan.scenarios:
        found.append(
            f"RSS at {small_leads(plan.leads):,} leads comes from its own emulator at 0 ms; "
            f"RSS at {plan.leads:,} leads from the tap's runs of the 0ms scenario "
            "(or its own emulator when that scenario is not run)."
        )
    failed = [run for run in runs if not run.ok]
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
        description="tap-leads against a raw client floor and a stock singer-sdk tap.",
    )
    parser.add_argument("--leads", type=int, help="Teli leads to extract (default 100000)")
    parser.add_argument("--runs", type=int, help="runs per client and scenario (default 3)")
    parser.add_argument(
        "--quick", action="store_true", help="smoke check: 10000 leads, 1 run (unless given)"
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=SCENARIOS,
        help="run only this scenario (repeatable): 0ms, 50ms or rss",
    )
    parser.add_argument(
        "--stock-runs-50ms",
        type=int,
        default=1,
        help="runs of the stock tap at 50 ms, at most --runs (default 1; 0 skips it)",
    )
    parser.add_argument(
        "--run-timeout", type=float, help="seconds one client run may take (default: by size)"
    )
    parser.add_argument(
        "--max-minutes", type=float, default=90, help="budget of the whole benchmark (90)"
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=RESULTS_DIR / "latest.json",
        help="where the JSON results go (default benchmarks/results/latest.json)",
    )
    parser.add_argument(
        "--strict", action="store_true", help="exit 1 when a check fails, not only a run"
    )
    args = parser.parse_args(argv)
    if args.leads is None:
        args.leads = 10_000 if args.quick else 100_000
    if args.runs is None:
        args.runs = 1 if args.quick else 3
    if args.leads < 1 or args.runs < 1:
        parser.error("--leads and --runs must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # SIGTERM (e.g. from timeout(1)) unwinds like Ctrl-C, so the emulator is stopped.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    started_at = datetime.now(UTC)
    load_start = os.getloadavg()[0]
    tap_source = tap_fingerprint()
    found_versions = versions()
    scenarios = tuple(s for s in SCENARIOS if not args.only or s in args.only)
    with tempfile.TemporaryDirectory(prefix="tap-leads-bench-") as workdir:
        plan = Plan(
            leads=args.leads,
            runs=args.runs,
            stock_runs_50ms=max(0, args.stock_runs_50ms),
            scenarios=scenarios,
            run_timeout=args.run_timeout,
            deadline=Deadline(args.max_minutes),
            workdir=Path(workdir),
        )
        say(
            f"Benchmarking {STREAM}: {plan.leads:,} leads, {plan.runs} run(s), "
            f"scenarios {', '.join(scenarios)}"
        )
        runs = execute(plan)
    rows = summarize(runs)
    found = checks(rows, plan)
    info = informational(rows, plan)
    context = {
        "machine": machine(),
        "versions": found_versions,
        "tap_source_sha256": tap_source,
        "load_average": (load_start, os.getloadavg()[0]),
        "notes": notes(plan, runs),
    }
    sources = {run.tap_source for run in runs if run.tap_source} | {tap_source}
    if tap_fingerprint() != tap_source or len(sources) > 1:
        context["notes"].append(
            "tap_leads/ changed while the benchmark ran, so its runs may mix versions "
            "(each run's tap_source in the JSON tells which): rerun it on a quiet tree."
        )
    text = report(plan, rows, found, info, context)
    say(text)
    for run in runs:
        if not run.ok:
            say(f"\nfailed: {run.scenario} {LABELS[run.client]}: {run.error}")
            say("\n".join(f"  | {line}" for line in run.stderr_tail))
    results = {
        "started_at": started_at.isoformat(timespec="seconds"),
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": ["scripts/benchmark", *(sys.argv[1:] if argv is None else argv)],
        "settings": {
            "stream": STREAM,
            "leads": plan.leads,
            "runs": plan.runs,
            "page_size": PAGE_SIZE,
            "window": WINDOW,
            "scenarios": list(scenarios),
            "stock_runs_50ms": min(plan.stock_runs_50ms, plan.runs),
        },
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
    if any(not run.ok for run in runs):
        return 1
    if args.strict and any(check.passed is False for check in found):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
