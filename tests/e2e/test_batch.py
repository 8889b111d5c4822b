"""BATCH messages: the tap writes the leads to files and announces them, each followed by STATE.

Runs the installed `tap-leads` against the emulator with `batch_config`, reads the files
back, and loads them with `meltano run tap-leads target-postgres`.
"""

from __future__ import annotations

import gzip
import json
import math
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pyarrow.parquet as pq
import pytest

from tap_leads.timestamps import parse_timestamp
from tests.e2e import test_postgres
from tests.e2e.conftest import (
    PROVIDERS,
    STREAMS,
    TAP,
    MeltanoProject,
    lead_ids,
    primary_key,
    replication_key,
)

pytestmark = pytest.mark.e2e

# Smaller than every provider's lead count, so that each stream writes several files.
BATCH_SIZE = 100
RUN_TIMEOUT = 300

postgres = test_postgres.postgres


def batch_config(root: Path, file_format: str, compression: str, **more) -> dict:
    return {
        "encoding": {"format": file_format, "compression": compression},
        "storage": {"root": root.as_uri(), "prefix": "leads-"},
        **more,
    }


def run_tap(config: dict, workdir: Path) -> list[dict]:
    path = workdir / "config.json"
    path.write_text(json.dumps(config))
    result = subprocess.run(
        [str(TAP), "--config", str(path)],
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        check=False,
        cwd=workdir,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def read_batch_file(url: str, file_format: str, compression: str) -> list[dict]:
    path = Path(urlsplit(url).path)
    assert path.exists(), url
    if file_format == "parquet":
        # The SDK compresses Parquet's pages with gzip; the file stays a Parquet file.
        return pq.read_table(path).to_pylist()
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


@pytest.mark.parametrize(
    ("file_format", "compression"),
    [("jsonl", "gzip"), ("parquet", "gzip"), ("parquet", "none")],
)
def test_batch_files_hold_every_lead(emu, tmp_path, file_format, compression):
    root = tmp_path / "batches"
    config = emu.tap_config(
        batch_config=batch_config(root, file_format, compression, batch_size=BATCH_SIZE)
    )

    messages = run_tap(config, tmp_path)

    assert not [m for m in messages if m["type"] == "RECORD"]
    batches = [(i, m) for i, m in enumerate(messages) if m["type"] == "BATCH"]
    for _, message in batches:
        assert message["encoding"] == {"format": file_format, "compression": compression}
    # Each stream's files are all announced before its final STATE, and that STATE comes
    # before the next stream starts.
    for provider in PROVIDERS:
        last = max(i for i, m in batches if m["stream"] == STREAMS[provider])
        after = next(m["type"] for m in messages[last + 1 :] if m["type"] != "BATCH")
        assert after == "STATE", STREAMS[provider]

    for provider in PROVIDERS:
        stream, key = STREAMS[provider], primary_key(provider)
        manifests = [m["manifest"] for _, m in batches if m["stream"] == stream]
        expected = len(emu.leads(provider))
        assert len(manifests) == math.ceil(expected / BATCH_SIZE), stream
        rows = [
            row
            for manifest in manifests
            for url in manifest
            for row in read_batch_file(url, file_format, compression)
        ]
        assert len(rows) == expected, stream
        assert {row[key] for row in rows} == lead_ids(emu, provider), stream
        # The records in the files are shaped as RECORD messages would be: UTC timestamps.
        stamps = [row[replication_key(provider)] for row in rows]
        assert all(s is None or s.endswith("+00:00") for s in stamps), stream
    assert sorted(p.name for p in root.iterdir()) == sorted(
        Path(urlsplit(url).path).name for _, m in batches for url in m["manifest"]
    )


def test_a_state_follows_each_batch(emu, tmp_path):
    config = emu.tap_config(
        batch_config=batch_config(tmp_path / "files", "jsonl", "gzip", batch_size=BATCH_SIZE)
    )

    messages = run_tap(config, tmp_path)

    kinds = [m["type"] for m in messages]
    assert kinds.count("BATCH") == sum(math.ceil(len(emu.leads(p)) / BATCH_SIZE) for p in PROVIDERS)
    without_state = [
        i for i, kind in enumerate(kinds) if kind == "BATCH" and kinds[i + 1] != "STATE"
    ]
    assert without_state == []


def test_batch_run_keeps_the_same_bookmarks(emu, tmp_path):
    """A run with BATCH messages ends in the state a run with RECORD messages ends in."""
    (tmp_path / "records").mkdir()
    (tmp_path / "batch").mkdir()
    with_records = run_tap(emu.tap_config(), tmp_path / "records")
    with_batches = run_tap(
        emu.tap_config(batch_config=batch_config(tmp_path / "files", "jsonl", "gzip")),
        tmp_path / "batch",
    )

    final = [m for m in with_records if m["type"] == "STATE"][-1]["value"]
    assert [m for m in with_batches if m["type"] == "STATE"][-1]["value"] == final
    for provider in PROVIDERS:
        bookmark = final["bookmarks"][STREAMS[provider]]["replication_key_value"]
        latest = max(
            moment
            for lead in emu.leads(provider)
            if (moment := parse_timestamp(lead.get(replication_key(provider)))) is not None
        )
        assert parse_timestamp(bookmark) == latest, provider


def test_meltano_run_into_postgres_with_batches(meltano_installed, emu, postgres, tmp_path):
    """target-postgres (MeltanoLabs, on singer-sdk 0.54) loads the tap's JSON Lines batches."""
    root = tmp_path / "batches"
    root.mkdir()
    # Meltano declares no batch_size setting: one file per stream at the SDK's 10,000 rows.
    meltano = MeltanoProject(tmp_path, emu, batch_config=batch_config(root, "jsonl", "gzip"))

    run = meltano("run", "tap-leads", "target-postgres", **test_postgres.target_env(postgres))

    run.check()
    log = run.log.read_text(encoding="utf-8", errors="replace")
    assert '"metric":"batch_count"' in log, "the tap sent no BATCH message"
    assert sorted(path.name.split("--")[1].split("-")[0] for path in root.iterdir()) == sorted(
        STREAMS.values()
    )
    expected = {STREAMS[p]: (len(emu.leads(p)), len(emu.leads(p))) for p in PROVIDERS}
    with psycopg.connect(host=postgres, dbname=test_postgres.DATABASE, user="postgres") as conn:
        assert test_postgres.counts(conn) == expected
