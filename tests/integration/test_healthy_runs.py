"""Healthy runs look healthy: no WARNING or ERROR line, and every run ends on a STATE."""

from __future__ import annotations

import json

from tests.conftest import STREAMS

CLEAN = ["teli", "nexus_erp", "flextell", "sela", "autocalls"]


def noisy_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "| WARNING" in line or "| ERROR" in line]


def test_a_connection_test_is_quiet_and_reads_one_lead_per_stream(emulator, run_tap):
    run = run_tap(emulator.tap_config(providers=CLEAN), None, "--test")
    assert run.returncode == 0, run.stderr
    assert noisy_lines(run.stderr) == []
    for provider in CLEAN:
        assert len(run.records(STREAMS[provider])) == 1
    assert run.messages[-1]["type"] == "STATE"


def test_a_healthy_sync_is_quiet_and_ends_on_state(emulator, run_tap):
    run = run_tap(emulator.tap_config(providers=CLEAN))
    assert run.returncode == 0, run.stderr
    assert noisy_lines(run.stderr) == []
    assert {stream: len(run.records(STREAMS[p])) for p in CLEAN for stream in [STREAMS[p]]} == {
        STREAMS[p]: 120 for p in CLEAN
    }
    assert run.messages[-1]["type"] == "STATE"


def test_a_run_with_nothing_new_still_ends_on_state(emulator, run_tap):
    config = emulator.tap_config(providers=CLEAN)
    first = run_tap(config)
    second = run_tap(config, first.final_state)
    assert second.returncode == 0, second.stderr
    assert second.messages[-1]["type"] == "STATE"
    assert second.final_state["bookmarks"] == first.final_state["bookmarks"]
    assert noisy_lines(second.stderr) == []


def test_discovery_without_any_provider_lists_all_five_streams_and_deleted_leads(run_tap):
    run = run_tap({}, None, "--discover")
    assert run.returncode == 0, run.stderr
    catalog = json.loads(run.stdout)
    assert sorted(s["tap_stream_id"] for s in catalog["streams"]) == sorted(
        [*STREAMS.values(), "deleted_leads"]
    )
    assert noisy_lines(run.stderr) == []


def test_a_sync_without_any_provider_is_still_an_error(emulator, run_tap):
    run = run_tap({})
    assert run.returncode == 1
    assert run.errors[-1] == (
        "No provider is configured. Set at least one provider block: teli, nexus_erp, "
        "flextell, sela, autocalls (in Meltano, for example teli.api_key and teli.org_id)."
    )
    assert emulator.requests == []
