"""Deleted leads leave the warehouse: `meltano run` into PostgreSQL with deleted_leads and
the README's SQL, and into DuckDB with tombstones and hard_delete."""

from __future__ import annotations

import duckdb
import psycopg
import pytest

from emulator import LeadsEmulator
from tests.e2e.conftest import REPO, MeltanoProject, meltano_env
from tests.e2e.test_postgres import DATABASE, postgres, target_env  # noqa: F401

pytestmark = pytest.mark.e2e

PROVIDERS = ("autocalls", "teli")

#: The README's statements, for the single-block form (the accounts form adds the account).
POSTGRES_DELETE = """\
DELETE FROM tap_leads.autocalls_leads AS l
USING tap_leads.deleted_leads AS d
WHERE d.stream = 'autocalls_leads' AND d.account = '' AND d.id = l.id::text
  AND d._sdc_batched_at >= l._sdc_batched_at;"""
#: The docs' DuckDB statement, for the accounts form (see docs/deletes.md for why).
DUCKDB_DELETE = """\
DELETE FROM tap_leads.autocalls_leads AS l
USING tap_leads.deleted_leads AS d
WHERE d.stream = 'autocalls_leads' AND d.account = l.account
  AND d.id = CAST(l.id AS VARCHAR) AND d._sdc_batched_at >= l._sdc_batched_at;"""
POSTGRES_VIEW = """\
CREATE VIEW tap_leads.teli_leads_current AS
SELECT l.* FROM tap_leads.teli_leads AS l
WHERE NOT EXISTS (
  SELECT 1 FROM tap_leads.deleted_leads AS d
  WHERE d.stream = 'teli_leads' AND d.account = '' AND d.id = l.unique_id
    AND d._sdc_batched_at >= l._sdc_batched_at);"""


@pytest.fixture
def own_emu():
    with LeadsEmulator(leads_per_provider=80, seed=17) as emulator:
        yield emulator


def ids(rows) -> set[str]:
    return {str(value) for (value,) in rows}


def test_readme_holds_the_sql_tested_here():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    docs = readme + (REPO / "docs" / "deletes.md").read_text(encoding="utf-8")
    assert POSTGRES_DELETE in docs
    assert POSTGRES_VIEW in docs
    assert DUCKDB_DELETE in docs


def test_deleted_leads_and_the_readme_sql_remove_exactly_the_deleted_rows(
    meltano_installed,
    own_emu,
    tmp_path,
    postgres,  # noqa: F811
):
    meltano = MeltanoProject(tmp_path, own_emu)
    meltano.configure_tap(own_emu, providers=list(PROVIDERS))
    env = {**target_env(postgres), "TARGET_POSTGRES_ADD_RECORD_METADATA": "true"}
    meltano("run", "tap-leads", "target-postgres", **env).check()
    gone = {p: own_emu.listed_keys(p)[7:10] for p in PROVIDERS}
    for provider, keys in gone.items():
        own_emu.delete_leads(provider, ids=keys)
    back = own_emu.listed_keys("autocalls")[20]
    own_emu.delete_leads("autocalls", ids=[back])
    meltano("run", "tap-leads", "target-postgres", **env).check()
    # Restored with its old dates before the third run: loaded again, and kept.
    own_emu.restore("autocalls", [back])
    meltano("run", "tap-leads", "target-postgres", **env).check()

    with psycopg.connect(host=postgres, dbname=DATABASE, user="postgres") as conn:
        reported = conn.execute("SELECT stream, account, id FROM tap_leads.deleted_leads")
        assert sorted(reported.fetchall()) == sorted(
            [(f"{p}_leads", "", str(k)) for p in PROVIDERS for k in gone[p]]
            + [("autocalls_leads", "", str(back))]
        )
        conn.execute(POSTGRES_DELETE)
        conn.execute(POSTGRES_VIEW)
        kept = ids(conn.execute("SELECT id FROM tap_leads.autocalls_leads"))
        assert kept == {str(k) for k in own_emu.listed_keys("autocalls")}
        current = ids(conn.execute("SELECT unique_id FROM tap_leads.teli_leads_current"))
        assert current == {str(k) for k in own_emu.listed_keys("teli")}
        loaded = ids(conn.execute("SELECT unique_id FROM tap_leads.teli_leads"))
        assert loaded - current == {str(k) for k in gone["teli"]}


def test_tombstones_with_hard_delete_remove_the_rows_from_duckdb(meltano_installed, tmp_path):
    accounts = {"autocalls": {"acme": 40, "globex": 30}, "sela": {"north": 40}}
    with LeadsEmulator(leads_per_provider=5, seed=19, accounts=accounts) as emu:
        meltano = MeltanoProject(tmp_path, emu)
        for key in [key for key in meltano.env if key.startswith("TAP_LEADS_")]:
            del meltano.env[key]
        config = {**emu.accounts_config(["autocalls", "sela"]), "tombstones": True}
        meltano.env.update(meltano_env.tap_env(config))
        database = tmp_path / "leads.duckdb"
        env = {
            "TARGET_DUCKDB_FILEPATH": str(database),
            "TARGET_DUCKDB_HARD_DELETE": "true",
            "TARGET_DUCKDB_ADD_METADATA_COLUMNS": "true",
        }
        meltano("run", "tap-leads", "target-duckdb", **env).check()
        gone = {
            ("autocalls", "acme"): emu.listed_keys("autocalls", account="acme")[3:6],
            ("sela", "north"): emu.listed_keys("sela", account="north")[:2],
        }
        for (provider, account), keys in gone.items():
            emu.delete_leads(provider, ids=keys, account=account)
        meltano("run", "tap-leads", "target-duckdb", **env).check()

        with duckdb.connect(str(database)) as db:
            for provider, names in accounts.items():
                rows = db.execute(f"SELECT account, id FROM tap_leads.{provider}_leads")
                assert sorted(rows.fetchall()) == sorted(
                    (name, key) for name in names for key in emu.listed_keys(provider, account=name)
                ), provider
            reported = db.execute("SELECT stream, account, id FROM tap_leads.deleted_leads")
            assert sorted(reported.fetchall()) == sorted(
                (f"{p}_leads", a, str(k)) for (p, a), keys in gone.items() for k in keys
            )
            # The tombstones removed the rows already: the docs' statement finds none left.
            before = db.execute("SELECT count(*) FROM tap_leads.autocalls_leads").fetchone()
            db.execute(DUCKDB_DELETE)
            assert db.execute("SELECT count(*) FROM tap_leads.autocalls_leads").fetchone() == before
