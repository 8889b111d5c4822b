"""Several accounts per provider, Teli's organisations endpoint and per-key rate limits."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
import requests

from emulator import PROVIDERS, LeadsEmulator

from .test_emulator import LIST_PATHS, PAGE_SIZE, ROWS

ACCOUNTS = {
    "autocalls": {"acme": 40, "globex": 25, "initech": 10},
    "flextell": ["acme", "globex"],
    "sela": {"acme": 30, "globex": 20},
    "nexus_erp": {"acme": 15},
    "teli": {"partner": {"North": 20, "South": 12}, "solo": 9},
}


@pytest.fixture(scope="module")
def emu():
    with LeadsEmulator(leads_per_provider=35, seed=3, accounts=ACCOUNTS) as emulator:
        yield emulator


@pytest.fixture(autouse=True)
def _clean(emu):
    emu.reset()
    yield
    emu.reset()


@pytest.fixture(scope="module")
def http():
    with requests.Session() as session:
        yield session


def headers(credentials: dict[str, str], provider: str) -> dict[str, str]:
    if provider == "teli":
        return {"X-API-Key": credentials["api_key"]}
    if provider == "flextell":
        return {
            "Authorization": f"Bearer {credentials['access_token']}",
            "X-Tenant": credentials["tenant_id"],
        }
    if provider == "sela":
        return {"Authorization": f"Token {credentials['api_key']}"}
    return {"Authorization": f"Bearer {credentials['api_key']}"}


def fetch(
    http,
    emu: LeadsEmulator,
    provider: str,
    account: str | None = None,
    org_id: str | None = None,
    **params: Any,
) -> requests.Response:
    credentials = emu.credentials(provider, account)
    path = LIST_PATHS[provider].format(org_id=org_id or credentials.get("org_id"))
    query = {PAGE_SIZE[provider]: 100, "page": 1, **params}
    if provider == "teli":
        query["is_admin"] = "true"
    return http.get(
        emu.api_url(provider) + path, params=query, headers=headers(credentials, provider)
    )


def listed(http, emu, provider, account=None, org_id=None) -> list[Any]:
    key = emu.primary_key(provider)
    response = fetch(http, emu, provider, account, org_id)
    assert response.status_code == 200, response.text
    return [lead[key] for lead in response.json()[ROWS[provider]]]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_each_credential_reads_its_own_leads(http, emu, provider):
    names = emu.account_names(provider)
    assert names[0] == "default"
    assert len(names) == 1 + len(ACCOUNTS[provider])
    for name in names:
        assert listed(http, emu, provider, name) == emu.listed_keys(provider, name)
    secrets = [tuple(sorted(emu.credentials(provider, name).items())) for name in names]
    assert len(set(secrets)) == len(names)
    assert {r.account for r in emu.requests_for(provider)} == set(names)


@pytest.mark.parametrize("provider", ["autocalls", "flextell", "sela"])
def test_integer_ids_collide_across_accounts(emu, provider):
    acme = {lead["id"]: lead for lead in emu.leads(provider, "acme")}
    globex = {lead["id"]: lead for lead in emu.leads(provider, "globex")}
    shared = acme.keys() & globex.keys()
    assert len(shared) >= min(len(acme), len(globex)) // 3
    assert any(acme[i]["phone_number"] != globex[i]["phone_number"] for i in shared)


def test_sizes_and_the_default_account_is_the_single_account_dataset(emu):
    assert len(emu.leads("autocalls", "acme")) == 40
    assert len(emu.leads("autocalls", "initech")) == 10
    assert len(emu.leads("flextell", "acme")) == 35
    assert [len(emu.leads("teli", "partner", org)) for org in ("North", "South")] == [20, 12]
    with LeadsEmulator(leads_per_provider=35, seed=3) as plain:
        for provider in PROVIDERS:
            assert plain.leads(provider) == emu.leads(provider) == emu.leads(provider, "default")
            assert plain.credentials(provider) == emu.credentials(provider)
    with pytest.raises(KeyError, match="no account"):
        emu.leads("sela", "nobody")
    with pytest.raises(ValueError, match="taken"):
        LeadsEmulator(accounts={"sela": ["default"]})
    with pytest.raises(ValueError, match="only a Teli"):
        LeadsEmulator(accounts={"sela": {"acme": {"x": 1}}})


def test_accounts_config(http, emu):
    config = emu.accounts_config()
    assert emu.tap_config(accounts=True) == config
    assert config["autocalls"] == {
        "api_url": emu.api_url("autocalls"),
        "accounts": [
            {"name": name, **emu.credentials("autocalls", name)}
            for name in ("acme", "globex", "initech")
        ],
    }
    teli = {entry["name"]: entry for entry in config["teli"]["accounts"]}
    assert teli["partner"]["org_id"] == "*"
    assert teli["solo"]["org_id"] == emu.teli_orgs("solo")[0]["unique_id"]
    flextell = config["flextell"]["accounts"][0]
    assert set(flextell) == {"name", "access_token", "tenant_id"}
    both = emu.accounts_config(["sela"], include_default=True, start_date="2025-01-01T00:00:00Z")
    assert [a["name"] for a in both["sela"]["accounts"]] == ["default", "acme", "globex"]
    assert both["start_date"] == "2025-01-01T00:00:00Z"
    with LeadsEmulator(leads_per_provider=5) as plain:
        (only,) = plain.accounts_config(["nexus_erp"])["nexus_erp"]["accounts"]
        assert only == {"name": "default", **plain.credentials("nexus_erp")}
    served = http.get(f"{emu.url}/_control/config", params={"accounts": "true"}).json()
    assert served == config
    assert http.get(f"{emu.url}/_control/config").json() == emu.tap_config()


@pytest.mark.parametrize("provider", PROVIDERS)
def test_unknown_and_revoked_credentials_get_the_usual_401(http, emu, provider):
    unknown = dict(emu.credentials(provider, "default"))
    secret = "access_token" if provider == "flextell" else "api_key"
    unknown[secret] = "x" + unknown[secret][1:]
    path = LIST_PATHS[provider].format(org_id=unknown.get("org_id"))
    url = emu.api_url(provider) + path + ("?is_admin=true" if provider == "teli" else "")
    refused = http.get(url, headers=headers(unknown, provider))
    account = next(name for name in emu.account_names(provider) if name != "default")
    emu.revoke(provider, account)
    revoked = fetch(http, emu, provider, account)
    assert (revoked.status_code, revoked.json()) == (401, refused.json())
    assert revoked.headers.get("WWW-Authenticate") == refused.headers.get("WWW-Authenticate")
    assert fetch(http, emu, provider, "default").status_code == 200
    emu.reinstate(provider, account)
    assert fetch(http, emu, provider, account).status_code == 200
    emu.revoke(provider)  # the default account
    assert fetch(http, emu, provider).json() == refused.json()
    assert fetch(http, emu, provider, account).status_code == 200
    logged = [r.account for r in emu.requests_for(provider)]
    assert logged == [None, None, "default", account, None, account]


def test_revoking_through_the_control_surface(http, emu):
    body = {"provider": "sela", "account": "globex", "revoked": True}
    described = http.post(f"{emu.url}/_control/accounts", json=body).json()
    globex = next(a for a in described["sela"] if a["name"] == "globex")
    assert globex["revoked"] is True
    assert globex["credentials"] == emu.credentials("sela", "globex")
    assert fetch(http, emu, "sela", "globex").status_code == 401
    http.post(f"{emu.url}/_control/accounts", json={**body, "revoked": False})
    assert fetch(http, emu, "sela", "globex").status_code == 200
    assert http.get(f"{emu.url}/_control/accounts").json() == emu.describe_accounts()


def test_flextell_tenant_belongs_to_the_token(http, emu):
    acme = emu.credentials("flextell", "acme")
    wrong = {"Authorization": f"Bearer {acme['access_token']}", "X-Tenant": "100000"}
    url = emu.api_url("flextell") + "/v1/leads"
    refused = http.get(url, headers=wrong)
    assert (refused.status_code, refused.json()["error"]) == (403, "forbidden")
    missing = http.get(url, headers={"Authorization": wrong["Authorization"]})
    assert (missing.status_code, missing.json()["error"]) == (400, "tenant_required")


def test_faults_per_account_and_for_every_account(http, emu):
    emu.faults("autocalls", "globex").server_error(502, times=None)
    assert fetch(http, emu, "autocalls", "globex").status_code == 502
    assert fetch(http, emu, "autocalls", "acme").status_code == 200
    assert fetch(http, emu, "autocalls").status_code == 200
    emu.faults("autocalls").unauthorized(times=2)
    assert fetch(http, emu, "autocalls", "acme").status_code == 401
    assert fetch(http, emu, "autocalls", "initech").status_code == 401
    assert fetch(http, emu, "autocalls", "acme").status_code == 200
    # The account's own fault answers first; the shared one waits for another request.
    emu.faults("autocalls").rate_limit()
    assert fetch(http, emu, "autocalls", "globex").status_code == 502
    assert fetch(http, emu, "autocalls", "acme").status_code == 429
    emu.faults("sela", "acme").unauthorized(times=None)
    response = http.post(
        f"{emu.url}/_control/faults",
        json={"provider": "sela", "account": "globex", "kind": "server_error", "status": 500},
    ).json()
    assert [f["kind"] for f in response["accounts"]["sela"]["globex"]] == ["server_error"]
    assert [f["kind"] for f in response["accounts"]["sela"]["acme"]] == ["unauthorized"]
    assert fetch(http, emu, "sela", "globex").status_code == 500
    emu.clear_faults()
    assert fetch(http, emu, "sela", "acme").status_code == 200


def test_data_changes_per_account(http, emu):
    before = emu.listed_keys("autocalls", "globex")
    emu.add("autocalls", 2, account="globex")
    assert fetch(http, emu, "autocalls", "globex").json()["total"] == 27
    assert fetch(http, emu, "autocalls", "acme").json()["total"] == 40
    lead = emu.leads("sela", "acme")[0]
    emu.touch("sela", [lead["id"]], account="acme")
    assert emu.leads("sela", "acme")[0]["modified_time"] != emu.leads("sela")[0]["modified_time"]
    mutation = emu.schedule_mutation(
        "autocalls", "delete", positions=[0], after_page=1, account="acme"
    )
    fetch(http, emu, "autocalls", "globex")
    assert not mutation.fired
    fetch(http, emu, "autocalls", "acme", per_page=10)
    assert mutation.fired
    assert fetch(http, emu, "autocalls", "acme").json()["total"] == 39
    assert emu.listed_keys("autocalls", "globex")[2:] == before
    deleted = emu.delete_leads("flextell", n=1, account="globex")
    assert deleted[0] in [lead["id"] for lead in emu.trashed("flextell", "globex")]
    control = f"{emu.url}/_control"
    keys = http.get(
        f"{control}/listed", params={"provider": "teli", "account": "partner", "org": "South"}
    ).json()["keys"]
    assert keys == emu.listed_keys("teli", "partner", "South")
    added = http.post(
        f"{control}/add", json={"provider": "nexus_erp", "account": "acme", "n": 3}
    ).json()
    assert len(added["added"]) == 3
    assert len(emu.leads("nexus_erp", "acme")) == 18


def test_teli_organizations(http, emu):
    url = emu.api_url("teli") + "/v1/organizations"
    partner = {"X-API-Key": emu.credentials("teli", "partner")["api_key"]}
    body = http.get(url, headers=partner).json()
    assert set(body) == {"success", "count", "organizations", "powered_by"}
    assert (body["success"], body["count"], body["powered_by"]) == (True, 2, "Teli")
    north, south = body["organizations"]
    assert (north["name"], south["name"]) == ("North", "South")
    assert north["organization_name"] == "North"
    assert {"unique_id", "id", "tenant_id", "status", "sms_active", "created_at"} <= set(north)
    assert north["updated_at"] == north["modified_at"] + "+00:00"
    assert north == emu.teli_orgs("partner")[0]
    for org, size in ((north, 20), (south, 12)):
        leads = fetch(http, emu, "teli", "partner", org["unique_id"]).json()
        assert leads["total"] == size
        assert {lead["organization_id"] for lead in leads["leads"]} == {org["id"]}
    default = http.get(url, headers=headers(emu.credentials("teli"), "teli")).json()
    assert [o["unique_id"] for o in default["organizations"]] == [emu.credentials("teli")["org_id"]]
    # Another key's organisation, or none at all: Teli's 404 in Teli's shape.
    foreign = fetch(http, emu, "teli", "solo", north["unique_id"])
    assert foreign.status_code == 404
    assert foreign.json() == {
        "error": f"Organization '{north['unique_id']}' not found",
        "success": False,
        "powered_by": "Teli",
    }
    refused = http.get(url, headers={"X-API-Key": "teli_live_nope"})
    assert (refused.status_code, refused.json()["error"]) == (401, "Invalid API key")
    assert http.get(url).json()["error"] == "API key is required"


def test_teli_organisations_added_between_runs(http, emu):
    url = emu.api_url("teli") + "/v1/organizations"
    partner = {"X-API-Key": emu.credentials("teli", "partner")["api_key"]}
    added = emu.add_teli_org("partner", "West", leads=4)
    orgs = http.get(url, headers=partner).json()["organizations"]
    assert [o["name"] for o in orgs] == ["North", "South", "West"]
    assert orgs[-1] == added
    assert fetch(http, emu, "teli", "partner", added["unique_id"]).json()["total"] == 4
    assert emu.teli_orgs("solo")[0]["tenant_id"] == "solo"
    more = http.post(
        f"{emu.url}/_control/teli_orgs", json={"account": "solo", "name": "Annex", "leads": 3}
    ).json()
    assert [o["name"] for o in more["organizations"]] == ["solo", "Annex"]
    assert emu.accounts_config(["teli"])["teli"]["accounts"][1]["org_id"] == "*"
    with pytest.raises(ValueError, match="has an organisation"):
        emu.add_teli_org("partner", "West")
    emu.reset_data()
    assert len(emu.teli_orgs("partner")) == 2


def test_teli_faults_reach_the_organisations_endpoint(http, emu):
    emu.faults("teli", "partner").unauthorized()
    url = emu.api_url("teli") + "/v1/organizations"
    partner = {"X-API-Key": emu.credentials("teli", "partner")["api_key"]}
    assert http.get(url, headers=partner).status_code == 401
    assert http.get(url, headers=partner).status_code == 200


def test_rate_limit_per_key(http, emu):
    limit = emu.set_rate_limit("sela", "acme", per_second=4, burst=2)
    assert [fetch(http, emu, "sela", "acme").status_code for _ in range(2)] == [200, 200]
    limited = fetch(http, emu, "sela", "acme")
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "1"
    assert limited.json()["detail"].startswith("Request was throttled")
    assert fetch(http, emu, "sela", "globex").status_code == 200
    assert fetch(http, emu, "sela").status_code == 200
    time.sleep(0.3)
    assert fetch(http, emu, "sela", "acme").status_code == 200
    assert (limit.admitted, limit.refused) == (3, 1)
    assert [r.account for r in emu.requests if r.status == 429] == ["acme"]
    emu.set_rate_limit("sela", "acme")
    assert [fetch(http, emu, "sela", "acme").status_code for _ in range(5)] == [200] * 5


def test_concurrency_limit_per_key(emu):
    emu.set_rate_limit("autocalls", "globex", max_concurrent=1)
    emu.faults("autocalls", "globex").latency_ms = 300
    statuses: list[int] = []

    def one() -> None:
        with requests.Session() as session:
            statuses.append(fetch(session, emu, "autocalls", "globex").status_code)

    threads = [threading.Thread(target=one) for _ in range(3)]
    for thread in threads:
        thread.start()
        time.sleep(0.05)
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 429, 429]
    with requests.Session() as session:
        assert fetch(session, emu, "autocalls", "globex").status_code == 200


def test_rate_limits_through_the_control_surface(http, emu):
    control = f"{emu.url}/_control/rate_limits"
    body = {"provider": "teli", "account": "partner", "per_second": 1, "burst": 1}
    assert http.post(control, json=body).json()["teli"]["partner"]["per_second"] == 1
    orgs = emu.api_url("teli") + "/v1/organizations"
    partner = {"X-API-Key": emu.credentials("teli", "partner")["api_key"]}
    assert http.get(orgs, headers=partner).status_code == 200
    limited = http.get(orgs, headers=partner)
    assert (limited.status_code, limited.json()["error"]) == (429, "Rate limit exceeded")
    assert limited.headers["Retry-After"] == "1"
    assert http.post(control, json={"clear": True}).json() == {p: {} for p in PROVIDERS}
    assert http.get(orgs, headers=partner).status_code == 200
    bad = http.post(control, json={"provider": "teli", "per_second": -1})
    assert bad.status_code == 400
    emu.set_rate_limit("teli", per_second=1)
    emu.reset()
    assert emu.rate_limit("teli") is None


def test_flextell_oauth_tokens_belong_to_the_account_named_by_their_subject(http, emu):
    oauth = emu.flextell_oauth.credentials()
    token_url = f"{emu.url}/oauth/token"

    def access_token(refresh_token: str) -> str:
        form = {
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": oauth["client_id"],
            "client_secret": oauth["client_secret"],
        }
        response = http.post(token_url, data=form)
        assert response.status_code == 200, response.text
        return response.json()["access_token"]

    url = emu.api_url("flextell") + "/v1/leads"
    acme = access_token(emu.flextell_oauth.mint_refresh_token("acme"))
    tenant = emu.credentials("flextell", "acme")["tenant_id"]
    body = http.get(
        url,
        params={"per_page": 100},
        headers={"Authorization": f"Bearer {acme}", "X-Tenant": tenant},
    ).json()
    assert [lead["id"] for lead in body["data"]] == emu.listed_keys("flextell", "acme")
    assert body["data"] != [lead for lead in emu.listing("flextell")]
    assert emu.requests[-1].account == "acme"
    default = access_token(oauth["refresh_token"])
    default_tenant = emu.credentials("flextell")["tenant_id"]
    mine = {"Authorization": f"Bearer {default}", "X-Tenant": default_tenant}
    assert http.get(url, headers=mine).status_code == 200
    assert emu.requests[-1].account == "default"
    emu.revoke("flextell", "acme")
    refused = http.get(url, headers={"Authorization": f"Bearer {acme}", "X-Tenant": tenant})
    assert refused.status_code == 401
