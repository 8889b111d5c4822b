"""`meltano run tap-leads target-duckdb`, the demo's pipeline, and the demo script itself."""

from __future__ import annotations

import re

import duckdb
import pytest

from tests.e2e.conftest import (
    PROVIDERS,
    REPO,
    STREAMS,
    clean_environ,
    plugins_lock,
    primary_key,
    run_logged,
)

pytestmark = pytest.mark.e2e

DEMO_LEADS = 400
DEMO_TIMEOUT = 1800


def test_meltano_run_into_duckdb(meltano, emu, tmp_path):
    database = tmp_path / "leads.duckdb"
    meltano("run", "tap-leads", "target-duckdb", TARGET_DUCKDB_FILEPATH=str(database)).check()

    with duckdb.connect(str(database), read_only=True) as db:
        for provider in PROVIDERS:
            table, key = f"tap_leads.{STREAMS[provider]}", primary_key(provider)
            leads = emu.leads(provider)
            # target-duckdb 0.8.0 with duckdb >= 1.3 loses the first row of each batch.
            (first,) = db.execute(
                f'SELECT count(*) FROM {table} WHERE "{key.lower()}" = ?', [leads[0][key]]
            ).fetchone()
            assert first == 1, provider
            rows = db.execute(f'SELECT "{key.lower()}" FROM {table}').fetchall()
            assert len(rows) == len(leads), provider
            assert {str(value) for (value,) in rows} == {str(lead[key]) for lead in leads}


def test_demo_script(meltano_installed, tmp_path):
    """scripts/demo, as a new user runs it: twice, to show that it can be run again."""
    env = {**clean_environ(), "DEMO_LEADS": str(DEMO_LEADS)}
    for attempt in (1, 2):
        log = tmp_path / f"demo-{attempt}.log"
        with plugins_lock(exclusive=True):
            result = run_logged(
                [str(REPO / "scripts" / "demo")], log, env=env, timeout=DEMO_TIMEOUT
            )
        result.check()
        output = log.read_text(encoding="utf-8")
        table = re.findall(r"^tap_leads\.(\w+) +(\d+) +(\d+) +ok$", output, re.MULTILINE)
        assert sorted(table) == sorted(
            [
                *((stream, str(DEMO_LEADS), str(DEMO_LEADS)) for stream in STREAMS.values()),
                ("deleted_leads", "0", "0"),
            ]
        )
        assert re.search(rf"^total +{5 * DEMO_LEADS} +{5 * DEMO_LEADS}$", output, re.MULTILINE)
        assert "teli_leads done:" in output
        # A healthy run is quiet: no WARNING or ERROR from the tap, no warning from Meltano.
        noisy = [
            line
            for line in output.splitlines()
            if re.search(r"\| (WARNING|ERROR) |\[(warning|error) *\]", line)
        ]
        assert noisy == []
        print(f"\nscripts/demo run {attempt}: {result.seconds:.1f} s")
