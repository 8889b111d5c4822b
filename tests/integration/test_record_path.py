"""The RECORD path: a page's lines written in one pass, and every SDK feature on top of it
(selection, stream maps, flattening, BATCH and state) still working."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from urllib.parse import urlsplit

import msgspec

from tests.conftest import STREAMS


def message_lines(stdout: str) -> list[str]:
    return [line for line in stdout.splitlines() if line.startswith('{"type":')]


def test_record_lines_are_whole_messages_in_order_before_each_state(emulator, run_tap):
    run = run_tap(emulator.tap_config(providers=["teli", "autocalls"]))
    assert run.returncode == 0, run.stderr
    lines = message_lines(run.stdout)
    records = [line for line in lines if line.startswith('{"type":"RECORD"')]
    assert len(records) == 240
    for line in records:
        message = json.loads(line)
        assert list(message) == ["type", "stream", "record", "time_extracted"]
        # Byte for byte what encoding the message on its own gives.
        assert msgspec.json.encode(message).decode() == line
    kinds = [json.loads(line)["type"] for line in lines]
    assert kinds[-1] == "STATE"
    # Each stream's records come after its SCHEMA and before the STATE that covers them.
    for stream in (STREAMS["teli"], STREAMS["autocalls"]):
        own = [i for i, line in enumerate(lines) if f'"stream":"{stream}"' in line]
        schema = own[0]
        assert json.loads(lines[schema])["type"] == "SCHEMA"
        after = [i for i, kind in enumerate(kinds) if kind == "STATE" and i > own[-1]]
        assert after, f"a STATE follows the last {stream} record"
    ids = [r["unique_id"] for r in run.records(STREAMS["teli"])]
    assert sorted(ids) == sorted(lead["unique_id"] for lead in emulator.leads("teli"))


def test_stream_maps_and_flattening_on_the_record_path(emulator, run_tap):
    config = emulator.tap_config(
        providers=["teli", "flextell"],
        stream_maps={
            "teli_leads": {"__alias__": "teli_contacts", "origin": "'teli'"},
            "flextell_leads": {"assigned_user": "__NULL__", "reference_source": "__NULL__"},
        },
        flattening_enabled=True,
        flattening_max_depth=1,
    )
    run = run_tap(config)
    assert run.returncode == 0, run.stderr
    assert run.records("teli_leads") == []
    contacts = run.records("teli_contacts")
    assert len(contacts) == 120
    assert {r["origin"] for r in contacts} == {"teli"}
    assert {r["unique_id"] for r in contacts} == {
        lead["unique_id"] for lead in emulator.leads("teli")
    }
    flextell = {lead["id"]: lead for lead in emulator.leads("flextell")}
    records = run.records("flextell_leads")
    assert len(records) == 120
    for record in records:
        assert "status" not in record
        assert "assigned_user" not in record
        status = flextell[record["id"]]["status"]
        assert {key: record[f"status__{key}"] for key in status} == status


def test_a_deselected_field_is_left_out(emulator, run_tap, tmp_path):
    config = emulator.tap_config(providers=["autocalls"])
    discovered = run_tap(config, None, "--discover")
    catalog = json.loads(discovered.stdout)
    for stream in catalog["streams"]:
        for entry in stream["metadata"]:
            if entry["breadcrumb"] == ["properties", "variables"]:
                entry["metadata"]["selected"] = False
            if entry["breadcrumb"] == []:
                entry["metadata"]["selected"] = True
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(catalog))
    run = run_tap(config, None, "--catalog", str(path))
    assert run.returncode == 0, run.stderr
    records = run.records(STREAMS["autocalls"])
    assert len(records) == 120
    assert all("variables" not in record and "phone_number" in record for record in records)


def test_batch_messages_hold_every_lead_with_a_state_after_each(emulator, run_tap, tmp_path):
    root = tmp_path / "batches"
    root.mkdir()
    config = emulator.tap_config(
        providers=["teli"],
        batch_config={
            "encoding": {"format": "jsonl", "compression": "gzip"},
            "storage": {"root": root.as_uri(), "prefix": "leads-"},
            "batch_size": 50,
        },
    )
    run = run_tap(config)
    assert run.returncode == 0, run.stderr
    assert run.records(STREAMS["teli"]) == []
    batches = [m for m in run.messages if m["type"] == "BATCH"]
    assert batches
    leads = []
    for message in batches:
        for url in message["manifest"]:
            with gzip.open(Path(urlsplit(url).path), "rt", encoding="utf-8") as lines:
                leads += [json.loads(line) for line in lines]
    assert sorted(lead["unique_id"] for lead in leads) == sorted(
        lead["unique_id"] for lead in emulator.leads("teli")
    )
    kinds = [m["type"] for m in run.messages]
    for index, kind in enumerate(kinds):
        if kind == "BATCH":
            assert kinds[index + 1] == "STATE"
