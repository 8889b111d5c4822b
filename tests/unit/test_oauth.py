"""Flextell OAuth against the emulator's token endpoint over real HTTP: single-flight
refreshes, rotation, refused grants, and two processes sharing one token store. (The
store on disk by itself: tests/unit/test_token_store.py.)"""

from __future__ import annotations

import multiprocessing
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
import requests

from emulator import LeadsEmulator
from tap_leads.auth.oauth import FlextellOAuth, TokenRefusedError
from tap_leads.auth.static import StaticAuth
from tap_leads.auth.token_store import Tokens, TokenStore
from tap_leads.errors import AuthError, TransientError
from tap_leads.providers.flextell import default_token_url, flextell_auth

TIMEOUT = 10.0


@pytest.fixture
def emu():
    with LeadsEmulator(leads_per_provider=20, seed=7, flextell_token_lifetime=2.0) as emulator:
        yield emulator


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "tokens" / "flextell.json"


def make_auth(emu: LeadsEmulator, store_path: Path, **overrides) -> FlextellOAuth:
    store_path.parent.mkdir(exist_ok=True)
    block = emu.flextell_oauth_config(str(store_path), **overrides)
    auth = flextell_auth(block, timeout=TIMEOUT)
    assert isinstance(auth, FlextellOAuth)
    return auth


def token_requests(emu: LeadsEmulator) -> list:
    return [r for r in emu.requests if r.path == "/oauth/token"]


def get_leads(emu: LeadsEmulator, headers) -> requests.Response:
    return requests.get(
        emu.api_url("flextell") + "/v1/leads", headers=dict(headers), timeout=TIMEOUT
    )


def wait_until_due(auth: FlextellOAuth) -> None:
    deadline = time.monotonic() + 10
    while not auth._due(auth._current()):
        assert time.monotonic() < deadline, "the access token never became due"
        time.sleep(0.02)


# Refreshing


def test_first_headers_refresh_and_store_the_rotated_token(emu, store_path):
    auth = make_auth(emu, store_path)
    initial = emu.flextell_oauth.initial_refresh_token
    headers = auth.headers()
    assert get_leads(emu, headers).status_code == 200
    [grant] = emu.flextell_oauth.grants
    assert grant.refresh_token == initial
    stored = TokenStore(store_path).read("default")
    assert stored.refresh_token == grant.issued_refresh_token != initial
    assert stored.access_token == grant.issued_access_token
    assert headers == {
        "Authorization": f"Bearer {grant.issued_access_token}",
        "X-Tenant": emu.credentials("flextell")["tenant_id"],
    }
    assert stored.lifetime == 2.0
    assert abs(stored.expires_at - (time.time() + 2.0)) < 1.5


def test_each_refresh_rotates_and_the_old_token_is_refused(emu, store_path):
    auth = make_auth(emu, store_path)
    spent = []
    for _ in range(3):
        if spent:
            wait_until_due(auth)
        headers = auth.headers()
        assert get_leads(emu, headers).status_code == 200
        grant = emu.flextell_oauth.grants[-1]
        spent.append(grant.refresh_token)
        assert TokenStore(store_path).read().refresh_token == grant.issued_refresh_token
    assert len(set(spent)) == 3
    assert len(token_requests(emu)) == 3
    for old in spent:
        reply = requests.post(
            emu.url + "/oauth/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": old,
                "client_id": emu.flextell_oauth.client_id,
                "client_secret": emu.flextell_oauth.client_secret,
            },
            timeout=TIMEOUT,
        )
        assert reply.status_code == 400
        assert reply.json()["error"] == "invalid_grant"


def test_eight_threads_on_an_expired_token_make_one_refresh(emu, store_path):
    auth = make_auth(emu, store_path)
    for round_ in range(2):
        if round_:
            wait_until_due(auth)
        emu.clear_requests()
        barrier = threading.Barrier(8)
        seen: list[dict] = []

        def call(barrier: threading.Barrier = barrier, seen: list[dict] = seen) -> None:
            barrier.wait(timeout=TIMEOUT)
            seen.append(dict(auth.headers()))

        threads = [threading.Thread(target=call) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert len(seen) == 8
        assert len({h["Authorization"] for h in seen}) == 1
        assert len(token_requests(emu)) == 1
        assert get_leads(emu, seen[0]).status_code == 200


def test_a_401_refreshes_once_and_stale_headers_only_retry(emu, store_path):
    auth = make_auth(emu, store_path)
    first = dict(auth.headers())
    time.sleep(2.1)  # the emulator now refuses it; the tap's margin may not have come yet
    assert get_leads(emu, first).status_code == 401
    emu.clear_requests()
    results = []

    def unauthorized() -> None:
        results.append(auth.after_unauthorized(first))

    threads = [threading.Thread(target=unauthorized) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert results == [True] * 8
    assert len(token_requests(emu)) == 1
    second = dict(auth.headers())
    assert second != first
    assert get_leads(emu, second).status_code == 200
    # Headers older than the current ones never cause a refresh.
    assert auth.after_unauthorized(first) is True
    assert len(token_requests(emu)) == 1


def test_a_second_401_right_after_a_refresh_gives_up_with_advice(emu, store_path):
    auth = make_auth(emu, store_path)
    sent = dict(auth.headers())
    assert auth.after_unauthorized(sent) is True  # as if the server had refused it
    renewed = dict(auth.headers())
    assert auth.after_unauthorized(renewed) is False
    assert len(token_requests(emu)) == 2
    assert auth.auth_advice() == (
        "Flextell rejected a freshly refreshed access token. Check flextell.client_id, "
        "flextell.client_secret and flextell.refresh_token (they must belong to one OAuth "
        "client), and that the user who authorised the tap may read the tenant in "
        "flextell.tenant_id."
    )


def test_the_store_wins_over_the_config(emu, store_path):
    store_path.parent.mkdir()
    newer = emu.flextell_oauth.mint_refresh_token()
    TokenStore(store_path).write("default", Tokens(newer))
    auth = make_auth(emu, store_path)  # its config holds the initial refresh token
    assert get_leads(emu, auth.headers()).status_code == 200
    [grant] = emu.flextell_oauth.grants
    assert grant.refresh_token == newer
    # A second object, as a second run: the stored access token is used as it is.
    emu.clear_requests()
    again = make_auth(emu, store_path)
    assert again.headers() == auth.headers()
    assert token_requests(emu) == []


def test_a_refused_refresh_token_tells_how_to_authorise_again(emu, store_path):
    auth = make_auth(emu, store_path)
    auth.headers()
    emu.flextell_oauth.revoke()
    wait_until_due(auth)
    with pytest.raises(TokenRefusedError) as caught:
        auth.headers()
    assert isinstance(caught.value, AuthError)
    assert str(caught.value) == (
        "Flextell refused the refresh token (invalid_grant: The refresh token is invalid.). "
        "It has been used already or was revoked: each refresh returns a new refresh token "
        "and the old one stops working. Authorise the tap again with the one-time "
        "authorization-code step, set flextell.refresh_token to the new refresh token, and "
        f"delete the 'default' entry of flextell.token_store ({store_path}) or the whole "
        "file if it holds no other entry."
    )
    # The store's dead token, then the config's (the initial one, spent as well).
    assert [g.error for g in emu.flextell_oauth.grants] == [None, "invalid_grant", "invalid_grant"]


def test_a_new_refresh_token_in_the_config_replaces_a_dead_store_entry(emu, store_path):
    make_auth(emu, store_path).headers()
    emu.flextell_oauth.revoke()
    TokenStore(store_path).write("default", Tokens(TokenStore(store_path).read().refresh_token))
    fresh = emu.flextell_oauth.mint_refresh_token()
    auth = make_auth(emu, store_path, refresh_token=fresh)
    assert get_leads(emu, auth.headers()).status_code == 200
    assert emu.flextell_oauth.grants[-1].refresh_token == fresh
    assert (
        TokenStore(store_path).read().refresh_token
        == emu.flextell_oauth.grants[-1].issued_refresh_token
    )


def test_wrong_client_credentials_name_the_client_settings(emu, store_path):
    auth = make_auth(emu, store_path, client_secret="not-the-secret")
    with pytest.raises(TokenRefusedError) as caught:
        auth.headers()
    assert str(caught.value) == (
        "Flextell refused the OAuth client (invalid_client: Client authentication failed). "
        "Check flextell.client_id and flextell.client_secret: they must be those of the client "
        "that the refresh token was issued to."
    )
    assert not store_path.exists()


def test_an_unreachable_token_endpoint_is_transient(emu, store_path):
    auth = make_auth(emu, store_path, token_url="http://127.0.0.1:9/oauth/token")
    started = time.monotonic()
    with pytest.raises(TransientError) as caught:
        auth.headers()
    assert time.monotonic() - started < 5
    assert str(caught.value) == (
        "Flextell: the token endpoint http://127.0.0.1:9/oauth/token failed 3 times (the "
        "connection to 127.0.0.1:9 failed (ConnectionError)); the access token could not be "
        "refreshed."
    )


def test_the_emulator_accepts_http_basic_client_authentication(emu):
    server = emu.flextell_oauth
    reply = requests.post(
        emu.url + "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": server.initial_refresh_token},
        auth=(server.client_id, server.client_secret),
        timeout=TIMEOUT,
    )
    assert reply.status_code == 200
    body = reply.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 2
    headers = {
        "Authorization": f"Bearer {body['access_token']}",
        "X-Tenant": emu.credentials("flextell")["tenant_id"],
    }
    assert get_leads(emu, headers).status_code == 200
    time.sleep(2.05)
    refused = get_leads(emu, headers)
    assert refused.status_code == 401
    assert refused.json() == {
        "error": "invalid_token",
        "message": "The access token is invalid or has expired.",
    }


def test_the_emulator_token_lifetime_is_set_through_the_control_surface(emu):
    reply = requests.post(
        emu.url + "/_control/flextell_oauth", json={"token_lifetime": 5}, timeout=TIMEOUT
    )
    assert reply.status_code == 200
    assert reply.json()["token_lifetime"] == 5.0
    assert emu.flextell_oauth.lifetime == 5.0
    listed = requests.get(emu.url + "/_control/flextell_oauth", timeout=TIMEOUT).json()
    assert listed["refresh_token"] == emu.flextell_oauth.initial_refresh_token
    assert listed["grants"] == []


# Secrets


def test_no_token_or_secret_in_reprs_or_messages(emu, store_path):
    learned: list[str] = []
    store_path.parent.mkdir()
    block = emu.flextell_oauth_config(str(store_path))
    auth = flextell_auth(block, timeout=TIMEOUT, on_new_secret=learned.append)
    auth.headers()
    grant = emu.flextell_oauth.grants[-1]
    secrets = [
        block["client_secret"],
        block["refresh_token"],
        grant.issued_access_token,
        grant.issued_refresh_token,
    ]
    assert set(learned) >= {grant.issued_access_token, grant.issued_refresh_token}
    assert set(auth.secret_values()) >= set(secrets)
    emu.flextell_oauth.revoke()
    wait_until_due(auth)
    with pytest.raises(TokenRefusedError) as refused:
        auth.headers()
    texts = [
        repr(auth),
        repr(auth.store),
        repr(TokenStore(store_path).read()),
        str(refused.value),
        repr(refused.value),
        auth.auth_advice(),
    ]
    for text in texts:
        for secret in secrets:
            assert secret not in text, text


def test_static_auth():
    auth = StaticAuth({"Authorization": "Bearer s3cr3t-token"}, "Check flextell.access_token.")
    assert auth.headers() == {"Authorization": "Bearer s3cr3t-token"}
    assert auth.after_unauthorized(auth.headers()) is False
    assert "s3cr3t" not in repr(auth)
    assert auth.auth_advice() == "Check flextell.access_token."


def test_an_access_token_alone_gives_static_auth(emu):
    block = emu.tap_config(["flextell"])["flextell"]
    auth = flextell_auth(block, timeout=TIMEOUT)
    assert isinstance(auth, StaticAuth)
    assert get_leads(emu, auth.headers()).status_code == 200


def test_default_token_url_is_on_the_api_host():
    assert default_token_url("https://dev.flextell.ai/api") == "https://dev.flextell.ai/oauth/token"


# Two processes, one store


def _run_process(block: dict, start, results, seconds: float) -> None:
    auth = flextell_auth(block, timeout=TIMEOUT)
    start.wait(timeout=30)
    url = block["api_url"] + "/v1/leads"
    statuses: list[int] = []
    deadline = time.monotonic() + seconds
    try:
        while True:
            headers = dict(auth.headers())
            reply = requests.get(url, headers=headers, timeout=TIMEOUT)
            if reply.status_code == 401 and auth.after_unauthorized(headers):
                reply = requests.get(url, headers=dict(auth.headers()), timeout=TIMEOUT)
            statuses.append(reply.status_code)
            if time.monotonic() >= deadline or len(statuses) > 2000:
                break
            time.sleep(0.02)
        results.put(("ok", statuses))
    except Exception as exc:
        results.put(("error", f"{type(exc).__name__}: {exc}"))


@pytest.mark.parametrize(("processes", "lifetime", "seconds"), [(2, 3600.0, 0.0), (4, 1.0, 3.0)])
def test_processes_sharing_a_store_never_spend_a_refresh_token_twice(
    store_path, processes, lifetime, seconds
):
    store_path.parent.mkdir()
    with LeadsEmulator(leads_per_provider=5, flextell_token_lifetime=lifetime) as emu:
        block = emu.flextell_oauth_config(str(store_path))
        context = multiprocessing.get_context("spawn")
        start = context.Event()
        results = context.Queue()
        workers = [
            context.Process(target=_run_process, args=(block, start, results, seconds))
            for _ in range(processes)
        ]
        for worker in workers:
            worker.start()
        time.sleep(0.5)
        start.set()
        outcomes = [results.get(timeout=60) for _ in workers]
        for worker in workers:
            worker.join(timeout=30)
        grants = emu.flextell_oauth.grants
    assert all(kind == "ok" for kind, _ in outcomes), outcomes
    assert all(statuses and set(statuses) == {200} for _, statuses in outcomes), outcomes
    spent = Counter(g.refresh_token for g in grants)
    assert max(spent.values()) == 1
    assert all(g.status == 200 for g in grants)
    if seconds == 0:
        assert len(grants) == 1
    else:
        # One refresh per lifetime, give or take the one in flight at the end.
        assert 2 <= len(grants) <= seconds / lifetime / (1 - 0.25) + 2
    assert TokenStore(store_path).read().refresh_token == grants[-1].issued_refresh_token
