"""Lists as sets, over real HTTP: leads that leave a list are reported once in
deleted_leads, leads that come back with old dates are emitted once."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from emulator import LeadsEmulator
from tap_leads.timestamps import parse_timestamp
from tests.conftest import STREAMS, primary_key

PROVIDERS = list(STREAMS)
OLD = datetime(2024, 11, 26, 9, 30, tzinfo=UTC)


@pytest.fixture
def emu():
    with LeadsEmulator(leads_per_provider=60, seed=13) as emulator:
        yield emulator


def config_for(emu, provider: str, **extra) -> dict:
    settings = {"page_size": 20, **extra.pop(provider, {})}
    return emu.tap_config(providers=[provider], **{provider: settings}, **extra)


def deleted(run) -> list[tuple[str, str, str]]:
    return [(r["stream"], r["account"], r["id"]) for r in run.records("deleted_leads")]


def keys_of(run, provider: str) -> list:
    return [r[primary_key(provider)] for r in run.records(STREAMS[provider])]


def ok(run):
    assert run.returncode == 0, run.stderr[-3000:]
    return run


def at_bookmark_only(run, before, provider: str, but=None) -> bool:
    """Every lead the run emitted (but one) carries the earlier run's bookmark."""
    stream = STREAMS[provider]
    mark = before.final_state["bookmarks"][stream]["replication_key_value"]
    field = "updated_at" if provider != "nexus_erp" else "updatedAt"
    if provider == "sela":
        field = "modified_time"
    rows = [r for r in run.records(stream) if r[primary_key(provider)] != but]
    return all(r[field] == mark for r in rows)


def warnings_of(run) -> list[str]:
    return [line.split("| ")[-1] for line in run.stderr.splitlines() if "| WARNING" in line]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_deletion_between_runs_is_reported_exactly_once(emu, run_tap, provider):
    config = config_for(emu, provider)
    first = ok(run_tap(config))
    assert deleted(first) == []
    gone = emu.listed_keys(provider)[5:8]
    emu.delete_leads(provider, ids=gone)
    started = datetime.now(UTC)
    second = ok(run_tap(config, first.final_state))
    stream = STREAMS[provider]
    assert sorted(deleted(second)) == sorted((stream, "", str(key)) for key in gone)
    for record in second.records("deleted_leads"):
        assert started <= parse_timestamp(record["deleted_at"]) <= datetime.now(UTC)
    schema = second.schema("deleted_leads")
    assert schema["key_properties"] == ["stream", "account", "id"]
    assert schema["bookmark_properties"] == ["deleted_at"]
    # Only leads at the bookmark are emitted again; nothing is reported twice.
    assert at_bookmark_only(second, first, provider)
    third = ok(run_tap(config, second.final_state))
    assert deleted(third) == []


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_restored_lead_with_old_dates_is_emitted_once(emu, run_tap, provider):
    key = emu.listed_keys(provider)[4]
    emu.delete_leads(provider, ids=[key])
    config = config_for(emu, provider)
    first = ok(run_tap(config))
    assert key not in keys_of(first, provider)
    emu.restore(provider, [key], when=OLD)
    second = ok(run_tap(config, first.final_state))
    assert keys_of(second, provider).count(key) == 1
    assert at_bookmark_only(second, first, provider, but=key)
    assert deleted(second) == []
    third = ok(run_tap(config, second.final_state))
    assert key not in keys_of(third, provider)
    assert deleted(third) == []


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_target_that_never_commits_gets_the_same_deletions_again(emu, run_tap, provider):
    config = config_for(emu, provider)
    first = ok(run_tap(config))
    gone = emu.listed_keys(provider)[:2]
    emu.delete_leads(provider, ids=gone)
    second = ok(run_tap(config, first.final_state))
    again = ok(run_tap(config, first.final_state))
    assert sorted(deleted(again)) == sorted(deleted(second))
    assert len(deleted(again)) == 2


@pytest.mark.parametrize("provider", PROVIDERS)
def test_an_emptied_list_reports_nothing_and_warns_once(emu, run_tap, provider):
    config = config_for(emu, provider)
    first = ok(run_tap(config))
    emu.delete_leads(provider, n=len(emu.listed_keys(provider)))
    second = ok(run_tap(config, first.final_state))
    assert deleted(second) == []
    fraction = [w for w in warnings_of(second) if "max_deleted_fraction" in w]
    assert fraction == [
        f"{STREAMS[provider]}: 60 of the 60 lead(s) the earlier run listed are gone, more than "
        "max_deleted_fraction (0.5) allows, so none is reported as deleted and the next run "
        "compares with the same earlier list. If they really were deleted, raise "
        "max_deleted_fraction for one run."
    ]
    # The next run compares with the same earlier walk; a raised limit lets them through.
    third = ok(run_tap({**config, "max_deleted_fraction": 1}, second.final_state))
    assert len(deleted(third)) == 60


@pytest.mark.parametrize(
    ("provider", "setting", "field"),
    [
        ("teli", "phone_number", "phone_number"),
        ("nexus_erp", "search", "name"),
        ("flextell", "search", "email"),
        ("sela", "email", "email"),
        ("autocalls", "phone_number", "phone_number"),
    ],
)
def test_a_filter_change_reports_nothing(emu, run_tap, provider, setting, field):
    config = config_for(emu, provider)
    first = ok(run_tap(config))
    lead = emu.listing(provider)[0]
    narrowed = config_for(emu, provider, **{provider: {setting: lead[field]}})
    second = ok(run_tap(narrowed, first.final_state))
    assert second.final_state["bookmarks"][STREAMS[provider]]["membership"]["count"] < 60
    assert deleted(second) == []
    # Back to the whole list: every lead is listed again; none is reported.
    third = ok(run_tap(config, second.final_state))
    assert deleted(third) == []


@pytest.mark.parametrize("provider", PROVIDERS)
def test_an_upgraded_state_without_membership_only_records_it(emu, run_tap, provider):
    config = config_for(emu, provider)
    first = ok(run_tap(config))
    old = first.final_state
    entry = old["bookmarks"][STREAMS[provider]]
    assert entry["membership"]["count"] == 60
    del entry["membership"]
    emu.delete_leads(provider, ids=emu.listed_keys(provider)[:1])
    second = ok(run_tap(config, old))
    assert deleted(second) == []
    assert at_bookmark_only(second, first, provider)
    emu.delete_leads(provider, ids=emu.listed_keys(provider)[:1])
    third = ok(run_tap(config, second.final_state))
    assert len(deleted(third)) == 1


def test_detect_deletes_false_keeps_no_membership_and_reports_nothing(emu, run_tap):
    config = config_for(emu, "sela", detect_deletes=False)
    first = ok(run_tap(config))
    assert "membership" not in first.final_state["bookmarks"]["sela_leads"]
    emu.delete_leads("sela", ids=emu.listed_keys("sela")[:3])
    second = ok(run_tap(config, first.final_state))
    assert [m for m in second.messages if m.get("stream") == "deleted_leads"] == []


def test_flextell_soft_deletes_carry_flextells_own_deleted_at(emu, run_tap):
    config = config_for(emu, "flextell", flextell={"include_deleted": True})
    first = ok(run_tap(config))
    gone = emu.listed_keys("flextell")[10:13]
    emu.soft_delete(gone)
    second = ok(run_tap(config, first.final_state))
    trashed = {lead["id"]: lead["deleted_at"] for lead in emu.trashed("flextell")}
    reported = {r["id"]: r["deleted_at"] for r in second.records("deleted_leads")}
    assert reported == {
        str(key): parse_timestamp(trashed[key]).isoformat(timespec="microseconds") for key in gone
    }
    # The trashed leads themselves are emitted too, with their deleted_at.
    assert {r["id"] for r in second.records("flextell_leads") if r["deleted_at"]} >= set(gone)


@pytest.mark.parametrize("provider", ["autocalls", "teli"])
def test_tombstones_send_the_key_and_sdc_deleted_at(emu, run_tap, provider):
    config = config_for(emu, provider, tombstones=True)
    first = ok(run_tap(config))
    assert "_sdc_deleted_at" in first.schema(STREAMS[provider])["schema"]["properties"]
    gone = emu.listed_keys(provider)[:2]
    emu.delete_leads(provider, ids=gone)
    second = ok(run_tap(config, first.final_state))
    key = primary_key(provider)
    tombstones = [r for r in second.records(STREAMS[provider]) if "_sdc_deleted_at" in r]
    assert sorted(r[key] for r in tombstones) == sorted(gone)
    assert all(set(r) == {key, "_sdc_deleted_at"} for r in tombstones)
    assert len(deleted(second)) == 2
