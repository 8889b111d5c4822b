"""The run's scheduler: one budget of requests in flight, lanes taken strictly in order."""

from __future__ import annotations

import random
import threading
import time

import pytest

from tap_leads.engine.concurrency import AdaptiveWindow
from tap_leads.engine.page import Page
from tap_leads.engine.scheduler import RunCancelled, Scheduler


class Recorder:
    """A fetch function that counts what is in flight, per lane and in all."""

    def __init__(self, pages: int, delay: float = 0.005) -> None:
        self.pages = pages
        self.delay = delay
        self.lock = threading.Lock()
        self.in_flight: dict[str, int] = {}
        self.peak: dict[str, int] = {}
        self.total = self.peak_total = 0
        self.fetched: list[tuple[str, int]] = []

    def fetch(self, name: str):
        def run(token, number):
            with self.lock:
                self.in_flight[name] = self.in_flight.get(name, 0) + 1
                self.peak[name] = max(self.peak.get(name, 0), self.in_flight[name])
                self.total += 1
                self.peak_total = max(self.peak_total, self.total)
                self.fetched.append((name, number))
            time.sleep(self.delay * random.uniform(0.5, 1.5))
            with self.lock:
                self.in_flight[name] -= 1
                self.total -= 1
            return Page(
                number=number,
                next=number + 1 if number < self.pages else None,
                total_pages=self.pages,
            )

        return run


def take_all(lane, pages: int) -> list[int]:
    return [lane.take(n, n).number for n in range(1, pages + 1)]


def test_pages_come_back_in_order_within_the_window_and_the_budget():
    recorder = Recorder(pages=40)
    scheduler = Scheduler(budget=6)
    lanes = [
        scheduler.lane(name, recorder.fetch(name), AdaptiveWindow(4)) for name in ("a", "b", "c")
    ]
    scheduler.start()
    try:
        for lane in lanes:
            assert take_all(lane, 40) == list(range(1, 41))
            lane.finish()
    finally:
        scheduler.cancel()
    assert recorder.peak_total <= 6
    assert all(peak <= 4 for peak in recorder.peak.values())
    # Every page once, none fetched twice.
    assert sorted(recorder.fetched) == sorted((n, p) for n in "abc" for p in range(1, 41))


def test_the_next_lanes_are_fetched_while_the_first_is_emitted_within_the_cap():
    recorder = Recorder(pages=30, delay=0.002)
    scheduler = Scheduler(budget=4, ahead_pages=6)
    first = scheduler.lane("first", recorder.fetch("first"), AdaptiveWindow(4))
    later = [scheduler.lane(f"l{i}", recorder.fetch(f"l{i}"), AdaptiveWindow(4)) for i in range(5)]
    scheduler.start()
    try:
        first.take(1, 1)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and sum(lane.held for lane in later) < 6:
            time.sleep(0.01)
        time.sleep(0.05)
        held_ahead = sum(lane.held for lane in later)
        # Later lanes got their first pages in already, but never more than the cap.
        assert held_ahead == 6
        assert later[0].held >= 1
        fetched_later = {name for name, _ in recorder.fetched if name != "first"}
        assert "l0" in fetched_later
    finally:
        scheduler.cancel()


def test_a_shrunk_window_limits_the_lane_and_grows_back():
    recorder = Recorder(pages=60, delay=0.003)
    window = AdaptiveWindow(8)
    scheduler = Scheduler(budget=8)
    lane = scheduler.lane("a", recorder.fetch("a"), window)
    window.throttled()
    window.throttled()
    assert window.size == 2
    scheduler.start()
    try:
        for number in range(1, 11):
            lane.take(number, number)
        assert recorder.peak["a"] <= 3
        for _ in range(200):
            window.succeeded()
        assert window.size == 8
        for number in range(11, 61):
            lane.take(number, number)
        assert recorder.peak["a"] > 3
    finally:
        scheduler.cancel()


def test_a_token_the_plan_did_not_foresee_drops_the_pages_fetched_ahead():
    recorder = Recorder(pages=10)
    scheduler = Scheduler(budget=4)
    lane = scheduler.lane("a", recorder.fetch("a"), AdaptiveWindow(4))
    scheduler.start()
    try:
        lane.take(1, 1)
        page = lane.take(2, "https://host/next?cursor=x")
        assert page.number == 2
        assert lane.pages == {}
        # Pages in flight when they were dropped count until their answers are in.
        deadline = time.monotonic() + 10
        while lane.held and time.monotonic() < deadline:
            time.sleep(0.01)
        assert lane.held == 0
    finally:
        scheduler.cancel()


def test_cancel_starts_no_further_request_and_fails_waiting_takes():
    recorder = Recorder(pages=100, delay=0.02)
    scheduler = Scheduler(budget=2)
    lane = scheduler.lane("a", recorder.fetch("a"), AdaptiveWindow(8))
    scheduler.start()
    lane.take(1, 1)
    scheduler.cancel()
    time.sleep(0.1)
    started = len(recorder.fetched)
    with pytest.raises(RunCancelled):
        lane.take(50, 50)
    time.sleep(0.1)
    assert len(recorder.fetched) == started
    assert started <= 1 + 2 + 1


def test_a_failed_page_raises_where_it_is_taken():
    def fetch(token, number):
        if number == 3:
            raise ValueError("page 3 is broken")
        return Page(number=number, next=number + 1 if number < 5 else None, total_pages=5)

    scheduler = Scheduler(budget=2)
    lane = scheduler.lane("a", fetch, AdaptiveWindow(2))
    scheduler.start()
    try:
        assert lane.take(1, 1).number == 1
        assert lane.take(2, 2).number == 2
        with pytest.raises(ValueError, match="page 3 is broken"):
            lane.take(3, 3)
    finally:
        scheduler.cancel()


def instant_lane(scheduler: Scheduler, pages: int, fetched_in: list[str]):
    def fetch(token, number):
        fetched_in.append((threading.current_thread().name, number))
        return Page(number=number, next=number + 1 if number < pages else None, total_pages=pages)

    return scheduler.lane("instant", fetch, AdaptiveWindow(8))


def test_when_answers_come_at_once_the_writer_fetches_its_own_pages():
    fetched: list[tuple[str, int]] = []
    scheduler = Scheduler(budget=8)
    lane = instant_lane(scheduler, 200, fetched)
    scheduler.start()
    try:
        for number in range(1, 201):
            assert lane.take(number, number).number == number
            time.sleep(0.0005)  # the writer's time on a page, far above a request's
    finally:
        scheduler.cancel()
    # Until the demand knows both times, the whole budget fetches ahead; then one request
    # at a time is enough, and it is the writer's own: no page is handed between threads.
    assert sorted(number for _, number in fetched) == list(range(1, 201))
    assert [name for name, _ in fetched[-150:]] == ["MainThread"] * 150


def test_a_cancelled_run_ends_the_writers_own_page_too():
    fetched: list[tuple[str, int]] = []
    scheduler = Scheduler(budget=8)
    lane = instant_lane(scheduler, 200, fetched)
    scheduler.start()
    for number in range(1, 51):
        lane.take(number, number)
        time.sleep(0.0005)
    scheduler.cancel()
    started = time.monotonic()
    with pytest.raises(RunCancelled):
        lane.take(51, 51)
    assert time.monotonic() - started < 1
    assert 51 not in [number for _, number in fetched]  # no request started after cancel
