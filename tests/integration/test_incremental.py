"""Incremental runs: the second run emits exactly what changed, and state is never wrong."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import FAST, REPO, STREAMS, parse_messages, primary_key

REPLICATION_KEYS = {
    "teli": "updated_at",
    "nexus_erp": "updatedAt",
    "flextell": "updated_at",
    "sela": "modified_time",
    "autocalls": "updated_at",
}


def utc(raw: str) -> datetime:
    moment = datetime.fromisoformat(raw)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def keys(run, provider) -> set[str]:
    return {str(r[primary_key(provider)]) for r in run.records(STREAMS[provider])}


def changed_at(emulator, provider) -> dict[str, datetime]:
    rk = REPLICATION_KEYS[provider]
    return {str(lead[primary_key(provider)]): utc(lead[rk]) for lead in emulator.leads(provider)}


def at(emulator, provider, bookmark: str) -> set[str]:
    return {k for k, moment in changed_at(emulator, provider).items() if moment == utc(bookmark)}


@pytest.mark.parametrize("provider", list(STREAMS))
def test_second_run_emits_exactly_the_changed_and_new_leads(emulator, run_tap, provider):
    config = emulator.tap_config(providers=[provider])
    first = run_tap(config)
    assert first.returncode == 0, first.stderr
    assert len(first.records(STREAMS[provider])) == 120

    key = primary_key(provider)
    leads = emulator.leads(provider)
    touched = [leads[5][key], leads[50][key], leads[117][key]]
    emulator.touch(provider, touched)
    added = [lead[key] for lead in emulator.add(provider, 4)]

    second = run_tap(config, first.final_state)
    assert second.returncode == 0, second.stderr
    # "At or after the bookmark": the lead(s) holding the bookmark come again.
    at_bookmark = at(emulator, provider, first.bookmark(STREAMS[provider]))
    expected = {str(k) for k in touched + added} | at_bookmark
    assert keys(second, provider) == expected
    assert len(second.records(STREAMS[provider])) == len(expected) >= 7

    # The bookmark never passes the run's start (the SDK's signpost), so a lead stamped in
    # the future comes again until that time has passed.
    third = run_tap(config, second.final_state)
    bookmark = utc(second.bookmark(STREAMS[provider]))
    assert keys(third, provider) == {
        k for k, moment in changed_at(emulator, provider).items() if moment >= bookmark
    }
    assert utc(third.bookmark(STREAMS[provider])) >= bookmark


@pytest.mark.parametrize("provider", list(STREAMS))
def test_bookmark_is_the_greatest_value_not_the_last_record(emulator, run_tap, provider):
    run = run_tap(emulator.tap_config(providers=[provider]))
    stream = STREAMS[provider]
    values = [utc(r[REPLICATION_KEYS[provider]]) for r in run.records(stream)]
    assert values != sorted(values)  # the stream is not sorted by its replication key
    assert utc(run.bookmark(stream)) == max(values)
    assert run.final_state["bookmarks"][stream]["replication_key"] == REPLICATION_KEYS[provider]
    assert "progress_markers" not in run.final_state["bookmarks"][stream]


def test_a_change_written_with_another_offset_is_compared_as_a_time(emulator, run_tap):
    config = emulator.tap_config(providers=["sela"])
    first = run_tap(config)
    bookmark = utc(first.bookmark("sela_leads"))
    lead = emulator.leads("sela")[0]["id"]
    # One hour after the bookmark, written in Pacific time: as a string it sorts earlier.
    emulator.touch("sela", [lead], when=bookmark + timedelta(hours=1))
    raw = next(x for x in emulator.leads("sela") if x["id"] == lead)["modified_time"]
    assert raw[-6:] in ("-08:00", "-07:00")
    assert raw < first.bookmark("sela_leads")
    second = run_tap(config, first.final_state)
    assert keys(second, "sela") == {str(lead)} | at(emulator, "sela", first.bookmark("sela_leads"))


@pytest.mark.parametrize("provider", ["teli", "autocalls"])
def test_start_date_limits_the_first_run(emulator, run_tap, provider):
    times = sorted(changed_at(emulator, provider).values())
    start = times[len(times) // 2]
    run = run_tap(emulator.tap_config(providers=[provider], start_date=start.isoformat()))
    expected = {k for k, moment in changed_at(emulator, provider).items() if moment >= start}
    assert keys(run, provider) == expected
    assert 0 < len(expected) < 120


def test_without_state_or_start_date_everything_is_read(emulator, run_tap):
    run = run_tap(emulator.tap_config(providers=["nexus_erp"]))
    assert len(run.records("nexus_erp_leads")) == 120


def test_lookback_re_emits_leads_changed_shortly_before_the_bookmark(emulator, run_tap):
    config = emulator.tap_config(providers=["nexus_erp"])
    first = run_tap(config)
    bookmark = utc(first.bookmark("nexus_erp_leads"))
    window = timedelta(days=30)
    expected = {
        k for k, moment in changed_at(emulator, "nexus_erp").items() if moment >= bookmark - window
    }
    second = run_tap(
        {**config, "lookback_window_seconds": int(window.total_seconds())}, first.final_state
    )
    assert keys(second, "nexus_erp") == expected
    assert 1 < len(expected) < 120
    without = run_tap(config, first.final_state)
    assert keys(without, "nexus_erp") == {
        k for k, m in changed_at(emulator, "nexus_erp").items() if m >= bookmark
    }


def test_autocalls_date_from_is_only_ever_the_users_filter(emulator, run_tap):
    config = emulator.tap_config(providers=["autocalls"])
    first = run_tap(config)
    second = run_tap(config, first.final_state)
    assert second.returncode == 0
    assert all("date_from" not in dict(r.query) for r in emulator.requests)
    emulator.clear_requests()
    run_tap(
        {**config, "autocalls": {**config["autocalls"], "date_from": "2025-01-01"}},
        first.final_state,
    )
    assert {dict(r.query)["date_from"] for r in emulator.requests} == {"2025-01-01"}


def test_flextell_deletes_pass_emits_soft_deleted_leads(emulator, run_tap):
    config = emulator.tap_config(providers=["flextell"], flextell={"include_deleted": True})
    first = run_tap(config)
    already_trashed = {str(lead["id"]) for lead in emulator.trashed("flextell")}
    assert already_trashed
    assert keys(first, "flextell") == set(changed_at(emulator, "flextell")) | already_trashed
    assert all(
        r["deleted_at"] for r in first.records("flextell_leads") if str(r["id"]) in already_trashed
    )
    gone = [lead["id"] for lead in emulator.leads("flextell")[:3]]
    emulator.soft_delete(gone)
    second = run_tap(config, first.final_state)
    records = second.records("flextell_leads")
    bookmark = utc(first.bookmark("flextell_leads"))
    since = {
        str(lead["id"])
        for lead in emulator.leads("flextell") + emulator.trashed("flextell")
        if utc(lead["updated_at"]) >= bookmark
    }
    assert keys(second, "flextell") == {str(i) for i in gone} | since
    assert all(r["deleted_at"] is not None for r in records if r["id"] in gone)
    trashed = [r for r in emulator.requests if dict(r.query).get("trashed") == "true"]
    assert trashed
    plain = run_tap(emulator.tap_config(providers=["flextell"]), first.final_state)
    assert keys(plain, "flextell") == at(emulator, "flextell", first.bookmark("flextell_leads"))


def test_a_killed_run_resumes_from_its_last_state_without_losing_a_change(
    emulator, run_tap, tmp_path
):
    config = emulator.tap_config(
        providers=["teli", "nexus_erp", "sela"],
        max_concurrent_requests=1,
        **{p: {"page_size": 10} for p in ("teli", "nexus_erp", "sela")},
    )
    first = run_tap(config)
    assert first.returncode == 0, first.stderr
    changed = {
        p: [emulator.leads(p)[i][primary_key(p)] for i in (3, 60, 110)]
        for p in ("teli", "nexus_erp", "sela")
    }
    for provider, ids in changed.items():
        emulator.touch(provider, ids)

    # Kill the second run while it is half-way through nexus_erp_leads.
    for provider in ("nexus_erp", "sela"):
        emulator.faults(provider).latency_ms = 40
    config_path = tmp_path / "kill-config.json"
    config_path.write_text(json.dumps({**FAST, **config}))
    state_path = tmp_path / "kill-state.json"
    state_path.write_text(json.dumps(first.final_state))
    emulator.clear_requests()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tap_leads",
            "--config",
            str(config_path),
            "--state",
            str(state_path),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        cwd=REPO,
        env=os.environ.copy(),
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if sum(r.provider == "nexus_erp" for r in emulator.requests) >= 5:
            break
        time.sleep(0.02)
    os.kill(process.pid, signal.SIGKILL)
    out, _ = process.communicate(timeout=30)
    killed = parse_messages(out.decode(errors="replace").rsplit("\n", 1)[0])
    states = [m["value"] for m in killed if m["type"] == "STATE"]
    last_state = states[-1]
    nexus_state = last_state["bookmarks"].get("nexus_erp_leads", {})
    assert nexus_state.get("replication_key_value") == first.bookmark("nexus_erp_leads")
    assert not any(m["type"] == "RECORD" and m["stream"] == "sela_leads" for m in killed)

    for provider in ("nexus_erp", "sela"):
        emulator.faults(provider).latency_ms = 0
    resumed = run_tap(config, last_state)
    assert resumed.returncode == 0, resumed.stderr
    emitted = {
        p: {
            str(r[primary_key(p)])
            for m in (killed, resumed.messages)
            for r in [x["record"] for x in m if x["type"] == "RECORD" and x["stream"] == STREAMS[p]]
        }
        for p in changed
    }
    for provider, ids in changed.items():
        assert {str(i) for i in ids} <= emitted[provider], provider
    assert keys(resumed, "nexus_erp") == {str(i) for i in changed["nexus_erp"]} | at(
        emulator, "nexus_erp", first.bookmark("nexus_erp_leads")
    )


def test_a_shifting_order_keeps_the_previous_bookmark(emulator, run_tap):
    # Without a second walk, a moving list keeps the previous bookmark.
    config = emulator.tap_config(
        providers=["nexus_erp"], nexus_erp={"page_size": 20}, max_rewalks=0
    )
    first = run_tap(config)
    emulator.touch("nexus_erp", [emulator.leads("nexus_erp")[7]["id"]])
    emulator.faults("nexus_erp").duplicate_lead(page=3)
    second = run_tap(config, first.final_state)
    assert second.returncode == 0, second.stderr
    assert second.bookmark("nexus_erp_leads") == first.bookmark("nexus_erp_leads")
    assert "The list moved while it was read (1 lead(s) appeared on two pages" in second.stderr
    third = run_tap(config, second.final_state)
    assert keys(third, "nexus_erp") == keys(second, "nexus_erp")
    assert utc(third.bookmark("nexus_erp_leads")) > utc(first.bookmark("nexus_erp_leads"))
