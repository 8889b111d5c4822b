"""A sync of every provider imports no part of the SDK it does not use (the Target, the
REST and GraphQL streams, requests, joblib): tap_leads/sdk_import.py."""

from __future__ import annotations

from tests.conftest import STREAMS

PROVIDERS = ["teli", "nexus_erp", "flextell", "sela", "autocalls"]
UNUSED = {"requests", "joblib", "singer_sdk.target_base", "singer_sdk.streams.rest"}


def imported(stderr: str) -> set[str]:
    """Module names from Python's -X importtime lines."""
    return {
        line.rsplit("|", 1)[1].strip()
        for line in stderr.splitlines()
        if line.startswith("import time:") and line.count("|") == 2
    }


def test_a_sync_of_every_provider_imports_only_what_it_uses(emulator, run_tap):
    run = run_tap(emulator.tap_config(providers=PROVIDERS), env={"PYTHONPROFILEIMPORTTIME": "1"})
    assert run.returncode == 0, run.stderr[-3000:]
    assert {p: len(run.records(STREAMS[p])) for p in PROVIDERS} == dict.fromkeys(PROVIDERS, 120)
    modules = imported(run.stderr)
    assert {"singer_sdk.tap_base", "singer_sdk.streams.core", "tap_leads.tap"} <= modules
    assert modules & UNUSED == set()
