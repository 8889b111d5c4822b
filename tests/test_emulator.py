"""The provider emulator itself, over real HTTP."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import orjson
import pytest
import requests

from emulator import PROVIDERS, LeadsEmulator, generate_leads

LIST_PATHS = {
    "teli": "/v1/organizations/{org_id}/leads",
    "nexus_erp": "/api/v1/leads",
    "flextell": "/v1/leads",
    "sela": "/api/leads/",
    "autocalls": "/user/leads",
}
ROWS = {
    "teli": "leads",
    "nexus_erp": "data",
    "flextell": "data",
    "sela": "results",
    "autocalls": "data",
}
PAGE_SIZE = {
    "teli": "page_size",
    "nexus_erp": "pageSize",
    "flextell": "per_page",
    "sela": "page_size",
    "autocalls": "per_page",
}
NEXT_LINK = {
    "flextell": lambda body: body["links"]["next"],
    "sela": lambda body: body["next"],
    "autocalls": lambda body: body["next_page_url"],
}


@pytest.fixture(scope="module")
def emu():
    with LeadsEmulator(leads_per_provider=120, seed=11) as emulator:
        yield emulator


@pytest.fixture(autouse=True)
def _clean(emu):
    emu.clear_faults()
    emu.clear_requests()
    yield
    emu.clear_faults()


@pytest.fixture(scope="module")
def http():
    with requests.Session() as session:
        yield session


def auth(emu: LeadsEmulator, provider: str) -> dict[str, str]:
    creds = emu.credentials(provider)
    return {
        "teli": lambda: {"X-API-Key": creds["api_key"]},
        "nexus_erp": lambda: {"Authorization": f"Bearer {creds['api_key']}"},
        "flextell": lambda: {
            "Authorization": f"Bearer {creds['access_token']}",
            "X-Tenant": creds["tenant_id"],
        },
        "sela": lambda: {"Authorization": f"Token {creds['api_key']}"},
        "autocalls": lambda: {"Authorization": f"Bearer {creds['api_key']}"},
    }[provider]()


def list_url(emu: LeadsEmulator, provider: str) -> str:
    path = LIST_PATHS[provider].format(org_id=emu.credentials("teli")["org_id"])
    return emu.api_url(provider) + path


def get(http, emu, provider, params=None, headers=None, url=None):
    params = dict(params or {})
    if provider == "teli":
        params.setdefault("is_admin", "true")
    sent = auth(emu, provider) if headers is None else headers
    return http.get(url or list_url(emu, provider), params=params, headers=sent)


def walk(http, emu, provider, size):
    """Every lead, reached the way each API says to reach the next page."""
    params = {PAGE_SIZE[provider]: size}
    if provider in ("teli", "nexus_erp"):
        seen, page = [], 1
        while True:
            body = get(http, emu, provider, {**params, "page": page}).json()
            seen += body[ROWS[provider]]
            if provider == "teli" and page >= body["total_pages"]:
                return seen
            if provider == "nexus_erp" and not body["pagination"]["hasNextPage"]:
                return seen
            page += 1
    body = get(http, emu, provider, params).json()
    seen = body[ROWS[provider]]
    while url := NEXT_LINK[provider](body):
        if provider == "autocalls":
            url += f"&per_page={size}"  # its links carry the page number only
        body = get(http, emu, provider, url=url).json()
        seen += body[ROWS[provider]]
    return seen


@pytest.mark.parametrize("provider", PROVIDERS)
def test_walking_every_page_returns_every_lead_once(http, emu, provider):
    key = emu.primary_key(provider)
    seen = walk(http, emu, provider, size=17)
    assert sorted(lead[key] for lead in seen) == sorted(lead[key] for lead in emu.leads(provider))
    assert len(seen) == 120


@pytest.mark.parametrize(
    ("provider", "headers", "status", "body"),
    [
        ("teli", {}, 401, {"error": "API key is required", "success": False, "powered_by": "Teli"}),
        ("teli", {"X-API-Key": "x"}, 401, {"error": "Invalid API key", "success": False}),
        ("nexus_erp", {}, 401, {"error": "Invalid or missing API key"}),
        (
            "nexus_erp",
            {"Authorization": "Bearer sk_x"},
            401,
            {"error": "Invalid or missing API key"},
        ),
        (
            "flextell",
            {"Authorization": "Bearer x", "X-Tenant": "1"},
            401,
            {"error": "invalid_token"},
        ),
        ("sela", {}, 401, {"detail": "Authentication credentials were not provided."}),
        ("sela", {"Authorization": "Token nope"}, 401, {"detail": "Invalid token."}),
        ("autocalls", {"Authorization": "Bearer 1|x"}, 401, {"message": "Unauthenticated."}),
    ],
)
def test_refused_credentials(http, emu, provider, headers, status, body):
    response = get(http, emu, provider, headers=headers)
    assert response.status_code == status
    assert body.items() <= response.json().items()


def test_flextell_tenant_header_and_doubled_sela_prefix(http, emu):
    token = {"Authorization": f"Bearer {emu.credentials('flextell')['access_token']}"}
    missing = get(http, emu, "flextell", headers=token)
    assert (missing.status_code, missing.json()["error"]) == (400, "tenant_required")
    wrong = get(http, emu, "flextell", headers={**token, "X-Tenant": "999999"})
    assert (wrong.status_code, wrong.json()["error"]) == (403, "forbidden")
    doubled = {"Authorization": f"Token Token {emu.credentials('sela')['api_key']}"}
    assert get(http, emu, "sela", headers=doubled).status_code == 401


def test_teli_pages_only_on_request(http, emu):
    unpaged = get(http, emu, "teli").json()
    assert set(unpaged) == {"success", "count", "total", "leads", "powered_by"}
    assert unpaged["count"] == unpaged["total"] == 120
    paged = get(http, emu, "teli", {"page": 3, "page_size": 50}).json()
    assert (paged["count"], paged["total"], paged["total_pages"]) == (20, 120, 3)
    assert get(http, emu, "teli", {"page": 1, "page_size": 999}).json()["page_size"] == 200
    assert get(http, emu, "teli", {"is_admin": "false"}).status_code == 400
    user = get(http, emu, "teli", {"user_id": "nobody"})
    assert (user.status_code, user.json()["error"]) == (404, "User 'nobody' not found")
    owner = emu.leads("teli")[0]["user_id"]
    mine = get(http, emu, "teli", {"user_id": emu.teli_user_unique_id(owner), "is_admin": ""})
    expected = [lead for lead in emu.leads("teli") if lead["user_id"] == owner]
    assert mine.json()["leads"] == expected
    phone = emu.leads("teli")[5]["phone_number"]
    found = get(http, emu, "teli", {"phone_number": phone, "page": 1}).json()["leads"]
    assert [lead["phone_number"] for lead in found] == [phone]


def test_nexus_order_clamp_and_filters(http, emu):
    body = get(http, emu, "nexus_erp", {"pageSize": 500}).json()
    assert body["pagination"] == {
        "page": 1,
        "pageSize": 100,
        "total": 120,
        "totalPages": 2,
        "hasNextPage": True,
        "hasPrevPage": False,
    }
    rows = walk(http, emu, "nexus_erp", size=100)
    order = [(r["nextCallAt"] is None, r["nextCallAt"] or "") for r in rows]
    assert order == sorted(order)
    unscheduled = [r["createdAt"] for r in rows if r["nextCallAt"] is None]
    assert unscheduled == sorted(unscheduled, reverse=True)
    qualified = get(http, emu, "nexus_erp", {"status": "QUALIFIED", "pageSize": 100}).json()
    assert {r["status"] for r in qualified["data"]} == {"QUALIFIED"}
    assert get(http, emu, "nexus_erp", {"status": "HOT"}).status_code == 400
    unassigned = get(http, emu, "nexus_erp", {"assignedToId": "unassigned"}).json()["data"]
    assert unassigned
    assert all(r["assignedToId"] is None for r in unassigned)


def test_flextell_links_keep_the_query(http, emu):
    params = {"per_page": 10, "sort_by": "created_at", "sort_order": "asc", "page": 2}
    body = get(http, emu, "flextell", params).json()
    assert body["links"]["next"] == (
        f"{emu.url}/flextell/api/v1/leads?per_page=10&sort_by=created_at&sort_order=asc&page=3"
    )
    assert body["meta"]["from"] == 11
    assert body["meta"]["links"][0]["label"] == "&laquo; Previous"
    created = [r["created_at"] for r in body["data"]]
    assert created == sorted(created)
    invalid = get(http, emu, "flextell", {"per_page": 101})
    assert invalid.status_code == 422
    assert invalid.json()["errors"]["per_page"] == ["The per page field must be between 1 and 100."]
    assert get(http, emu, "flextell", {"sort_by": "updated_at"}).status_code == 422
    trashed = get(http, emu, "flextell", {"trashed": "true", "per_page": 100}).json()["data"]
    assert [r["id"] for r in trashed] == sorted((r["id"] for r in emu.trashed()), reverse=True)
    assert trashed
    assert all(r["deleted_at"] for r in trashed)


def test_sela_drf_pagination(http, emu):
    body = get(http, emu, "sela", {"page_size": 50, "page": 2, "email": ""}).json()
    base = f"{emu.url}/sela/api/leads/"
    assert body["next"] == f"{base}?email=&page=3&page_size=50"
    assert body["previous"] == f"{base}?email=&page_size=50"
    assert get(http, emu, "sela", {"page": 9}).json() == {"detail": "Invalid page."}
    assert len(get(http, emu, "sela", {"page_size": 5000}).json()["results"]) == 120
    assert len(get(http, emu, "sela", {"page_size": 0}).json()["results"]) == 100
    redirect = http.get(emu.api_url("sela") + "/api/leads?x=1", allow_redirects=False)
    assert (redirect.status_code, redirect.headers["Location"]) == (301, "/sela/api/leads/?x=1")
    lead = emu.leads("sela")[3]
    by_phone = get(http, emu, "sela", {"phone_number": lead["phone_number"]}).json()
    assert [r["id"] for r in by_phone["results"]] == [lead["id"]]


def test_autocalls_paginator(http, emu):
    body = get(http, emu, "autocalls", {"per_page": 20, "status": "completed"}).json()
    path = f"{emu.url}/autocalls/api/user/leads"
    assert body["path"] == path
    assert body["next_page_url"] == f"{path}?page=2"
    assert {r["status"] for r in body["data"]} == {"completed"}
    day = emu.leads("autocalls")[40]["created_at"][:10]
    same_day = get(http, emu, "autocalls", {"date_from": day, "date_to": day, "per_page": 100})
    assert same_day.json()["data"]
    assert {r["created_at"][:10] for r in same_day.json()["data"]} == {day}
    bad = get(http, emu, "autocalls", {"date_from": "2025/01/01"})
    assert bad.status_code == 422
    assert "date_from" in bad.json()["errors"]


@pytest.mark.parametrize(("style", "header"), [("seconds", "Retry-After"), ("reset", None)])
def test_rate_limit(http, emu, style, header):
    emu.faults("sela").rate_limit(retry_after=2, style=style)
    limited = get(http, emu, "sela")
    assert limited.status_code == 429
    assert limited.json()["detail"].startswith("Request was throttled")
    if header:
        assert limited.headers[header] == "2"
    else:
        assert "Retry-After" not in limited.headers
        assert int(limited.headers["X-RateLimit-Reset"]) >= time.time()
    assert get(http, emu, "sela").status_code == 200


def test_rate_limit_http_date_and_server_errors_on_a_given_page(http, emu):
    emu.faults("autocalls").rate_limit(retry_after=5, style="http-date")
    retry_at = parsedate_to_datetime(get(http, emu, "autocalls").headers["Retry-After"])
    assert retry_at > datetime.now(UTC)
    emu.faults("nexus_erp").server_error(502, page=2, times=2)
    assert get(http, emu, "nexus_erp", {"page": 1}).status_code == 200
    statuses = [get(http, emu, "nexus_erp", {"page": 2}).status_code for _ in range(3)]
    assert statuses == [502, 502, 200]
    emu.faults("teli").success_false()
    assert get(http, emu, "teli", {"page": 1}).json()["success"] is False


@pytest.mark.parametrize("close", [False, True])
def test_truncated_body(http, emu, close):
    emu.faults("flextell").truncated_body(close=close)
    if close:
        with pytest.raises(requests.exceptions.ChunkedEncodingError):
            get(http, emu, "flextell")
    else:
        with pytest.raises(orjson.JSONDecodeError):
            orjson.loads(get(http, emu, "flextell").content)
    assert get(http, emu, "flextell").json()["data"]


def test_disconnect_and_forced_401(http, emu):
    emu.faults("teli").disconnect()
    with pytest.raises(requests.exceptions.ConnectionError):
        get(http, emu, "teli", {"page": 1})
    emu.faults("teli").unauthorized(page=2)
    assert get(http, emu, "teli", {"page": 1}).status_code == 200
    refused = get(http, emu, "teli", {"page": 2})
    assert (refused.status_code, refused.json()["error"]) == (401, "Invalid API key")
    assert [r.status for r in emu.requests] == [0, 200, 401]


def test_page_content_faults(http, emu):
    emu.faults("teli").repeat_page(page=2)
    first = get(http, emu, "teli", {"page": 1, "page_size": 10}).json()
    second = get(http, emu, "teli", {"page": 2, "page_size": 10}).json()
    assert second["page"] == 2
    assert second["leads"] == first["leads"]
    emu.faults("nexus_erp").duplicate_lead()
    one = get(http, emu, "nexus_erp", {"pageSize": 10}).json()
    two = get(http, emu, "nexus_erp", {"pageSize": 10, "page": 2}).json()
    assert two["data"][0] == one["data"][-1]
    assert len(two["data"]) == 11
    assert two["pagination"]["total"] == 120


def test_next_link_faults(http, emu):
    emu.faults("sela").next_loop(page=2)
    looped = get(http, emu, "sela", {"page": 2, "page_size": 10}).json()
    assert looped["next"].endswith("page=1&page_size=10")
    emu.faults("flextell").foreign_next()
    foreign = get(http, emu, "flextell").json()["links"]["next"]
    assert foreign == "https://api.example.org/flextell/api/v1/leads?page=2"
    emu.faults("autocalls").scheme_next()
    other_scheme = get(http, emu, "autocalls").json()["next_page_url"]
    assert (
        other_scheme == emu.url.replace("http://", "https://") + "/autocalls/api/user/leads?page=2"
    )


def test_shape_faults(http, emu):
    emu.faults("sela").nested_envelope()
    outer = get(http, emu, "sela", {"page_size": 10}).json()
    assert outer["count"] == 123
    assert outer["next"] == "http://api.example.org/accounts/?page=4"
    inner = outer["results"][0]
    assert (inner["count"], len(inner["results"])) == (120, 10)
    emu.faults("autocalls").string_ids()
    emu.faults("autocalls").variables_list()
    row = get(http, emu, "autocalls").json()["data"][0]
    assert isinstance(row["id"], str)
    assert isinstance(row["variables"], list)
    assert isinstance(get(http, emu, "autocalls").json()["data"][0]["id"], int)


def test_faults_are_refused_where_they_make_no_sense(emu):
    with pytest.raises(ValueError, match="does not apply"):
        emu.faults("teli").nested_envelope()
    with pytest.raises(ValueError, match="status"):
        emu.faults("teli").server_error(418)


def test_touch_add_and_soft_delete_show_up(http, emu):
    try:
        lead = next(r for r in emu.leads("autocalls") if "T" not in r["updated_at"])
        emu.touch("autocalls", [lead["id"]])
        listed = walk(http, emu, "autocalls", size=100)
        newest = max(r["updated_at"] for r in listed if "T" not in r["updated_at"])
        assert next(r for r in listed if r["id"] == lead["id"])["updated_at"] == newest
        added = emu.add("sela", 2)
        assert get(http, emu, "sela").json()["count"] == 122
        assert added[0]["modified_time"] < added[1]["modified_time"]
        gone = emu.leads("flextell")[0]["id"]
        emu.soft_delete([gone])
        trashed = get(http, emu, "flextell", {"trashed": "1", "per_page": 100}).json()["data"]
        assert gone in [r["id"] for r in trashed]
        assert gone not in [r["id"] for r in walk(http, emu, "flextell", size=100)]
    finally:
        emu.reset_data()


def test_request_log_and_control_surface(http, emu):
    get(http, emu, "teli", {"page": 1, "page_size": 5})
    (record,) = emu.requests
    assert record.provider == "teli"
    assert record.query == [("page", "1"), ("page_size", "5"), ("is_admin", "true")]
    assert record.headers["x-api-key"] == emu.credentials("teli")["api_key"]
    assert record.status == 200
    fault = {"provider": "nexus_erp", "kind": "unauthorized"}
    assert http.post(f"{emu.url}/_control/faults", json=fault).status_code == 200
    assert get(http, emu, "nexus_erp").status_code == 401
    logged = http.get(f"{emu.url}/_control/requests").json()
    assert [r["status"] for r in logged] == [200, 401]
    assert http.get(f"{emu.url}/_control/config").json() == emu.tap_config()


def test_latency(http, emu):
    emu.faults("teli").latency_ms = 80
    started = time.monotonic()
    get(http, emu, "teli", {"page": 1})
    assert time.monotonic() - started >= 0.08


def test_data_is_deterministic_and_credentials_never_leak_into_it(emu):
    assert generate_leads("teli", 120, seed=11) == emu.leads("teli")
    assert generate_leads("teli", 120, seed=12) != emu.leads("teli")
    dump = orjson.dumps([emu.leads(p) for p in PROVIDERS]).decode()
    for provider in PROVIDERS:
        for name, secret in emu.credentials(provider).items():
            if name in ("api_key", "access_token"):
                assert secret not in dump
    config = emu.tap_config(["sela"], start_date="2025-01-01T00:00:00Z", sela={"page_size": 7})
    assert set(config) == {"sela", "start_date"}
    assert config["sela"]["page_size"] == 7
    assert config["sela"]["api_url"] == f"{emu.url}/sela"
