"""A page's RECORD lines written in one pass give exactly the SDK's per-record output.

The per-record path is taken whenever a stream map, flattening, a deselected field or
BATCH is on (tests/unit/test_page_sync.py checks which path a run takes). A stream map
that changes nothing (`{"teli_leads": {}}`) takes the per-record path and writes the same
records, so a run with it is the per-record twin of a run without it.
"""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from singer_sdk.helpers._flattening import flatten_record

from emulator import LeadsEmulator
from tap_leads.tap import TapLeads

#: What differs from run to run: the extraction time and the replication signpost.
RUN_TIMES = re.compile(rb'"(time_extracted|replication_key_signpost)":"[^"]*"')
METRIC = re.compile(r'METRIC: (\{"type":"counter","metric":"record_count".*\})')
PROVIDERS = ["teli", "flextell", "autocalls"]
#: Stream maps that change nothing: the per-record path, the same records.
SAME = {"stream_maps": {name: {} for name in ("teli_leads", "flextell_leads", "autocalls_leads")}}


def lines(stdout: str) -> list[bytes]:
    """The Singer messages, the times of the run left out (each run has its own)."""
    found = [line.encode() for line in stdout.splitlines() if line.startswith('{"type":')]
    return [RUN_TIMES.sub(rb'"\1":""', line) for line in found]


def record_counts(stderr: str) -> list[dict]:
    counts = [json.loads(m.group(1)) for m in METRIC.finditer(stderr)]
    for count in counts:
        count["tags"].pop("pid")
    return counts


@pytest.fixture
def accounts_emulator():
    with LeadsEmulator(
        leads_per_provider=40,
        seed=5,
        accounts={"autocalls": {"acme": 70, "globex": 0, "initech": 9}, "teli": {"p": {"N": 50}}},
    ) as emu:
        yield emu


def test_the_same_bytes_and_counts_as_the_per_record_path(emulator, run_tap):
    config = emulator.tap_config(providers=PROVIDERS, teli={"page_size": 7})
    paged, per_record = run_tap(config), run_tap({**config, **SAME})
    assert paged.returncode == per_record.returncode == 0, paged.stderr + per_record.stderr
    assert len(paged.records("teli_leads")) == 120
    assert lines(paged.stdout) == lines(per_record.stdout)
    counts = record_counts(paged.stderr)
    assert {c["tags"]["stream"]: c["value"] for c in counts} == {
        "teli_leads": 120,
        "flextell_leads": 120,
        "autocalls_leads": 120,
    }
    assert counts == record_counts(per_record.stderr)


def test_the_same_bytes_per_account_and_on_an_incremental_run(accounts_emulator, run_tap):
    config = accounts_emulator.accounts_config(["autocalls", "teli"], autocalls={"page_size": 8})
    paged, per_record = run_tap(config), run_tap({**config, **SAME})
    assert paged.returncode == per_record.returncode == 0, paged.stderr + per_record.stderr
    assert len(paged.records("autocalls_leads")) == 79
    assert lines(paged.stdout) == lines(per_record.stdout)
    assert record_counts(paged.stderr) == record_counts(per_record.stderr)
    state = paged.final_state
    changed = [lead["id"] for lead in accounts_emulator.leads("autocalls", account="acme")][:3]
    accounts_emulator.touch("autocalls", changed, account="acme")
    again, again_per_record = run_tap(config, state), run_tap({**config, **SAME}, state)
    emitted = {r["id"] for r in again.records("autocalls_leads") if r["account"] == "acme"}
    assert set(changed) <= emitted
    assert len(again.records("autocalls_leads")) < 79
    assert lines(again.stdout) == lines(again_per_record.stdout)


def test_state_every_state_msg_frequency_records_as_the_sdk_writes_it(run_tap):
    with LeadsEmulator(leads_per_provider=1, leads={"teli": 21_000}, seed=3) as emu:
        config = emu.tap_config(providers=["teli"], detect_deletes=False)
        paged, per_record = run_tap(config), run_tap({**config, **SAME})
    assert paged.returncode == per_record.returncode == 0, paged.stderr + per_record.stderr
    assert lines(paged.stdout) == lines(per_record.stdout)
    kinds = [m["type"] for m in paged.messages if m.get("stream") != "deleted_leads"]
    records_before = [kinds[:i].count("RECORD") for i, kind in enumerate(kinds) if kind == "STATE"]
    # Every 10,000 records (the SDK's STATE_MSG_FREQUENCY), and the stream's end.
    assert records_before == [10_000, 20_000, 21_000]
    first = paged.records("teli_leads")[:10_000]
    middle = paged.states[0]["bookmarks"]["teli_leads"]["progress_markers"]
    assert middle["replication_key_value"] == max(r["updated_at"] for r in first)


def test_a_stream_map_adds_to_the_same_records(emulator, run_tap):
    config = emulator.tap_config(providers=["teli"])
    plain = run_tap(config)
    mapped = run_tap({**config, "stream_maps": {"teli_leads": {"origin": "'teli'"}}})
    assert plain.returncode == mapped.returncode == 0, plain.stderr + mapped.stderr
    expected = [{**record, "origin": "teli"} for record in plain.records("teli_leads")]
    assert mapped.records("teli_leads") == expected


def test_flattening_flattens_the_same_records(emulator, run_tap):
    config = emulator.tap_config(providers=["flextell"])
    plain = run_tap(config)
    flat = run_tap({**config, "flattening_enabled": True, "flattening_max_depth": 1})
    assert plain.returncode == flat.returncode == 0, plain.stderr + flat.stderr
    schema = flat.schema("flextell_leads")["schema"]
    properties = plain.schema("flextell_leads")["schema"]["properties"]
    objects = {k for k, p in properties.items() if "object" in p.get("type", ())}
    # A null object is left out before flattening (records.RecordShaper, omit_null_objects).
    expected = [
        flatten_record(
            {k: v for k, v in r.items() if v is not None or k not in objects}, schema, max_level=1
        )
        for r in plain.records("flextell_leads")
    ]
    assert len(expected) == 120
    assert flat.records("flextell_leads") == expected


def test_a_deselected_field_leaves_the_same_records_without_it(emulator, run_tap, tmp_path):
    config = emulator.tap_config(providers=["autocalls"])
    catalog = json.loads(run_tap(config, None, "--discover").stdout)
    for stream in catalog["streams"]:
        for entry in stream["metadata"]:
            if entry["breadcrumb"] == ["properties", "variables"]:
                entry["metadata"]["selected"] = False
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(catalog))
    plain, deselected = run_tap(config), run_tap(config, None, "--catalog", str(path))
    assert plain.returncode == deselected.returncode == 0, plain.stderr + deselected.stderr
    expected = [
        {k: v for k, v in r.items() if k != "variables"} for r in plain.records("autocalls_leads")
    ]
    assert len(expected) == 120
    assert deselected.records("autocalls_leads") == expected


def test_batch_files_hold_the_same_records(emulator, run_tap, tmp_path):
    config = emulator.tap_config(providers=["teli"])
    plain = run_tap(config)
    root = tmp_path / "batches"
    root.mkdir()
    encoding = {"format": "jsonl", "compression": "gzip"}
    storage = {"root": root.as_uri(), "prefix": "leads-"}
    batch = {"encoding": encoding, "storage": storage, "batch_size": 50}
    batched = run_tap({**config, "batch_config": batch})
    assert plain.returncode == batched.returncode == 0, plain.stderr + batched.stderr
    found = []
    for message in batched.messages:
        for url in message.get("manifest", ()):
            with gzip.open(Path(urlsplit(url).path), "rt", encoding="utf-8") as rows:
                found += [json.loads(row) for row in rows]
    assert len(found) == 120
    assert found == plain.records("teli_leads")


def test_a_connection_test_writes_the_same_first_lead(emulator, run_tap):
    config = emulator.tap_config(providers=PROVIDERS)
    paged = run_tap(config, None, "--test")
    per_record = run_tap({**config, **SAME}, None, "--test")
    assert paged.returncode == per_record.returncode == 0, paged.stderr + per_record.stderr
    assert lines(paged.stdout) == lines(per_record.stdout)
    plain = run_tap(config)
    for stream in ("teli_leads", "flextell_leads", "autocalls_leads"):
        assert paged.records(stream) == plain.records(stream)[:1]


def dry_run(config: dict, capfd, limit: int) -> list[bytes]:
    tap = TapLeads(config=config)
    tap.run_sync_dry_run(dry_run_record_limit=limit)
    tap.message_writer.flush()
    return lines(capfd.readouterr().out)


def test_a_record_limit_stops_where_the_sdks_loop_stops(emulator, capfd):
    config = emulator.tap_config(providers=["teli", "autocalls"], teli={"page_size": 3})
    paged = dry_run(config, capfd, 5)
    assert dry_run({**config, **SAME}, capfd, 5) == paged

    def records(found: list[bytes], stream: str) -> list[bytes]:
        return [
            line
            for line in found
            if line.startswith(b'{"type":"RECORD","stream":"%b"' % stream.encode())
        ]

    everything = dry_run(config, capfd, 1000)
    for stream in ("teli_leads", "autocalls_leads"):
        assert len(records(paged, stream)) == 5
        # The SDK checks the limit before each record: with exactly 5 read, it never trips.
        assert records(paged, stream) == records(everything, stream)[:5]
