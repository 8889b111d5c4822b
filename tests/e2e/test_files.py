"""Meltano and plain Unix pipes into file targets: CSV and JSON Lines."""

from __future__ import annotations

import csv
import json
import subprocess

import pytest

from tap_leads.timestamps import normalize_timestamp, parse_timestamp
from tests.e2e.conftest import (
    LOADERS,
    PROVIDERS,
    STREAMS,
    TAP,
    plugins_lock,
    primary_key,
    read_jsonl,
)

pytestmark = pytest.mark.e2e

PIPE_TIMEOUT = 600


def read_csv(directory) -> dict[str, list[dict]]:
    tables = {}
    for path in sorted(directory.glob("*.csv")):
        with path.open(newline="", encoding="utf-8") as handle:
            tables[path.stem] = list(csv.DictReader(handle))
    return tables


def assert_all_leads(emu, tables: dict[str, list[dict]]) -> None:
    """One row per lead of every provider, keyed by the provider's primary key."""
    # deleted_leads holds no row after a first run.
    assert tables.pop("deleted_leads", []) == []
    assert set(tables) == set(STREAMS.values())
    for provider in PROVIDERS:
        rows, key = tables[STREAMS[provider]], primary_key(provider)
        leads = emu.leads(provider)
        assert len(rows) == len(leads), provider
        assert {str(row[key]) for row in rows} == {str(lead[key]) for lead in leads}


def test_meltano_run_into_csv(meltano, emu, tmp_path):
    out = tmp_path / "csv"
    meltano("run", "tap-leads", "target-csv", TARGET_CSV_OUTPUT_PATH=str(out)).check()

    tables = read_csv(out)
    assert_all_leads(emu, tables)
    nexus = emu.leads("nexus_erp")[3]
    row = next(row for row in tables["nexus_erp_leads"] if row["id"] == nexus["id"])
    # target-csv writes date-times in Python's str() form, still in UTC.
    assert row["updatedAt"].endswith("+00:00")
    assert parse_timestamp(row["updatedAt"]) == parse_timestamp(nexus["updatedAt"])


def pipe(tap: list[str], target: list[str], workdir) -> None:
    """`tap | target`, as a shell runs it, each side bounded in time."""
    tap_log = (workdir / "tap.log").open("w")
    target_log = (workdir / "target.log").open("w")
    with tap_log, target_log, plugins_lock():
        producer = subprocess.Popen(tap, stdout=subprocess.PIPE, stderr=tap_log, cwd=workdir)
        consumer = subprocess.Popen(
            target, stdin=producer.stdout, stdout=target_log, stderr=target_log, cwd=workdir
        )
        producer.stdout.close()
        try:
            consumer.wait(timeout=PIPE_TIMEOUT)
            producer.wait(timeout=60)
        finally:
            for process in (producer, consumer):
                if process.poll() is None:
                    process.kill()
                    process.wait(timeout=30)
    logs = f"tap:\n{(workdir / 'tap.log').read_text()[-3000:]}\n" + (
        f"target:\n{(workdir / 'target.log').read_text()[-3000:]}"
    )
    assert producer.returncode == 0, logs
    assert consumer.returncode == 0, logs


@pytest.fixture
def tap_command(emu, tmp_path) -> list[str]:
    config = tmp_path / "tap-config.json"
    config.write_text(json.dumps(emu.tap_config()))
    return [str(TAP), "--config", str(config)]


def test_pipe_into_target_jsonl(meltano_installed, emu, tap_command, tmp_path):
    out = tmp_path / "jsonl"
    config = tmp_path / "target-config.json"
    config.write_text(json.dumps({"destination_path": str(out), "do_timestamp_file": False}))
    target = LOADERS / "target-jsonl" / "venv" / "bin" / "target-jsonl"
    pipe(tap_command, [str(target), "--config", str(config)], tmp_path)

    records = read_jsonl(out)
    assert_all_leads(emu, records)
    autocalls = emu.leads("autocalls")[5]
    record = next(r for r in records["autocalls_leads"] if r["id"] == autocalls["id"])
    assert record["updated_at"] == normalize_timestamp(autocalls["updated_at"])
    assert record["variables"] == autocalls["variables"]


def test_pipe_into_target_csv(meltano_installed, emu, tap_command, tmp_path):
    out = tmp_path / "csv"
    config = tmp_path / "target-config.json"
    config.write_text(json.dumps({"output_path": str(out)}))
    target = LOADERS / "target-csv" / "venv" / "bin" / "target-csv"
    pipe(tap_command, [str(target), "--config", str(config)], tmp_path)

    assert_all_leads(emu, read_csv(out))
