"""The run's budget counts requests in flight, and nothing else; choosing costs the same
however many lanes there are."""

from __future__ import annotations

import logging

from tap_leads.auth.static import StaticAuth
from tap_leads.engine.concurrency import AdaptiveWindow, RateLimiter
from tap_leads.engine.endpoint import Endpoint
from tap_leads.engine.fetch import PageFetcher
from tap_leads.engine.follow import follow
from tap_leads.engine.page import Page
from tap_leads.engine.pagination import TotalPagesEnvelope
from tap_leads.engine.retry import RetryPolicy
from tap_leads.engine.scheduler import Scheduler
from tap_leads.records import RecordShaper
from tap_leads.schemas import load_schema
from tests.unit.scripted_server import Answer, ScriptedServer

LOGGER = logging.getLogger("test-budget")
SHAPER = RecordShaper(load_schema("teli_leads"), "teli_leads", LOGGER)
LATENCY = 0.05


def org_of(path: str) -> str:
    return path.split("/")[3]


def teli_page(org: str, number: int, pages: int) -> dict:
    leads = [{"unique_id": f"{org}-{number}-{i}"} for i in (1, 2)]
    return {"success": True, "leads": leads, "page": number, "total_pages": pages}


def fetcher(base_url: str, org: str, window: int) -> PageFetcher:
    endpoint = Endpoint(
        settings=f"teli.accounts[{org}]",
        label=f"Teli account {org}",
        base_url=base_url,
        path=f"/v1/organizations/{org}/leads",
        params={"page_size": 2},
        timeout=10,
    )
    return PageFetcher(
        endpoint,
        auth=StaticAuth({"X-API-Key": "k"}),
        policy=RetryPolicy(max_tries=3, base_seconds=0.01, max_wait_seconds=300),
        envelope=TotalPagesEnvelope(endpoint.label, 2),
        shaper=SHAPER,
        window=AdaptiveWindow(window),
        limiter=RateLimiter(None),
        logger=LOGGER,
    )


def walk_all(scheduler: Scheduler, server: ScriptedServer, orgs: list[str], window: int) -> dict:
    fetchers = [fetcher(server.url, org, window) for org in orgs]
    lanes = [
        scheduler.lane(f.label, lambda token, number, f=f: f.fetch(token, number), f.window)
        for f in fetchers
    ]
    scheduler.start()
    walked: dict[str, list[int]] = {}
    try:
        for org, lane, page_fetcher in zip(orgs, lanes, fetchers, strict=True):
            pages = follow(lane.take, page_fetcher.label, page_fetcher.pin_next_url)
            walked[org] = [page.number for page in pages]
            lane.finish()
    finally:
        scheduler.cancel()
        for page_fetcher in fetchers:
            page_fetcher.close()
    return walked


def mean_in_flight(server: ScriptedServer, start: float, end: float) -> float:
    """Requests in flight on average between `start` and `end`, from the server's log."""
    busy = sum(max(0.0, min(seen.ended, end) - max(seen.started, start)) for seen in server.seen)
    return busy / (end - start)


def test_the_budget_is_kept_busy_against_a_server_with_50_ms_latency():
    orgs, pages = ["a", "b", "c"], 40

    def respond(seen):
        org = org_of(seen.path)
        return Answer(teli_page(org, int(seen.query["page"]), pages), latency=LATENCY)

    with ScriptedServer(respond) as server:
        walked = walk_all(Scheduler(budget=6), server, orgs, window=6)
    assert walked == {org: list(range(1, pages + 1)) for org in orgs}
    assert len(server.seen) == 3 * pages  # every page once
    assert server.peak == 6  # the whole budget, and never more
    first_answer = min(seen.ended for seen in server.seen)
    last_start = max(seen.started for seen in server.seen)
    # Pages held for emitting take no slot, so requests keep going out (generous bound).
    assert mean_in_flight(server, first_answer, last_start) >= 0.75 * 6


def test_a_request_waiting_in_a_backoff_holds_no_slot():
    pages = 80

    def respond(seen):
        org, number = org_of(seen.path), int(seen.query["page"])
        first_try = sum(1 for s in server.seen if s.path == seen.path and s.query == seen.query)
        if org == "a" and number == 5 and first_try == 1:
            # The emitting lane's page 5 waits a second before its retry.
            return Answer({"error": "busy"}, status=503, headers={"Retry-After": "1"})
        return Answer(teli_page(org, number, pages), latency=LATENCY)

    with ScriptedServer(respond) as server:
        scheduler = Scheduler(budget=3, ahead_pages=200, held_pages=200)
        walked = walk_all(scheduler, server, ["a", "b"], window=3)
    assert walked == {"a": list(range(1, pages + 1)), "b": list(range(1, pages + 1))}
    tries = [s for s in server.seen if org_of(s.path) == "a" and s.query["page"] == "5"]
    assert len(tries) == 2
    waited_from, waited_to = tries[0].ended, tries[1].started
    assert waited_to - waited_from >= 1.0
    during = [s for s in server.seen if waited_from + 0.2 <= s.started <= waited_to - 0.1]
    assert during, "requests went on while page 5 waited"
    # The waiting request gave its slot back: the whole budget is still in use.
    assert max(s.concurrent for s in during) == 3
    assert server.peak <= 3
    assert mean_in_flight(server, waited_from + 0.2, waited_to - 0.1) >= 2.4


def pages_of(count: int):
    def fetch(token, number):
        return Page(number, "", next=number + 1 if number < count else None, total_pages=count)

    return fetch


def choosing_work(lanes: int) -> tuple[float, int]:
    """Lanes examined per page fetched, walking `lanes` lanes of 2 pages each."""
    scheduler = Scheduler(budget=4)
    planned = [scheduler.lane(f"l{i}", pages_of(2), AdaptiveWindow(4)) for i in range(lanes)]
    scheduler.start()
    fetched = 0
    try:
        for lane in planned:
            fetched += sum(1 for _ in follow(lane.take, lane.name))
            lane.finish()
    finally:
        scheduler.cancel()
    return scheduler.visits / fetched, fetched


def test_choosing_the_next_request_costs_the_same_at_10_and_10000_lanes():
    few, fetched_few = choosing_work(10)
    many, fetched_many = choosing_work(10_000)
    assert (fetched_few, fetched_many) == (20, 20_000)
    # Running counts, not sums over the lanes: the work per page does not grow with them.
    assert many <= few * 1.5 + 1
    assert many < 10


def test_many_small_lanes_keep_the_budget_busy():
    """Accounts of a few pages each: the lanes next in line fill up before lanes further on
    start, so pages held far ahead do not leave the budget idle."""
    orgs, pages = [f"o{i:02d}" for i in range(40)], 3

    def respond(seen):
        return Answer(teli_page(org_of(seen.path), int(seen.query["page"]), pages), latency=LATENCY)

    with ScriptedServer(respond) as server:
        walked = walk_all(Scheduler(budget=6), server, orgs, window=6)
    assert walked == {org: [1, 2, 3] for org in orgs}
    assert len(server.seen) == 40 * pages
    assert server.peak <= 6
    first_answer = min(seen.ended for seen in server.seen)
    last_start = max(seen.started for seen in server.seen)
    assert mean_in_flight(server, first_answer, last_start) >= 0.7 * 6


class CountingEnvelope(TotalPagesEnvelope):
    """Counts how often a body is read."""

    reads = 0

    def unwrap(self, body):
        type(self).reads += 1
        return super().unwrap(body)


def test_each_page_is_read_once_from_fetch_to_walk():
    pages = 12

    def respond(seen):
        return Answer(teli_page("a", int(seen.query["page"]), pages))

    with ScriptedServer(respond) as server:
        page_fetcher = fetcher(server.url, "a", 4)
        page_fetcher.envelope = CountingEnvelope(page_fetcher.label, 2)
        scheduler = Scheduler(budget=4)
        lane = scheduler.lane("a", page_fetcher.fetch, page_fetcher.window)
        scheduler.start()
        try:
            walked = [p.number for p in follow(lane.take, "a", page_fetcher.pin_next_url)]
        finally:
            scheduler.cancel()
            page_fetcher.close()
    assert walked == list(range(1, pages + 1))
    assert len(server.seen) == pages
    # One reading per page: in the worker that fetched it, never again downstream.
    assert CountingEnvelope.reads == pages
