"""Running the clients: one measured run, a case's runs round by round, every case."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import orjson
from common import (
    BENCH,
    RAW_POOL,
    RECORD_MARK,
    ROOT,
    STDERR_TAIL_LINES,
    TAP,
    Case,
    Client,
    OutputCounter,
    Run,
    Unsupported,
    say,
)
from emulator_process import Emulator, kill_group, mean_in_flight
from report import tap_fingerprint

if TYPE_CHECKING:
    from plan import Plan


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
    log_start = emulator.log_offset()
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
    spans = emulator.spans(log_start)
    run.requests = len(spans)
    run.refused = emulator.refused(log_start)
    run.mean_in_flight = mean_in_flight(spans)
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
        if spans:
            run.first_request_s = min(start for start, _ in spans) - usage["started"]
    if timed_out.is_set():
        run.error = f"killed after the {timeout:g} s timeout"
    elif usage is None:
        run.error = f"no measurement (the wrapper exited with {process.returncode})"
    elif run.exit_code != 0:
        run.error = f"exited with {run.exit_code}"
    elif run.records != run.leads and client.key != "sdk_import":
        run.error = f"{run.records} RECORD lines, expected {run.leads}"
    if run.error:
        run.stderr_tail = tail
    return run


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
    """An unmeasured run of the tap (its modules compiled and the files read once), and of
    the raw client when the emulator keeps rendered pages: then every measured run finds the
    same work done (the raw clients and the stock tap send the same query strings)."""
    runs = []
    timeout = plan.deadline.bound(run_timeout(plan, case))
    # With the page cache on, the raw pool renders every page once for all the runs after it.
    for client in (RAW_POOL, TAP) if case.page_cache else (TAP,):
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
