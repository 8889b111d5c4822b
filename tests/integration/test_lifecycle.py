"""The run as an operator sees it: throttling, signals and a reader that goes away."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from emulator import LeadsEmulator
from tests.conftest import FAST, REPO, parse_messages

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")


def start_tap(config: dict, tmp_path: Path, state: dict | None = None, **popen) -> subprocess.Popen:
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps({**FAST, **config}))
    command = [sys.executable, "-m", "tap_leads", "--config", str(config_path)]
    if state is not None:
        state_path = tmp_path / "state.json"
        state_path.write_text(json.dumps(state))
        command += ["--state", str(state_path)]
    popen.setdefault("stdout", subprocess.PIPE)
    popen.setdefault("stderr", subprocess.PIPE)
    return subprocess.Popen(command, cwd=REPO, **popen)


def read_until_records(process: subprocess.Popen, count: int, timeout: float = 30) -> list[bytes]:
    """Lines of stdout until `count` RECORD lines have arrived."""
    lines: list[bytes] = []
    records = 0
    deadline = time.monotonic() + timeout
    while records < count:
        assert time.monotonic() < deadline, "the tap emitted too few records in time"
        line = process.stdout.readline()
        assert line, "the tap's stdout closed early"
        lines.append(line)
        records += line.startswith(b'{"type":"RECORD"')
    return lines


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            # The command may contain spaces; the parent pid follows the closing paren.
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def test_the_window_halves_on_429_and_grows_back(emulator, run_tap):
    emulator.faults("teli").rate_limit(retry_after=1, times=1, page=3)
    config = emulator.tap_config(providers=["teli"], teli={"page_size": 2})
    run = run_tap({**config, "max_concurrent_requests": 8})
    assert run.returncode == 0, run.stderr
    assert len(run.records("teli_leads")) == 120
    window_lines = [
        line.split("| ")[-1] for line in run.stderr.splitlines() if "requests in flight" in line
    ]
    assert window_lines == [
        "Teli: throttled (HTTP 429), so at most 4 of 8 requests in flight now.",
        "Teli: back to 5 of 8 requests in flight.",
        "Teli: back to 6 of 8 requests in flight.",
        "Teli: back to 7 of 8 requests in flight.",
        "Teli: back to 8 of 8 requests in flight.",
    ]


def test_sigkill_leaves_no_process_and_no_further_request(tmp_path):
    with LeadsEmulator(leads_per_provider=3000, seed=3, latency_ms=50) as emulator:
        tap = start_tap(emulator.tap_config(providers=["teli", "autocalls"]), tmp_path)
        try:
            read_until_records(tap, 50)
            spawned = children_of(tap.pid)
            tap.kill()
            tap.wait(timeout=10)
        finally:
            if tap.poll() is None:
                tap.kill()
            _close_pipes(tap)
        killed_at = time.monotonic()
        time.sleep(3)
        assert spawned == []
        # Requests the tap had under way may still be logged; none may start afterwards.
        late = [r for r in emulator.requests if r.time > killed_at + 0.2]
        assert late == []


def test_sigterm_stops_within_seconds_and_the_last_state_resumes_without_loss(tmp_path):
    with LeadsEmulator(leads_per_provider=2000, seed=5, latency_ms=30) as emulator:
        config = {
            **emulator.tap_config(providers=["autocalls", "sela", "teli"]),
            "max_concurrent_requests": 2,
        }
        with (tmp_path / "stderr.log").open("wb") as log:
            tap = start_tap(config, tmp_path, stderr=log)
            try:
                head = read_until_records(tap, 2500)
                tap.send_signal(signal.SIGTERM)
                sent = time.monotonic()
                # The same buffered reader as above: it may already hold the next bytes.
                rest = tap.stdout.read()
                tap.wait(timeout=10)
            finally:
                if tap.poll() is None:
                    tap.kill()
                _close_pipes(tap)
        stderr = (tmp_path / "stderr.log").read_bytes()
        assert time.monotonic() - sent < 10
        assert tap.returncode == 128 + signal.SIGTERM, stderr.decode()[-3000:]
        stdout = b"".join(head) + rest
        assert stdout.endswith(b"\n")
        first = parse_messages(stdout.decode())
        assert len(first) == len(stdout.splitlines())  # every line is a whole message
        last_line = stderr.decode().strip().splitlines()[-1]
        assert "tap-leads stopped: received SIGTERM before the run completed." in last_line
        states = [m["value"] for m in first if m["type"] == "STATE"]
        emitted_first = {
            (m["stream"], m["record"].get("unique_id", m["record"].get("id")))
            for m in first
            if m["type"] == "RECORD"
        }
        assert 2500 <= len(emitted_first) < 6000

        second = subprocess.run(
            [
                sys.executable,
                "-m",
                "tap_leads",
                "--config",
                str(tmp_path / "config.json"),
                "--state",
                str(_write(tmp_path / "resume.json", states[-1])),
            ],
            capture_output=True,
            cwd=REPO,
            timeout=120,
            check=False,
        )
        assert second.returncode == 0, second.stderr.decode()[-2000:]
        emitted_second = {
            (m["stream"], m["record"].get("unique_id", m["record"].get("id")))
            for m in parse_messages(second.stdout.decode())
            if m["type"] == "RECORD"
        }
        every = {
            (f"{provider}_leads", key)
            for provider in ("autocalls", "sela", "teli")
            for key in emulator.listed_keys(provider)
        }
        assert every - (emitted_first | emitted_second) == set()


def test_a_closed_output_stops_the_run_and_its_requests(tmp_path):
    with LeadsEmulator(leads_per_provider=20000, seed=4, latency_ms=20) as emulator:
        config = emulator.tap_config(providers=["sela"], sela={"page_size": 100})
        tap = start_tap(config, tmp_path)
        try:
            read_until_records(tap, 300)
            tap.stdout.close()
            closed_at = time.monotonic()
            requests_at_close = len(emulator.requests)
            _, stderr = tap.communicate(timeout=10)
        finally:
            if tap.poll() is None:
                tap.kill()
            _close_pipes(tap)
        stopped_after = time.monotonic() - closed_at
        assert stopped_after < 3
        assert tap.returncode == 1
        lines = stderr.decode().strip().splitlines()
        assert lines[-1].endswith(
            "tap-leads stopped: the output closed: the target (or whatever reads the tap's "
            "stdout) stopped reading, so the run stopped. Check the target's own log for why."
        )
        assert "Traceback" not in stderr.decode()
        # Only what was already in flight or queued for the window may follow the close.
        assert len(emulator.requests) - requests_at_close <= 8 + 2
        assert len(emulator.requests) < 200


def _close_pipes(tap: subprocess.Popen) -> None:
    """Closed, so that no unclosed file is left for the garbage collector to warn about."""
    tap.wait(timeout=10)
    for pipe in (tap.stdout, tap.stderr):
        if pipe is not None:
            pipe.close()


def _write(path: Path, value: dict) -> Path:
    path.write_text(json.dumps(value))
    return path


def test_no_process_is_started_for_fetching(tmp_path):
    with LeadsEmulator(leads_per_provider=3000, seed=3, latency_ms=20) as emulator:
        tap = start_tap(emulator.tap_config(providers=["teli"]), tmp_path)
        try:
            read_until_records(tap, 10)
            assert children_of(tap.pid) == []
        finally:
            tap.kill()
            tap.wait(timeout=10)
            _close_pipes(tap)


# Sends SIGTERM to its own process from inside the first log call whose message holds
# each of the given texts ("|" between them): the signal lands exactly there, as an
# operator's may.
_SIGNAL_ON_LOG = """
import logging, os, signal, sys

TEXTS = sys.argv[1].split("|")


class SignalOn(logging.Handler):
    def emit(self, record):
        message = record.getMessage()
        for text in TEXTS:
            if text in message:
                TEXTS.remove(text)
                os.kill(os.getpid(), signal.SIGTERM)

logging.getLogger().addHandler(SignalOn())
from tap_leads.tap import TapLeads
sys.argv = ["tap-leads", *sys.argv[2:]]
TapLeads.cli()
"""


@pytest.mark.parametrize(
    "logged",
    [
        # After every stream completed, while the run reports success.
        "completed: 300 lead(s) emitted.",
        # A second signal while the first one stops the run.
        "Beginning sync of|tap-leads stopped",
    ],
)
def test_a_signal_outside_the_streams_stops_the_run_in_one_line(tmp_path, logged):
    with LeadsEmulator(leads_per_provider=300, seed=6) as emulator:
        config = tmp_path / "config.json"
        config.write_text(json.dumps({**FAST, **emulator.tap_config(providers=["teli"])}))
        script = tmp_path / "signal_on_log.py"
        script.write_text(_SIGNAL_ON_LOG)
        done = subprocess.run(
            [sys.executable, str(script), logged, "--config", str(config)],
            capture_output=True,
            cwd=REPO,
            timeout=60,
            check=False,
        )
    stderr = done.stderr.decode()
    assert done.returncode == 128 + signal.SIGTERM, stderr[-3000:]
    assert "Traceback" not in stderr
    last_line = stderr.strip().splitlines()[-1]
    assert "tap-leads stopped: received SIGTERM before the run completed." in last_line
    messages = parse_messages(done.stdout.decode())
    records = [m for m in messages if m["type"] == "RECORD"]
    # The output ends on a STATE, written before the line that says the run stopped.
    assert messages[-1]["type"] == "STATE"
    if logged.startswith("completed"):
        # Every lead went out, and the final STATE holds the run's bookmark.
        assert len(records) == 300
        assert messages[-1]["value"]["bookmarks"]["teli_leads"]
    else:
        assert stderr.count("tap-leads stopped: received SIGTERM") == 1
        assert len(records) < 300
