"""Stream maps and schema flattening, configured through Meltano."""

from __future__ import annotations

import json

import pytest

from tests.e2e.conftest import read_jsonl

pytestmark = pytest.mark.e2e

FLATTEN = {"TAP_LEADS_FLATTENING_ENABLED": "true", "TAP_LEADS_FLATTENING_MAX_DEPTH": "1"}
STATUS_KEYS = {"id", "name", "slug", "color", "is_terminal"}


def run(meltano, emu, tmp_path, stream_maps: dict) -> dict[str, list[dict]]:
    meltano.configure_tap(emu, providers=["teli", "flextell"])
    out = tmp_path / "jsonl"
    meltano(
        "run",
        "tap-leads",
        "target-jsonl",
        TAP_LEADS_STREAM_MAPS=json.dumps(stream_maps),
        TARGET_JSONL_DESTINATION_PATH=str(out),
        **FLATTEN,
    ).check()
    return read_jsonl(out)


def assert_flat_status(emu, records: list[dict]) -> None:
    leads = {lead["id"]: lead for lead in emu.leads("flextell")}
    assert len(records) == len(leads)
    assert {record["id"] for record in records} == set(leads)
    for record in records:
        assert "status" not in record
        status = leads[record["id"]]["status"]
        assert set(status) == STATUS_KEYS
        assert {key: record[f"status__{key}"] for key in status} == status


def test_alias_and_flatten_through_meltano(meltano, emu, tmp_path):
    records = run(
        meltano,
        emu,
        tmp_path,
        {
            "teli_leads": {"__alias__": "teli_contacts"},
            # Without the objects that can be null (see the test below), every
            # remaining nested object flattens cleanly.
            "flextell_leads": {"assigned_user": "__NULL__", "reference_source": "__NULL__"},
        },
    )

    assert set(records) == {"teli_contacts", "flextell_leads"}
    assert len(records["teli_contacts"]) == len(emu.leads("teli"))
    assert {r["unique_id"] for r in records["teli_contacts"]} == {
        lead["unique_id"] for lead in emu.leads("teli")
    }
    assert_flat_status(emu, records["flextell_leads"])
    assert not any(
        key.startswith(("assigned_user", "reference_source"))
        for record in records["flextell_leads"]
        for key in record
    )


def test_flatten_leads_with_null_nested_objects(meltano, emu, tmp_path):
    records = run(meltano, emu, tmp_path, {"teli_leads": {"__alias__": "teli_contacts"}})

    assert_flat_status(emu, records["flextell_leads"])
    unassigned = [r for r in records["flextell_leads"] if r.get("assigned_user__id") is None]
    assert unassigned
    assert all("assigned_user" not in record for record in unassigned)
