"""Several accounts per provider, and shards: resolution, defaults, and every message."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from tap_leads.config import checks as settings
from tap_leads.providers import PROVIDERS, has_accounts, provider, selected_accounts
from tap_leads.providers.accounts import Account, in_shard, parse_shard, resolve, shard_of
from tap_leads.tap import TapLeads

ACME = {"name": "acme", "api_key": "key-acme"}
GLOBEX = {"name": "globex", "api_key": "key-globex", "campaign_id": 7}


# ----- resolution -------------------------------------------------------------


def test_no_block_no_accounts():
    assert resolve({}, provider("teli")) == []
    assert resolve({"teli": {}}, provider("teli")) == []
    assert resolve({"teli": None}, provider("teli")) == []


def test_the_single_block_is_one_account_without_a_name():
    block = {"api_key": "k", "org_id": "o1"}
    (account,) = resolve({"teli": block}, provider("teli"))
    assert account == Account(
        None,
        {"api_key": "k", "org_id": "o1", "api_url": "https://api.teli.ai", "page_size": 200},
        "teli",
    )
    assert account.key == "default"
    # `accounts: null` is the single-block form too.
    assert resolve({"teli": {**block, "accounts": None}}, provider("teli")) == [account]


def test_the_block_gives_defaults_and_each_account_its_own():
    config = {"autocalls": {"page_size": 50, "status": "created", "accounts": [ACME, GLOBEX]}}
    acme, globex = resolve(config, provider("autocalls"))
    assert acme == Account(
        "acme",
        {
            "page_size": 50,
            "status": "created",
            "api_key": "key-acme",
            "api_url": "https://app.autocalls.ai/api",
        },
        "autocalls.accounts[acme]",
    )
    assert globex.name == "globex"
    assert globex.key == "globex"
    assert globex.prefix == "autocalls.accounts[globex]"
    assert globex.settings["campaign_id"] == 7
    assert globex.settings["api_key"] == "key-globex"
    assert "accounts" not in globex.settings
    assert "name" not in globex.settings


def test_an_account_overrides_a_default_and_null_unsets_a_filter():
    config = {
        "teli": {
            "api_key": "shared",
            "user_id": "u1",
            "page_size": 100,
            "api_url": "http://127.0.0.1:9000",
            "accounts": [
                {"name": "a", "org_id": "o1", "page_size": 20, "user_id": None},
                {"name": "b", "org_id": "o2", "api_key": "own", "api_url": None},
            ],
        }
    }
    a, b = resolve(config, provider("teli"))
    assert a.settings["page_size"] == 20
    assert a.settings["user_id"] is None
    assert a.settings["api_key"] == "shared"
    assert a.settings["api_url"] == "http://127.0.0.1:9000"
    assert b.settings["api_key"] == "own"
    assert b.settings["user_id"] == "u1"
    assert b.settings["page_size"] == 100
    # A null api_url means the default, as an absent one does.
    assert b.settings["api_url"] == "https://api.teli.ai"


def test_entries_that_are_not_named_accounts_are_left_to_validation():
    config = {"sela": {"accounts": ["acme", {"api_key": "k"}, {"name": " "}, {"name": "ok"}]}}
    assert [a.name for a in resolve(config, provider("sela"))] == ["ok"]
    assert resolve({"sela": {"accounts": "acme"}}, provider("sela")) == []


def test_which_form_a_block_uses():
    assert has_accounts({"sela": {"accounts": [{"name": "a"}]}}, provider("sela"))
    assert not has_accounts({"sela": {"api_key": "k"}}, provider("sela"))
    assert not has_accounts({"sela": {"api_key": "k", "accounts": None}}, provider("sela"))
    assert not has_accounts({}, provider("sela"))


def test_nexus_erp_has_no_default_host():
    config = {"nexus_erp": {"accounts": [{"name": "a", "api_key": "sk_1"}]}}
    (account,) = resolve(config, provider("nexus_erp"))
    assert "api_url" not in account.settings


# ----- validation -------------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        (
            {"autocalls": {"accounts": [{"name": "acme"}]}},
            [
                "autocalls.accounts[acme]: api_key is missing; set autocalls.accounts[acme]"
                ".api_key (or autocalls.api_key for every account)."
            ],
        ),
        (
            {"teli": {"api_key": "k", "accounts": [{"name": "p", "org_id": "  "}]}},
            [
                "teli.accounts[p]: org_id is missing; set teli.accounts[p].org_id "
                "(or teli.org_id for every account)."
            ],
        ),
        (
            {"nexus_erp": {"accounts": [{"name": "eu", "api_key": "sk_1"}]}},
            [
                "nexus_erp.accounts[eu]: api_url is missing; set nexus_erp.accounts[eu].api_url "
                "(or nexus_erp.api_url for every account)."
            ],
        ),
        (
            {"teli": {"api_key": "k", "org_id": "o", "accounts": [{"name": "a"}, {}, {}]}},
            [
                "teli.accounts[1]: name is missing; give each account a name that is unique "
                "within teli and stays the same from run to run (it keys the account's records "
                "and bookmark).",
                "teli.accounts[2]: name is missing; give each account a name that is unique "
                "within teli and stays the same from run to run (it keys the account's records "
                "and bookmark).",
            ],
        ),
        (
            {"sela": {"api_key": "k", "accounts": [{"name": ""}, {"name": 5}]}},
            [
                "sela.accounts[0]: name is missing; give each account a name that is unique "
                "within sela and stays the same from run to run (it keys the account's records "
                "and bookmark).",
                "sela.accounts[1]: name is 5; it must be a non-empty string.",
            ],
        ),
        (
            {"autocalls": {"accounts": [ACME, GLOBEX, {**ACME, "api_key": "other"}]}},
            [
                "autocalls.accounts[2]: name 'acme' is already the name of "
                "autocalls.accounts[0]; each Autocalls account needs a name of its own."
            ],
        ),
        (
            {"autocalls": {"accounts": [ACME, {**GLOBEX, "page_size": 500}]}},
            [
                "autocalls.accounts[globex].page_size is 500: Autocalls takes 1 to 100 leads "
                "per page."
            ],
        ),
        (
            # A bad default is reported once, in the block, and not per account.
            {
                "sela": {
                    "page_size": 0,
                    "accounts": [{"name": "a", "api_key": "k"}, {"name": "b", "api_key": "k2"}],
                }
            },
            ["sela.page_size is 0: Sela takes 1 to 1000 leads per page."],
        ),
        (
            {"autocalls": {"accounts": [{**ACME, "campain_id": 3}]}},
            [
                "autocalls.accounts[acme].campain_id is not a Autocalls setting. "
                "Did you mean campaign_id?"
            ],
        ),
        (
            {"sela": {"accounts": [{"name": "a", "api_key": "k", "zzz": 1}]}},
            [
                "sela.accounts[a].zzz is not a Sela setting. Known settings: api_key, api_url, "
                "email, external_id, name, page_size, phone_number, requests_per_second, user."
            ],
        ),
        (
            {"sela": {"acounts": [{"name": "a", "api_key": "k"}], "api_key": "k"}},
            [
                "sela.acounts is not a Sela setting. Known settings: accounts, api_key, api_url, "
                "email, external_id, page_size, phone_number, requests_per_second, user."
            ],
        ),
        (
            {"sela": {"accounts": {"name": "a", "api_key": "k"}}},
            [
                "sela.accounts is an object: it must be a list of accounts, each an object with "
                'a name and that account\'s settings, e.g. [{"name": "acme", ...}].'
            ],
        ),
        (
            {"sela": {"api_key": "k", "accounts": []}},
            [
                "sela.accounts is empty: list at least one account, or remove accounts and set "
                "the sela settings in the block itself."
            ],
        ),
        (
            {"sela": {"api_key": "k", "accounts": ["acme", None]}},
            [
                "sela.accounts[0] is a string: each account is an object with a name and that "
                "account's settings.",
                "sela.accounts[1] is null: each account is an object with a name and that "
                "account's settings.",
            ],
        ),
        (
            {"sela": {"accounts": [{"name": "a", "api_key": "k\nk"}]}},
            ["sela.accounts[a].api_key contains a line break or tab: paste the Sela key alone."],
        ),
        (
            {"sela": {"accounts": [{"name": "a", "api_key": "k", "api_url": "trysela.com"}]}},
            ["sela.accounts[a].api_url 'trysela.com' is not an http(s) URL like https://host."],
        ),
        (
            {"autocalls": {"accounts": [{**ACME, "date_to": "31/12/2025"}]}},
            ["autocalls.accounts[acme].date_to is '31/12/2025': use the YYYY-MM-DD format."],
        ),
        (
            {"autocalls": {"accounts": [{**ACME, "requests_per_second": 0}]}},
            ["autocalls.accounts[acme].requests_per_second is 0: it must be above 0."],
        ),
    ],
)
def test_account_messages(config, expected):
    assert settings.validate(config) == expected


def test_a_block_with_accounts_needs_no_credentials_of_its_own():
    config = {
        "autocalls": {"page_size": 100, "accounts": [ACME, GLOBEX]},
        "teli": {"accounts": [{"name": "partner", "api_key": "k", "org_id": "*"}]},
        "nexus_erp": {
            "api_url": "https://erp.example",
            "accounts": [{"name": "a", "api_key": "s"}],
        },
        "flextell": {"tenant_id": 4, "accounts": [{"name": "a", "access_token": "at"}]},
        "sela": {"api_key": "shared", "accounts": [{"name": "a"}, {"name": "b", "user": 3}]},
    }
    assert settings.validate(config) == []
    # The SDK's schema check agrees, and fills no defaults into the accounts.
    tap = TapLeads(config=config)
    assert "page_size" not in tap.config["autocalls"]["accounts"][0]
    assert "api_url" not in tap.config["sela"]["accounts"][0]
    assert [a.settings["page_size"] for a in resolve(tap.config, provider("sela"))] == [100, 100]


def test_every_teli_organisation():
    block = {"api_key": "k", "org_id": "*"}
    assert settings.validate({"teli": block}) == []
    assert settings.validate({"teli": {"api_key": "k", "accounts": [{"name": "p", **block}]}}) == []


def test_flextell_account_auth_names_the_account(tmp_path: Path):
    config = {
        "flextell": {
            "tenant_id": "42",
            "client_id": "9",
            "accounts": [
                {"name": "acme", "refresh_token": "rt-1"},
                {"name": "ok", "access_token": "at-1"},
            ],
        }
    }
    assert settings.validate(config) == [
        "flextell.accounts[acme]: refresh_token is set but client_secret is missing; "
        "set flextell.accounts[acme].client_secret.",
        "flextell.accounts[acme]: refresh_token is set but token_store is missing; set "
        "flextell.accounts[acme].token_store to the path of a file where the tap keeps the "
        "rotated tokens, on storage that outlives the run.",
    ]
    assert settings.validate({"flextell": {"accounts": [{"name": "x", "access_token": "a"}]}}) == [
        "flextell.accounts[x]: tenant_id is missing; set flextell.accounts[x].tenant_id "
        "(or flextell.tenant_id for every account)."
    ]


def test_the_schema_lists_accounts_with_their_secrets():
    props = TapLeads.config_jsonschema["properties"]
    for spec in PROVIDERS:
        block = props[spec.key]
        accounts = block["properties"]["accounts"]
        assert "array" in accounts["type"]
        item = accounts["items"]
        assert item["required"] == ["name"]
        assert set(item["properties"]) == {"name", *spec.setting_names}
        assert sorted(n for n, p in item["properties"].items() if p.get("secret")) == sorted(
            spec.secrets
        )
        assert not any("default" in p for p in item["properties"].values())
        assert block["anyOf"] == [{"required": list(spec.required)}, {"required": ["accounts"]}]
    assert props["shard"]["type"] == ["string", "null"]
    assert "exactly once" in props["shard"]["description"]


def test_secrets_of_every_account_are_redacted():
    config = {
        "autocalls": {"api_key": "block-key", "accounts": [ACME, GLOBEX, "junk"]},
        "flextell": {
            "tenant_id": 1,
            "accounts": [{"name": "a", "access_token": "at-a", "client_secret": "cs-a"}],
        },
    }
    assert sorted(settings.secret_values(config)) == [
        "at-a",
        "block-key",
        "cs-a",
        "key-acme",
        "key-globex",
    ]


def test_schema_errors_name_the_account_by_index():
    error = "5 is not of type 'string' in config['teli']['accounts'][3]['org_id']"
    assert settings.readable_schema_error(error) == (
        "teli.accounts[3].org_id: 5 is not of type 'string'"
    )
    assert settings.readable_schema_error("x in config['teli']['page_size']") == (
        "teli.page_size: x"
    )


# ----- shards -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, None), ("", None), ("0/1", (0, 1)), ("3/8", (3, 8)), (" 7 / 8 ", (7, 8))],
)
def test_parse_shard(value, expected):
    assert parse_shard(value) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            "8/8",
            "shard must look like \"3/8\": got '8/8', but K counts from 0, so with 8 shard(s) "
            "it goes from 0 to 7.",
        ),
        (
            "0/0",
            "shard must look like \"3/8\": got '0/0', but N, the number of shards, must be 1 "
            "or more.",
        ),
        (
            "3 of 8",
            "shard must look like \"3/8\": got '3 of 8'; write K/N to take shard K of N, with K "
            "counted from 0, in quotes so that it stays text.",
        ),
        (
            -1,
            'shard must look like "3/8": got -1; write K/N to take shard K of N, with K '
            "counted from 0, in quotes so that it stays text.",
        ),
        (
            "-1/8",
            "shard must look like \"3/8\": got '-1/8'; write K/N to take shard K of N, with K "
            "counted from 0, in quotes so that it stays text.",
        ),
    ],
)
def test_bad_shards(value, message):
    with pytest.raises(ValueError, match=r"^shard must look like") as caught:
        parse_shard(value)
    assert str(caught.value) == message
    assert settings.validate({"sela": {"api_key": "k"}, "shard": value}) == [message]


def test_shard_is_a_known_setting():
    known = TapLeads.config_jsonschema["properties"]
    assert settings.validate({"sela": {"api_key": "k"}, "shard": "1/2"}, known) == []


@pytest.mark.parametrize("count", [2, 3, 8])
def test_the_shards_together_take_every_account_exactly_once(count):
    names = [(spec.key, f"account-{i}") for i in range(40) for spec in PROVIDERS]
    names += [(spec.key, None) for spec in PROVIDERS]
    assert len(names) == 205
    for provider_key, name in names:
        taken = [k for k in range(count) if in_shard(provider_key, name, (k, count))]
        assert len(taken) == 1, (provider_key, name, taken)
    # And the hash spreads them: no shard is left empty.
    assert {shard_of(p, n, count) for p, n in names} == set(range(count))


def test_the_hash_is_stable():
    digest = hashlib.sha256(b"autocalls\0acme").digest()
    assert shard_of("autocalls", "acme", 8) == int.from_bytes(digest[:8], "big") % 8 == 4
    assignments = {
        (p, n): [shard_of(p, n, count) for count in (2, 3, 8)]
        for p, n in [
            ("autocalls", "acme"),
            ("autocalls", "globex"),
            ("teli", "partner"),
            ("teli", None),
            ("sela", None),
        ]
    }
    assert assignments == {
        ("autocalls", "acme"): [0, 0, 4],
        ("autocalls", "globex"): [1, 0, 7],
        ("teli", "partner"): [1, 0, 5],
        ("teli", None): [1, 2, 3],
        ("sela", None): [0, 0, 6],
    }


def test_without_a_shard_every_account_is_taken():
    assert in_shard("teli", "anything", None)
    assert in_shard("teli", None, None)
    assert in_shard("teli", None, (0, 1))


def test_selected_accounts_follow_the_shard():
    config = {"autocalls": {"accounts": [ACME, GLOBEX]}}
    autocalls, teli = provider("autocalls"), provider("teli")
    assert [a.name for a in selected_accounts(config, autocalls)] == ["acme", "globex"]
    assert [a.name for a in selected_accounts({**config, "shard": "4/8"}, autocalls)] == ["acme"]
    assert [a.name for a in selected_accounts({**config, "shard": "7/8"}, autocalls)] == ["globex"]
    assert selected_accounts({**config, "shard": "0/8"}, autocalls) == []
    single = {"teli": {"api_key": "k", "org_id": "o"}}
    assert [a.name for a in selected_accounts({**single, "shard": "3/8"}, teli)] == [None]
    assert selected_accounts({**single, "shard": "2/8"}, teli) == []
