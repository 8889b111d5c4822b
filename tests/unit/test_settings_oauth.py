"""Flextell's two ways to authenticate: each missing piece is named before any request."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tap_leads.auth.token_store import Tokens, TokenStore
from tap_leads.config import checks as settings
from tap_leads.providers.flextell import flextell_auth_problems, uses_refresh
from tap_leads.tap import TapLeads

TENANT = {"tenant_id": "42"}
CLIENT = {"client_id": "9", "client_secret": "cs-123456"}


def flextell(**block) -> list[str]:
    return settings.validate({"flextell": {**TENANT, **block}})


def test_an_access_token_alone_is_enough():
    assert flextell(access_token="at-123456") == []


def test_refresh_with_client_and_store_is_enough(tmp_path: Path):
    store = str(tmp_path / "tokens.json")
    assert flextell(refresh_token="rt-123456", token_store=store, **CLIENT) == []
    assert flextell(access_token="at-1", refresh_token="rt-1", token_store=store, **CLIENT) == []


def test_neither_token():
    assert flextell() == [
        "flextell: neither access_token nor refresh_token is set; set flextell.access_token, "
        "or flextell.refresh_token with flextell.client_id, flextell.client_secret and "
        "flextell.token_store."
    ]


@pytest.mark.parametrize(
    ("missing", "expected"),
    [
        (
            ["client_id"],
            ["flextell: refresh_token is set but client_id is missing; set flextell.client_id."],
        ),
        (
            ["client_secret"],
            [
                "flextell: refresh_token is set but client_secret is missing; "
                "set flextell.client_secret."
            ],
        ),
        (
            ["client_id", "client_secret"],
            [
                "flextell: refresh_token is set but client_id is missing; set flextell.client_id.",
                "flextell: refresh_token is set but client_secret is missing; "
                "set flextell.client_secret.",
            ],
        ),
    ],
)
def test_refresh_token_without_client_credentials(tmp_path: Path, missing, expected):
    block = {"refresh_token": "rt-123456", "token_store": str(tmp_path / "t.json"), **CLIENT}
    for name in missing:
        del block[name]
    assert flextell(**block) == expected


def test_refresh_token_without_token_store():
    assert flextell(refresh_token="rt-123456", **CLIENT) == [
        "flextell: refresh_token is set but token_store is missing; set flextell.token_store "
        "to the path of a file where the tap keeps the rotated tokens, on storage that "
        "outlives the run."
    ]


def test_token_store_in_a_missing_directory(tmp_path: Path):
    store = tmp_path / "gone" / "tokens.json"
    assert flextell(refresh_token="rt-123456", token_store=str(store), **CLIENT) == [
        f"flextell.token_store: the directory {tmp_path / 'gone'} does not exist. Create it, or "
        "point flextell.token_store at a file in a directory that exists and that the tap may "
        "write."
    ]


def test_token_store_that_is_not_a_store(tmp_path: Path):
    store = tmp_path / "tokens.json"
    store.write_text(json.dumps(["not", "a", "store"]))
    assert flextell(refresh_token="rt-123456", token_store=str(store), **CLIENT) == [
        f"flextell.token_store: {store} is not a token store of this tap (expected JSON "
        '{"version": 1, "entries": {…}}). Point the setting at another file, or move this one '
        "aside."
    ]


def test_a_filled_store_stands_in_for_the_refresh_token(tmp_path: Path):
    store = tmp_path / "tokens.json"
    block = {**TENANT, **CLIENT, "token_store": str(store)}
    assert not uses_refresh(block)
    assert flextell_auth_problems(block)[0].startswith("flextell: neither access_token")
    TokenStore(store).write("default", Tokens("rt-from-an-earlier-run"))
    assert uses_refresh(block)
    assert flextell(token_store=str(store), **CLIENT) == []
    assert flextell(token_store=str(store), client_id="9") == [
        "flextell: token_store holds tokens but client_secret is missing; "
        "set flextell.client_secret."
    ]
    # An account's entry is its own.
    assert not uses_refresh(block, key="acme")


def test_messages_name_an_account_setting(tmp_path: Path):
    block = {**TENANT, "refresh_token": "rt-1", "client_id": "9"}
    assert flextell_auth_problems(block, setting="flextell.accounts[acme]", key="acme") == [
        "flextell.accounts[acme]: refresh_token is set but client_secret is missing; "
        "set flextell.accounts[acme].client_secret.",
        "flextell.accounts[acme]: refresh_token is set but token_store is missing; set "
        "flextell.accounts[acme].token_store to the path of a file where the tap keeps the "
        "rotated tokens, on storage that outlives the run.",
    ]


def test_token_url_must_be_a_url(tmp_path: Path):
    store = str(tmp_path / "t.json")
    assert flextell(refresh_token="rt-1", token_store=store, token_url="oauth/token", **CLIENT) == [
        "flextell.token_url 'oauth/token' is not an http(s) URL like https://host."
    ]


def test_line_breaks_in_pasted_secrets(tmp_path: Path):
    store = str(tmp_path / "t.json")
    assert flextell(refresh_token="rt-1\nrt-2", token_store=store, **CLIENT) == [
        "flextell.refresh_token contains a line break or tab: paste the value alone."
    ]


def test_oauth_secrets_are_secret_and_redacted(tmp_path: Path):
    flextell_schema = TapLeads.config_jsonschema["properties"]["flextell"]["properties"]
    secret = {name for name, prop in flextell_schema.items() if prop.get("secret")}
    assert secret >= {"access_token", "client_secret", "refresh_token"}
    assert not secret & {"client_id", "token_url", "token_store", "tenant_id"}
    assert "access_token" not in flextell_schema.get("required", [])
    config = {
        "flextell": {
            **TENANT,
            "client_id": "9",
            "client_secret": "cs-123456",
            "refresh_token": "rt-123456",
            "token_store": str(tmp_path / "t.json"),
        }
    }
    assert sorted(settings.secret_values(config)) == ["cs-123456", "rt-123456"]
