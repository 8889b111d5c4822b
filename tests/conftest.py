"""Shared fixtures: the provider emulator and a runner for the real tap CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from emulator import LeadsEmulator

REPO = Path(__file__).resolve().parent.parent
STREAMS = {
    "teli": "teli_leads",
    "nexus_erp": "nexus_erp_leads",
    "flextell": "flextell_leads",
    "sela": "sela_leads",
    "autocalls": "autocalls_leads",
}
PRIMARY_KEYS = {"teli": "unique_id"}
# Fast retries, so fault tests do not wait on real backoff.
FAST = {"backoff_base_seconds": 0.01, "max_tries": 4, "request_timeout": 10}
# scripts/test runs the reliability and state tests again one request at a time.
if os.environ.get("TAP_LEADS_TEST_CONCURRENCY"):
    FAST["max_concurrent_requests"] = int(os.environ["TAP_LEADS_TEST_CONCURRENCY"])


def primary_key(provider: str) -> str:
    return PRIMARY_KEYS.get(provider, "id")


@dataclass
class TapRun:
    returncode: int
    stdout: str
    stderr: str
    messages: list[dict] = field(default_factory=list)

    def records(self, stream: str) -> list[dict]:
        return [
            m["record"] for m in self.messages if m["type"] == "RECORD" and m["stream"] == stream
        ]

    def schema(self, stream: str) -> dict:
        return next(m for m in self.messages if m["type"] == "SCHEMA" and m["stream"] == stream)

    @property
    def states(self) -> list[dict]:
        return [m["value"] for m in self.messages if m["type"] == "STATE"]

    @property
    def final_state(self) -> dict:
        return self.states[-1]

    @property
    def errors(self) -> list[str]:
        return [line.split("| ")[-1] for line in self.stderr.splitlines() if "| ERROR" in line]

    def bookmark(self, stream: str) -> str | None:
        return self.final_state["bookmarks"].get(stream, {}).get("replication_key_value")


def parse_messages(stdout: str) -> list[dict]:
    """Singer messages only: --about and --discover print other JSON."""
    return [json.loads(line) for line in stdout.splitlines() if line.startswith('{"type":')]


@pytest.fixture
def run_tap(tmp_path):
    """Run `tap-leads` as a user would: a subprocess with config and optional state files."""

    def run(
        config: dict,
        state: dict | None = None,
        *args: str,
        timeout: float = 180,
        env: dict | None = None,
    ) -> TapRun:
        config_path = tmp_path / "config.json"
        config_path.write_text(json.dumps({**FAST, **config}))
        command = [sys.executable, "-m", "tap_leads", "--config", str(config_path), *args]
        if state is not None:
            state_path = tmp_path / "state.json"
            state_path.write_text(json.dumps(state))
            command += ["--state", str(state_path)]
        result = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            env={**os.environ, **(env or {})},
            cwd=REPO,
        )
        return TapRun(
            result.returncode, result.stdout, result.stderr, parse_messages(result.stdout)
        )

    return run


@pytest.fixture
def emulator():
    with LeadsEmulator(leads_per_provider=120, seed=7) as emu:
        yield emu
