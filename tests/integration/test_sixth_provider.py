"""A sixth provider from its spec, its schema and its emulator provider alone (the
tests.sixth_provider package): the tap reads it over real HTTP, with its own check and its
own auth, and nothing else of the tap names it."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime

import pytest

from emulator import LeadsEmulator
from tests.conftest import FAST, REPO, parse_messages
from tests.sixth_provider.emulator_api import OrbitAPI


@pytest.fixture
def orbit():
    with LeadsEmulator(
        leads_per_provider=0, leads={"orbit": 130}, extra_providers=[OrbitAPI]
    ) as emu:
        yield emu


def run_orbit_tap(tmp_path, config: dict, *args: str) -> subprocess.CompletedProcess:
    path = tmp_path / "config.json"
    path.write_text(json.dumps({**FAST, **config}))
    command = [sys.executable, "-m", "tests.sixth_provider.tap", "--config", str(path), *args]
    return subprocess.run(
        command, capture_output=True, text=True, timeout=120, check=False, cwd=REPO
    )


def test_the_sixth_provider_is_read_with_its_own_auth(orbit, tmp_path):
    result = run_orbit_tap(tmp_path, orbit.tap_config(["orbit"], orbit={"page_size": "40"}))
    assert result.returncode == 0, result.stderr
    messages = parse_messages(result.stdout)
    records = [m["record"] for m in messages if m["type"] == "RECORD"]
    assert {m["stream"] for m in messages if m["type"] == "RECORD"} == {"orbit_leads"}
    assert sorted(r["lead_id"] for r in records) == sorted(
        lead["lead_id"] for lead in orbit.leads("orbit")
    )
    assert len(records) == 130
    requests = orbit.requests_for("orbit")
    # Pages after the first are fetched ahead, so they may arrive in any order.
    assert sorted(dict(r.query)["page"] for r in requests) == ["1", "2", "3", "4"]
    assert {dict(r.query)["limit"] for r in requests} == {"40"}
    credentials = orbit.credentials("orbit")
    for request in requests:
        assert request.status == 200
        assert request.headers["authorization"] == f"Orbit key={credentials['api_key']}"
        assert request.headers["x-orbit-workspace"] == "ws-7a1"
    schemas = {m["stream"]: m for m in messages if m["type"] == "SCHEMA"}
    assert sorted(schemas) == ["deleted_leads", "orbit_leads"]
    assert schemas["orbit_leads"]["key_properties"] == ["lead_id"]
    bookmark = messages[-1]["value"]["bookmarks"]["orbit_leads"]["replication_key_value"]
    newest = max(lead["modified"] for lead in orbit.leads("orbit"))
    assert datetime.fromisoformat(bookmark) == datetime.fromisoformat(newest)


def test_the_sixth_provider_runs_its_own_check_before_any_request(orbit, tmp_path):
    config = orbit.tap_config(["orbit"], orbit={"workspace": "7a1"})
    result = run_orbit_tap(tmp_path, config)
    assert result.returncode == 1
    errors = [line.split("| ")[-1] for line in result.stderr.splitlines() if "| ERROR" in line]
    assert errors == [
        "orbit.workspace is '7a1': an Orbit workspace looks like ws-4f2a, as the workspace "
        "settings page shows it."
    ]
    assert orbit.requests == []


def test_the_sixth_provider_gets_the_shared_checks_and_its_settings(orbit, tmp_path):
    config = orbit.tap_config(["orbit"], orbit={"stage": "lost", "page_size": 51})
    del config["orbit"]["api_url"]
    result = run_orbit_tap(tmp_path, config)
    assert result.returncode == 1
    errors = [line.split("| ")[-1] for line in result.stderr.splitlines() if "| ERROR" in line]
    assert errors == [
        "orbit.api_url is missing: Orbit has no public host, so set the base URL of your "
        "instance, for example https://your-host.",
        "orbit.page_size is 51: Orbit takes 1 to 50 leads per page.",
        "orbit.stage is 'lost': Orbit takes one of new, won.",
    ]
    assert orbit.requests == []
    about = run_orbit_tap(tmp_path, {}, "--about", "--format", "json")
    properties = json.loads(about.stdout)["settings"]["properties"]
    assert {"teli", "sela", "orbit"} <= set(properties)
    assert {"api_key", "workspace", "stage", "accounts"} <= set(properties["orbit"]["properties"])
