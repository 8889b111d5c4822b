"""`python -m emulator`: help for every flag, healthy data by default, quirks switched on
with --fault, and every provider's default account in the accounts config."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from emulator import LeadsEmulator
from emulator.__main__ import build_parser
from tests.conftest import REPO

TAP = Path(sys.executable).with_name("tap-leads")


def test_every_flag_has_help():
    actions = [a for a in build_parser()._actions if a.option_strings]
    assert len(actions) >= 10
    assert [a.option_strings for a in actions if not (a.help or "").strip()] == []


def test_the_help_says_how_to_stop_it():
    result = subprocess.run(
        [sys.executable, "-m", "emulator", "--help"],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
        timeout=60,
    )
    assert "Ctrl-C" in result.stdout
    assert "kill" in result.stdout


def test_the_default_data_has_no_malformed_timestamp():
    with LeadsEmulator(leads_per_provider=3000, seed=7) as emu:
        times = [lead["next_call_time"] for lead in emu.leads("sela")]
    assert [t for t in times if t and not t.startswith("20")] == []
    assert sum(1 for t in times if t) > 500


@pytest.fixture
def serve(tmp_path):
    """Start `python -m emulator` with these arguments; its config files once it listens."""
    started: list[subprocess.Popen] = []

    def start(*args: str) -> dict[str, Path]:
        files = {"config": tmp_path / "config.json", "accounts": tmp_path / "accounts.json"}
        process = subprocess.Popen(
            [
                *(sys.executable, "-m", "emulator", "--port", "0", "--leads", "60", *args),
                *("--write-config", str(files["config"])),
                *("--write-accounts-config", str(files["accounts"])),
            ],
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        started.append(process)
        deadline = time.monotonic() + 60
        while not files["config"].exists():
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            assert time.monotonic() < deadline, "the emulator did not start"
            time.sleep(0.05)
        return files

    yield start
    for process in started:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)  # closes its stderr pipe too
        assert process.returncode == 0


def run_tap(config: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(TAP), "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "TAP_LEADS_LOGLEVEL": "INFO"},
    )


def test_a_fault_switches_a_documented_quirk_on(serve):
    files = serve("--leads", "500", "--fault", "sela=malformed_next_call_time")
    config = json.loads(files["config"].read_text())
    sela = files["config"].with_name("sela.json")
    sela.write_text(json.dumps({"sela": config["sela"]}))

    result = run_tap(sela)

    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if "| WARNING" in line]
    assert len(warnings) == 1, result.stderr
    assert "value(s) of 'next_call_time' could not be read" in warnings[0]


def test_without_faults_a_run_over_every_provider_is_quiet(serve):
    files = serve()
    result = run_tap(files["config"])
    assert result.returncode == 0, result.stderr
    noisy = [
        line for line in result.stderr.splitlines() if "| WARNING" in line or "| ERROR" in line
    ]
    assert noisy == []


def test_every_provider_lists_its_default_account_alike(serve):
    files = serve("--account", "autocalls=acme:5", "--account", "sela=zeta:7")
    accounts = json.loads(files["accounts"].read_text())
    names = {
        provider: [a["name"] for a in block["accounts"]] for provider, block in accounts.items()
    }
    assert names == {
        "teli": ["default"],
        "nexus_erp": ["default"],
        "flextell": ["default"],
        "sela": ["default", "zeta"],
        "autocalls": ["default", "acme"],
    }


def test_an_unknown_fault_is_refused(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "emulator", "--port", "0", "--fault", "teli=string_ids"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
        check=False,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert result.returncode == 2
    assert "--fault wants PROVIDER=KIND, a kind that applies to PROVIDER: 'teli=string_ids'" in (
        result.stderr
    )
