"""The tap on Flextell OAuth: short-lived access tokens refreshed during a sync, rotated
refresh tokens carried from run to run by the token store alone, and no secret in any output.

The emulator issues access tokens that live LIFETIME seconds and refresh tokens that work
once.
"""

from __future__ import annotations

import itertools
import json
import time
from collections import Counter
from pathlib import Path

import pytest

from emulator import LeadsEmulator
from tap_leads.auth.token_store import TokenStore
from tests.e2e.conftest import (  # noqa: F401 (meltano_installed is a fixture)
    MeltanoProject,
    meltano_env,
    meltano_installed,
    read_jsonl,
)

LIFETIME = 2.0
LEADS = 5000


@pytest.fixture
def oauth_emu():
    with LeadsEmulator(
        leads_per_provider=50, leads={"flextell": LEADS}, flextell_token_lifetime=LIFETIME
    ) as emulator:
        yield emulator


@pytest.fixture
def store(tmp_path: Path) -> Path:
    directory = tmp_path / "secrets"
    directory.mkdir()
    return directory / "flextell-tokens.json"


def oauth_config(emu: LeadsEmulator, store: Path, **block) -> dict:
    return {
        "flextell": emu.flextell_oauth_config(str(store), **block),
        "max_concurrent_requests": 8,
    }


def lead_requests(emu: LeadsEmulator) -> list:
    return [r for r in emu.requests if r.path.endswith("/v1/leads")]


def assert_each_refresh_token_spent_once(emu: LeadsEmulator) -> None:
    grants = emu.flextell_oauth.grants
    assert all(g.status == 200 for g in grants), [(g.status, g.error) for g in grants]
    spent = Counter(g.refresh_token for g in grants)
    assert not spent or max(spent.values()) == 1


def all_secrets(emu: LeadsEmulator) -> list[str]:
    server = emu.flextell_oauth
    issued = [
        token
        for grant in server.grants
        for token in (grant.issued_access_token, grant.issued_refresh_token)
        if token
    ]
    return [server.client_secret, server.initial_refresh_token, *issued]


def test_a_long_sync_refreshes_once_per_expiry(oauth_emu, run_tap, store):
    emu = oauth_emu
    # Slow pages, so that the sync outlives several access tokens with 8 requests in flight.
    emu.faults("flextell").latency_ms = 250
    run = run_tap(oauth_config(emu, store, page_size=20), timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    ids = [record["id"] for record in run.records("flextell_leads")]
    assert len(ids) == len(set(ids)) == LEADS

    pages = lead_requests(emu)
    duration = pages[-1].time - pages[0].time
    assert duration >= 3 * LIFETIME, f"the sync took only {duration:.1f} s"
    grants = emu.flextell_oauth.grants
    assert_each_refresh_token_spent_once(emu)
    # Refreshes come at three quarters of a token's life, one per token, never two at once.
    gaps = [later.time - earlier.time for earlier, later in itertools.pairwise(grants)]
    assert all(gap >= LIFETIME * 0.75 - 0.3 for gap in gaps), gaps
    assert len(grants) >= 4  # the first token and one per expiry crossed
    assert len(grants) <= duration / (LIFETIME * 0.75) + 2
    # Every page was answered with a token from a refresh, and nothing failed for good.
    assert {r.status for r in pages} <= {200, 401}
    assert TokenStore(store).read().refresh_token == grants[-1].issued_refresh_token


def test_a_401_refreshes_once_and_the_page_is_fetched_again(oauth_emu, run_tap, store):
    emu = oauth_emu
    emu.faults("flextell").unauthorized(times=1, page=3)
    run = run_tap(oauth_config(emu, store, page_size=100))
    assert run.returncode == 0, run.stderr[-3000:]
    assert len(run.records("flextell_leads")) == LEADS
    assert [r.status for r in lead_requests(emu)].count(401) == 1
    assert len(emu.flextell_oauth.grants) == 2  # the first token, and one after the 401
    assert_each_refresh_token_spent_once(emu)


def test_a_second_run_starts_from_the_store_alone(oauth_emu, run_tap, store):
    emu = oauth_emu
    first = run_tap(oauth_config(emu, store, page_size=100))
    assert first.returncode == 0, first.stderr[-3000:]
    rotated = emu.flextell_oauth.grants[-1].issued_refresh_token
    time.sleep(LIFETIME)  # the stored access token has expired: the next run must refresh

    # The config still holds the initial refresh token, spent by the first run.
    emu.clear_requests()
    spent_before = len(emu.flextell_oauth.grants)
    second = run_tap(oauth_config(emu, store, page_size=100))
    assert second.returncode == 0, second.stderr[-3000:]
    assert len(second.records("flextell_leads")) == LEADS
    assert emu.flextell_oauth.grants[spent_before].refresh_token == rotated

    # Without any refresh token in the config: the store's entry is enough.
    time.sleep(LIFETIME)
    block = emu.flextell_oauth_config(str(store), page_size=100)
    del block["refresh_token"]
    third = run_tap({"flextell": block})
    assert third.returncode == 0, third.stderr[-3000:]
    assert len(third.records("flextell_leads")) == LEADS
    assert_each_refresh_token_spent_once(emu)


def test_a_debug_run_shows_no_token_or_secret(oauth_emu, run_tap, store):
    emu = oauth_emu
    emu.faults("flextell").latency_ms = 100
    emu.faults("flextell").unauthorized(times=1, page=2)
    run = run_tap(
        oauth_config(emu, store, page_size=50), env={"TAP_LEADS_LOGLEVEL": "DEBUG"}, timeout=300
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert len(emu.flextell_oauth.grants) >= 2
    secrets = all_secrets(emu)
    for secret in secrets:
        assert secret not in run.stdout
        assert secret not in run.stderr


def test_a_refused_refresh_token_ends_the_run_with_what_to_do(oauth_emu, run_tap, store):
    emu = oauth_emu
    emu.flextell_oauth.revoke()
    run = run_tap(oauth_config(emu, store, page_size=100))
    assert run.returncode != 0
    assert run.records("flextell_leads") == []
    assert "Authorise the tap again with the one-time authorization-code step" in run.stderr
    assert "flextell.refresh_token" in run.stderr
    assert "flextell.token_store" in run.stderr
    for secret in all_secrets(emu):
        assert secret not in run.stderr


def test_missing_oauth_settings_fail_before_any_request(oauth_emu, run_tap, store):
    emu = oauth_emu
    block = emu.flextell_oauth_config(str(store))
    del block["token_store"], block["client_secret"]
    run = run_tap({"flextell": block})
    assert run.returncode == 1
    assert emu.requests == []
    assert run.errors[-2:] == [
        "flextell: refresh_token is set but client_secret is missing; set flextell.client_secret.",
        "flextell: refresh_token is set but token_store is missing; set flextell.token_store "
        "to the path of a file where the tap keeps the rotated tokens, on storage that "
        "outlives the run.",
    ]
    assert block["refresh_token"] not in run.stderr


# Two `meltano run`s, the rotated refresh token carried by the store only.


@pytest.mark.e2e
@pytest.mark.usefixtures("meltano_installed")
def test_two_meltano_runs_carry_the_rotated_token_in_the_store(tmp_path, store):
    with LeadsEmulator(
        leads_per_provider=50, leads={"flextell": 2000}, flextell_token_lifetime=LIFETIME
    ) as emu:
        emu.faults("flextell").latency_ms = 200
        project = MeltanoProject(tmp_path, emu, providers=["flextell"])
        # Meltano gets the OAuth settings only, not the emulator's static access token.
        for name in [name for name in project.env if name.startswith("TAP_LEADS_FLEXTELL_")]:
            del project.env[name]
        block = emu.flextell_oauth_config(str(store), page_size=20)
        project.env.update(meltano_env.tap_env({"flextell": block}))
        first, second = tmp_path / "run1", tmp_path / "run2"
        project(
            "run", "tap-leads", "target-jsonl", TARGET_JSONL_DESTINATION_PATH=str(first)
        ).check()
        grants_first = len(emu.flextell_oauth.grants)
        assert grants_first >= 2
        rotated = emu.flextell_oauth.grants[-1].issued_refresh_token
        assert TokenStore(store).read().refresh_token == rotated
        time.sleep(LIFETIME)
        # The same environment: the config's refresh token is the initial one, spent.
        project(
            "run",
            "tap-leads",
            "target-jsonl",
            "--full-refresh",
            TARGET_JSONL_DESTINATION_PATH=str(second),
        ).check()
        assert emu.flextell_oauth.grants[grants_first].refresh_token == rotated
        assert_each_refresh_token_spent_once(emu)
        for directory in (first, second):
            assert len(read_jsonl(directory)["flextell_leads"]) == 2000
        logs = "".join(path.read_text() for path in tmp_path.glob("meltano-*.log"))
        for secret in all_secrets(emu):
            assert secret not in logs
        stored = json.loads(store.read_text())["entries"]["default"]["refresh_token"]
        assert stored == emu.flextell_oauth.grants[-1].issued_refresh_token


def test_a_store_that_cannot_be_written_fails_before_any_request(oauth_emu, run_tap, tmp_path):
    emu = oauth_emu
    missing = tmp_path / "no-such-directory" / "tokens.json"
    run = run_tap({"flextell": emu.flextell_oauth_config(str(missing))})
    assert run.returncode == 1
    assert emu.requests == []
    assert "flextell.token_store" in run.errors[-1]
    assert str(missing.parent) in run.errors[-1]
    assert "Traceback" not in run.stderr
