"""The page fetcher on its own: plain values in, pages or errors out; no Stream, Tap or catalog."""

from __future__ import annotations

import logging

import pytest

from emulator import LeadsEmulator
from tap_leads.auth.static import StaticAuth
from tap_leads.engine.concurrency import AdaptiveWindow, RateLimiter
from tap_leads.engine.endpoint import Endpoint
from tap_leads.engine.fetch import PageFetcher
from tap_leads.engine.pagination import TotalPagesEnvelope
from tap_leads.engine.retry import RetryPolicy
from tap_leads.errors import AuthError, GaveUpError, PaginationError
from tap_leads.records import RecordShaper
from tap_leads.schemas import load_schema

LOGGER = logging.getLogger("test-fetch")


@pytest.fixture(scope="module")
def emu():
    with LeadsEmulator(leads_per_provider=0, leads={"teli": 45}, seed=5) as emulator:
        yield emulator


def teli_fetcher(emu, *, api_key: str | None = None, max_tries: int = 3) -> PageFetcher:
    block = emu.tap_config(providers=["teli"])["teli"]
    endpoint = Endpoint(
        settings="teli",
        label="Teli",
        base_url=block["api_url"],
        path=f"/v1/organizations/{block['org_id']}/leads",
        params={"page_size": 20, "is_admin": "true"},
        timeout=5,
        credential_settings=("teli.api_key", "teli.org_id"),
        request_settings=("user_id", "page_size"),
    )
    return PageFetcher(
        endpoint,
        auth=StaticAuth({"X-API-Key": api_key or block["api_key"]}),
        policy=RetryPolicy(max_tries=max_tries, base_seconds=0.01, max_wait_seconds=300),
        envelope=TotalPagesEnvelope("Teli", 20),
        shaper=RecordShaper(load_schema("teli_leads"), "teli_leads", LOGGER),
        window=AdaptiveWindow(4),
        limiter=RateLimiter(None),
        logger=LOGGER,
    )


def test_a_page_comes_parsed_and_shaped(emu):
    fetcher = teli_fetcher(emu)
    page = fetcher.fetch(3, 3)
    assert page.number == 3
    assert len(page.rows) == 5  # 45 leads, 20 a page
    assert (page.next, page.total, page.total_pages) == (None, 45, 3)
    assert page.body is None  # read once, into the facts
    assert all(row["updated_at"].endswith("+00:00") for row in page.rows)
    assert page.retries == 0
    request = emu.requests[-1]
    assert dict(request.query) == {"page": "3", "page_size": "20", "is_admin": "true"}
    assert request.headers["x-api-key"] == fetcher.auth.headers()["X-API-Key"]


def test_a_next_url_keeps_the_configured_host_and_sends_each_parameter_once(emu):
    fetcher = teli_fetcher(emu)
    host = fetcher.endpoint.host
    url = fetcher.request_url(f"http://{host}/teli/v1/x?page=2&page_size=20")
    assert url == f"http://{host}/teli/v1/x?page_size=20&is_admin=true&page=2"
    with pytest.raises(PaginationError, match=r"another host \(api\.example\.org\)"):
        fetcher.request_url("https://api.example.org/v1/x?page=2")


def test_retries_are_counted_and_then_given_up_with_advice(emu):
    emu.faults("teli").server_error(503, times=1)
    fetcher = teli_fetcher(emu)
    assert fetcher.fetch(1, 1).retries == 1
    emu.faults("teli").server_error(503, times=None)
    try:
        with pytest.raises(GaveUpError) as failure:
            fetcher.fetch(1, 1)
    finally:
        emu.clear_faults()
    assert str(failure.value) == (
        "Teli still failed on page 1 after 3 tries: HTTP 503: Service Unavailable. The "
        "provider looks unavailable: run the tap later, or raise max_tries."
    )


def test_rejected_credentials_name_the_settings(emu):
    fetcher = teli_fetcher(emu, api_key="wrong")
    with pytest.raises(AuthError) as failure:
        fetcher.fetch(1, 1)
    assert str(failure.value) == (
        "Teli rejected the credentials (HTTP 401: Invalid API key). "
        "Check teli.api_key and teli.org_id."
    )


def test_another_endpoint_of_the_same_api(emu):
    organizations = teli_fetcher(emu).get_json("/v1/organizations")["organizations"]
    assert [org["unique_id"] for org in organizations] == [
        emu.tap_config(providers=["teli"])["teli"]["org_id"]
    ]
