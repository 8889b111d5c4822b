"""`meltano run tap-leads target-postgres` into a real PostgreSQL started by the test."""

from __future__ import annotations

import shutil
import signal
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import pgserver
import psycopg
import pytest

from tap_leads.timestamps import parse_timestamp
from tests.e2e.conftest import PROVIDERS, STREAMS, primary_key

pytestmark = pytest.mark.e2e

DATABASE = "leads"
SCHEMA = "tap_leads"
START_TIMEOUT = 180
TRUTHY = {"1", "true", True}


@pytest.fixture(scope="module")
def postgres(tmp_path_factory):
    """A PostgreSQL server on a Unix socket, with an empty database.

    pgserver runs PostgreSQL as a dedicated system user when the tests run as root,
    since PostgreSQL refuses to run as root.
    """

    def give_up(signum, frame):
        raise TimeoutError(f"PostgreSQL did not start within {START_TIMEOUT} s")

    # Not under pytest's temporary directory: pytest resets it to mode 0700 at the start
    # of every session, which would lock the server's user out of its own data.
    home = Path(tempfile.mkdtemp(prefix="tap-leads-e2e-pg-"))
    previous = signal.signal(signal.SIGALRM, give_up)
    signal.alarm(START_TIMEOUT)
    try:
        server = pgserver.get_server(home / "data", cleanup_mode="delete")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    try:
        socket_dir = str(server.get_postmaster_info().socket_dir)
        with psycopg.connect(host=socket_dir, dbname="postgres", user="postgres") as conn:
            conn.autocommit = True
            conn.execute(f"CREATE DATABASE {DATABASE}")
        yield socket_dir
    finally:
        server.cleanup()
        shutil.rmtree(home, ignore_errors=True)


def target_env(socket_dir: str) -> dict[str, str]:
    # The server listens on a Unix socket only; libpq takes its directory as the host,
    # which target-postgres passes on only inside a URL.
    return {
        "TARGET_POSTGRES_SQLALCHEMY_URL": (
            f"postgresql+psycopg://postgres@/{DATABASE}?host={quote(socket_dir)}"
        )
    }


def counts(conn: psycopg.Connection) -> dict[str, tuple[int, int]]:
    """Rows and distinct primary keys per table."""
    result = {}
    for provider in PROVIDERS:
        table, key = STREAMS[provider], primary_key(provider)
        result[table] = conn.execute(
            f'SELECT count(*), count(DISTINCT "{key}") FROM {SCHEMA}.{table}'
        ).fetchone()
    return result


def as_utc(value) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def test_meltano_run_into_postgres(meltano, emu, postgres):
    env = target_env(postgres)
    first = meltano("run", "tap-leads", "target-postgres", **env).check()
    print(f"\nfirst run: {first.seconds:.1f} s")

    expected = {STREAMS[p]: (len(emu.leads(p)), len(emu.leads(p))) for p in PROVIDERS}
    with psycopg.connect(host=postgres, dbname=DATABASE, user="postgres") as conn:
        tables = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
            (SCHEMA,),
        ).fetchall()
        # deleted_leads is there from the first run, empty until a lead is deleted.
        assert {name for (name,) in tables} == {*STREAMS.values(), "deleted_leads"}
        assert counts(conn) == expected

        for provider in PROVIDERS:
            key = primary_key(provider)
            stored = conn.execute(f'SELECT "{key}" FROM {SCHEMA}.{STREAMS[provider]}').fetchall()
            assert {str(value) for (value,) in stored} == {
                str(lead[key]) for lead in emu.leads(provider)
            }

        # Sela sends Pacific time; the warehouse holds the same moment in UTC.
        sela = next(lead for lead in emu.leads("sela") if lead["modified_time"].endswith("-08:00"))
        (stored,) = conn.execute(
            f"SELECT modified_time FROM {SCHEMA}.sela_leads WHERE id = %s", (sela["id"],)
        ).fetchone()
        assert as_utc(stored) == parse_timestamp(sela["modified_time"])
        assert as_utc(stored).hour == (datetime.fromisoformat(sela["modified_time"]).hour + 8) % 24

        # Flextell's nested status arrives whole, as JSON.
        flextell = emu.leads("flextell")[17]
        (status,) = conn.execute(
            f"SELECT status FROM {SCHEMA}.flextell_leads WHERE id = %s", (flextell["id"],)
        ).fetchone()
        assert status == flextell["status"]
        assert set(status) == {"id", "name", "slug", "color", "is_terminal"}

        # is_converted comes as "1", "true", true, "0" or false; it is stored as a boolean.
        (converted,) = conn.execute(
            f"SELECT count(*) FROM {SCHEMA}.flextell_leads WHERE is_converted"
        ).fetchone()
        assert converted == sum(
            1 for lead in emu.leads("flextell") if lead["is_converted"] in TRUTHY
        )

    # Nothing changed: the incremental second run re-sends only the leads at the
    # bookmark, and the upsert leaves one row per lead.
    second = meltano("run", "tap-leads", "target-postgres", **env).check()
    print(f"second run: {second.seconds:.1f} s")
    with psycopg.connect(host=postgres, dbname=DATABASE, user="postgres") as conn:
        assert counts(conn) == expected
