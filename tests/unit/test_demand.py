"""Requests in flight follow what the writer needs: the whole budget while answers take
long, one or two when they come at once."""

from __future__ import annotations

import threading
import time

from tap_leads.engine.concurrency import AdaptiveWindow
from tap_leads.engine.demand import Demand
from tap_leads.engine.follow import follow
from tap_leads.engine.page import Page
from tap_leads.engine.scheduler import Scheduler


def test_the_whole_budget_until_both_times_are_known():
    demand = Demand(8)
    assert demand.target == 8
    assert not demand.answered(0.0001)
    assert demand.target == 8  # the writer's time per page is not known yet


def test_the_target_is_the_wait_over_the_writers_time_per_page():
    demand = Demand(8)
    demand.written(0.001)
    demand.answered(0.0005)
    assert demand.target == 1  # answers come faster than a page is written
    assert not demand.answered(0.0031)
    assert demand.target == 1  # the shortest recent wait counts: still 0.5 ms
    slow = Demand(8)
    slow.written(0.001)
    slow.answered(0.0031)
    assert slow.target == 4
    slow.answered(0.05)
    assert slow.target == 4
    far = Demand(8)
    far.written(0.001)
    far.answered(0.05)
    assert far.target == 8  # never more than the budget


def test_the_workers_cpu_is_paid_once_per_page_whatever_runs_at_once():
    demand = Demand(8)
    demand.written(0.001)
    demand.answered(0.003, cpu=0.0)
    assert demand.target == 3  # (3 + 0) / (1 + 0)
    demand = Demand(8)
    demand.written(0.001)
    demand.answered(0.003, cpu=0.002)
    assert demand.target == 2  # (3 + 2) / (1 + 2): reading pages does not overlap
    demand = Demand(8)
    demand.written(0.001)
    demand.answered(0.2, cpu=0.002)
    assert demand.target == 8  # long waits: the whole budget


def test_a_long_backoff_does_not_raise_the_target_but_slow_answers_do():
    demand = Demand(8)
    demand.written(0.002)
    for _ in range(16):
        demand.answered(0.001)
    assert demand.target == 1
    assert not demand.answered(30.0)  # one retry's backoff
    assert demand.target == 1
    rose = [demand.answered(0.05) for _ in range(16)]  # the provider slowed down
    assert demand.target == 8
    assert rose.count(True) == 1  # once the last short wait left the recent ones


def test_the_writers_time_is_smoothed():
    demand = Demand(8)
    demand.answered(0.01)
    demand.written(0.01)
    assert demand.target == 1
    demand.written(0.0)  # one quick page: 0.8 of the old time
    assert demand.target == 2


def _spin(seconds: float) -> None:
    """Spend `seconds` of this thread's CPU time (holding the interpreter, as parsing does)."""
    until = time.thread_time() + seconds
    while time.thread_time() < until:
        pass


def test_answers_that_come_at_once_keep_one_or_two_requests_in_flight():
    """Each answer waits 1 ms and costs its worker 2 ms of CPU, and the writer 1 ms a page:
    a page costs the run 3 ms of CPU, and more requests in flight would only compete for
    the interpreter."""
    pages, lock = 120, threading.Lock()
    running: list[int] = []
    peaks: list[int] = []

    def fetch(token, number):
        with lock:
            running.append(number)
            peaks.append(len(running))
        try:
            time.sleep(0.001)  # the answer's wait, off the CPU
            _spin(0.002)  # reading it
        finally:
            with lock:
                running.remove(number)
        return Page(number, "", next=number + 1 if number < pages else None, total_pages=pages)

    scheduler = Scheduler(budget=8)
    lane = scheduler.lane("a", fetch, AdaptiveWindow(8))
    scheduler.start()
    taken = []
    try:
        for page in follow(lane.take, "a"):
            _spin(0.001)  # writing it
            taken.append(page.number)
    finally:
        scheduler.cancel()
    assert taken == list(range(1, pages + 1))
    assert len(peaks) == pages  # every page once
    # After the first few pages, one or two requests at once (mean 1.1-2.1 here); without
    # the demand, 4.7-5.8 on average and all eight at times.
    steady = peaks[20:]
    assert sum(steady) / len(steady) <= 3
    assert max(steady) <= 4
    assert scheduler.in_flight == 0
