"""Failures that retrying cannot cure fail fast; a whole answer is bounded; quotas are kept."""

from __future__ import annotations

import logging
import math
import socket
import threading
import time

import pytest

from tap_leads.auth.static import StaticAuth
from tap_leads.engine.concurrency import AdaptiveWindow, RateLimiter
from tap_leads.engine.endpoint import Endpoint
from tap_leads.engine.fetch import PageFetcher
from tap_leads.engine.pagination import TotalPagesEnvelope
from tap_leads.engine.quota import Quota, announced
from tap_leads.engine.retry import RetryPolicy
from tap_leads.errors import GaveUpError
from tap_leads.records import RecordShaper
from tap_leads.schemas import load_schema
from tests.unit.scripted_server import Answer, ScriptedServer

LOGGER = logging.getLogger("test-faults")
POLICY = '"default";q=100;w=60'
SHAPER = RecordShaper(load_schema("teli_leads"), "teli_leads", LOGGER)


def fetcher(base_url: str, *, max_tries: int = 3, timeout: float = 5.0) -> PageFetcher:
    endpoint = Endpoint(
        settings="teli",
        label="Teli",
        base_url=base_url,
        path="/v1/organizations/org/leads",
        params={"page_size": 2},
        timeout=timeout,
    )
    return PageFetcher(
        endpoint,
        auth=StaticAuth({"X-API-Key": "k"}),
        policy=RetryPolicy(max_tries=max_tries, base_seconds=0.01, max_wait_seconds=300),
        envelope=TotalPagesEnvelope("Teli", 2),
        shaper=SHAPER,
        window=AdaptiveWindow(4),
        limiter=RateLimiter(None),
        logger=LOGGER,
    )


def teli_page(number: int, pages: int = 50) -> dict:
    leads = [{"unique_id": f"L{number}-{i}", "updated_at": "2025-01-01T00:00:00Z"} for i in (1, 2)]
    return {"success": True, "leads": leads, "page": number, "total_pages": pages}


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_refused_host_that_never_answered_fails_after_two_quick_tries():
    page_fetcher = fetcher(f"http://127.0.0.1:{closed_port()}", max_tries=8)
    with pytest.raises(GaveUpError) as failure:
        page_fetcher.fetch(1, 1)
    message = str(failure.value)
    assert message.startswith("Teli still failed on page 1 after 2 tries: the connection to ")
    assert message.endswith("Check teli.api_url: the host and port, and that the API is up.")


def test_a_refusal_after_the_provider_answered_is_retried_with_the_full_policy():
    page_fetcher = fetcher(f"http://127.0.0.1:{closed_port()}", max_tries=4)
    page_fetcher.answered.set()  # as when an earlier page of the run was answered
    with pytest.raises(GaveUpError, match=r"^Teli still failed on page 1 after 4 tries: "):
        page_fetcher.fetch(1, 1)


def test_an_answer_marks_the_provider_as_answered():
    with ScriptedServer(lambda seen: Answer(teli_page(1))) as server:
        page_fetcher = fetcher(server.url)
        assert not page_fetcher.answered.is_set()
        page_fetcher.fetch(1, 1)
    assert page_fetcher.answered.is_set()


def test_a_trickling_body_is_cut_at_request_timeout_and_retried():
    def respond(seen):
        first = len(server.seen) == 1
        # The first body arrives in 8 pieces 0.5 s apart, each well within the timeout.
        return Answer(teli_page(1), pieces=8 if first else 1, interval=0.5)

    with ScriptedServer(respond) as server:
        page_fetcher = fetcher(server.url, timeout=1.0)
        page = page_fetcher.fetch(1, 1)
        assert page.retries == 1
        assert [row["unique_id"] for row in page.rows] == ["L1-1", "L1-2"]
        assert len(server.seen) == 2
        # The first request was given up before its body was whole (4 s in all).
        assert server.seen[1].started - server.seen[0].started < 3.5


def test_a_body_that_always_trickles_gives_up_naming_the_timeout():
    with ScriptedServer(lambda seen: Answer(teli_page(1), pieces=6, interval=0.5)) as server:
        page_fetcher = fetcher(server.url, max_tries=2, timeout=1.0)
        with pytest.raises(GaveUpError, match=r"after 2 tries: no answer within request_timeout"):
            page_fetcher.fetch(1, 1)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "7"}, (0, 7.0)),
        ({"X-RateLimit-Remaining": "3", "X-RateLimit-Reset": "1000000100"}, (3, 100.0)),
        ({"RateLimit-Remaining": "2", "RateLimit-Reset": "4"}, (2, 4.0)),
        ({"RateLimit": "limit=100, remaining=5, reset=9"}, (5, 9.0)),
        ({"RateLimit": '"default";r=0;t=12', "RateLimit-Policy": POLICY}, (0, 12.0)),
        ({"RateLimit": '"default";r=1', "RateLimit-Policy": POLICY}, (1, 60.0)),
        ({"X-RateLimit-Limit": "100"}, None),
        ({}, None),
    ],
)
def test_announced_quotas_in_every_form(headers, expected):
    assert announced(headers, now=1_000_000_000) == expected


def test_no_request_is_sent_while_the_quota_is_used_up_before_the_reset(caplog):
    per_window = 4
    lock = threading.Lock()
    windows: dict[int, int] = {}

    def respond(seen):
        now = time.time()
        window = math.floor(now)
        with lock:
            windows[window] = used = windows.get(window, 0) + 1
        headers = {
            "X-RateLimit-Limit": str(per_window),
            "X-RateLimit-Remaining": str(max(0, per_window - used)),
            "X-RateLimit-Reset": str(window + 1),
        }
        if used > per_window:
            return Answer({"error": "Too many requests"}, status=429, headers=headers)
        return Answer(teli_page(1), headers=headers, latency=0.02)

    with ScriptedServer(respond) as server:
        page_fetcher = fetcher(server.url)
        page_fetcher.quota = Quota("Teli", LOGGER)
        errors: list[BaseException] = []

        def work():
            try:
                for _ in range(3):
                    page_fetcher.fetch(1, 1)
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=work) for _ in range(4)]
        with caplog.at_level(logging.INFO, logger="test-faults"):
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
    assert errors == []
    assert len(server.seen) == 12  # every page at the first try: no answer of 429
    assert max(windows.values()) <= per_window
    assert page_fetcher.quota.holds > 0
    told = [r for r in caplog.records if "request quota is used up" in r.getMessage()]
    # Logged once per window that held requests, not once per held request.
    assert 1 <= len(told) <= len(windows)
    assert all(record.levelno == logging.INFO for record in told)
