"""The run's budget of requests in flight: its slots, the queue of pages waiting for one,
and the worker threads that take them, the most urgent first.

The scheduler decides which pages to ask for; this module runs them, in its threads or
in the writer's own (`claim`, `run`). Its counts change
under the scheduler's one lock (`cond`): the scheduler calls into it holding the lock,
while `release` and `reacquire` (the gate of `engine.budget`) and the worker loop take it
themselves.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
import typing as t

from tap_leads.engine import budget as budget_gate
from tap_leads.engine.arenas import limit_arenas
from tap_leads.engine.demand import Demand
from tap_leads.engine.lane import RunCancelled

if t.TYPE_CHECKING:
    from collections.abc import Callable

    from tap_leads.engine.lane import Asked
    from tap_leads.engine.page import Page


class Workers:
    """At most `budget` requests in flight; queued pages go out lane order first, then page
    order. `done(page, result)` is called under the lock once each answer is in (result
    None when the fetch failed), before the page's future is settled."""

    def __init__(
        self,
        cond: threading.Condition,
        budget: int,
        done: Callable[[Asked, Page | None], None],
    ) -> None:
        self.budget = budget
        #: How many of the budget's slots the writer needs now (engine.demand).
        self.demand = Demand(budget)
        self.in_flight = 0
        self.cancelled = False
        self._cond = cond
        self._done = done
        self._heap: list[tuple[int, int, int, Asked]] = []
        self._sequence = itertools.count()
        self._reclaiming = 0
        self._idle = 0
        self._threads = 0
        self._max_threads = 4 * budget + 4

    def start(self) -> None:
        if not self._threads:
            limit_arenas()
        while self._threads < self.budget:
            self._spawn()

    def push(self, page: Asked) -> None:
        """Queue a page for the next free slot."""
        heapq.heappush(self._heap, (page.lane.order, page.number, next(self._sequence), page))
        self.wake()

    def cancel(self) -> list[Asked]:
        """Start nothing more; the pages still queued, for their futures to be cancelled."""
        self.cancelled = True
        queued, self._heap = self._heap, []
        self._cond.notify_all()
        return [page for *_, page in queued]

    def ended(self) -> None:
        """A request's answer is in: its slot is free."""
        self.in_flight -= 1

    def written(self, seconds: float) -> None:
        """The writer spent `seconds` on a page."""
        if self.demand.written(seconds):
            self.wake()

    # ----- the slot of a request that waits (engine.budget.pause) -----------

    def release(self) -> None:
        """The current worker's request waits: its slot goes to another meanwhile."""
        with self._cond:
            self.in_flight -= 1
            self.wake()

    def reacquire(self) -> None:
        """The wait is over: a slot again, before any request that has not started."""
        with self._cond:
            self._reclaiming += 1
            while self.in_flight >= self.demand.target and not self.cancelled:
                self._cond.wait()
            self._reclaiming -= 1
            self.in_flight += 1
            if self.cancelled:
                raise RunCancelled("the run is stopping")
            self.wake()

    # ----- threads -------------------------------------------------------------

    def wake(self) -> None:
        """A slot or a queued page is free: let an idle worker (or a new one) take it."""
        if self.in_flight >= self.demand.target:
            return
        if self._reclaiming:
            self._cond.notify_all()  # a waiting request goes first: see reacquire
            return
        if not self._heap:
            return
        if self._idle:
            self._cond.notify()
        elif self._threads < self._max_threads:
            self._spawn()

    def _spawn(self) -> None:
        self._threads += 1
        threading.Thread(target=self._work, name=f"fetch-{self._threads}", daemon=True).start()

    def _work(self) -> None:
        budget_gate.bind(self)
        cond = self._cond
        while True:
            with cond:
                while not self.cancelled and not (
                    self._heap and self.in_flight < self.demand.target and not self._reclaiming
                ):
                    self._idle += 1
                    cond.wait()
                    self._idle -= 1
                if self.cancelled:
                    return
                *_, page = heapq.heappop(self._heap)
                if page.state != "queued" or not self._start(page):
                    continue
            self._run(page)

    # ----- the writer's own page -------------------------------------------------

    def claim(self, page: Asked) -> bool:
        """(Under the lock.) The writer wants this page now: when no worker has started
        it and a slot is free, it is the writer's to fetch (`run`), in its own thread;
        otherwise it is queued (again: a worker skips a page already started) for the
        next free slot."""
        if page.state != "queued":
            return False
        if self.cancelled:
            page.future.cancel()  # the writer's wait ends in RunCancelled
            return False
        if self.in_flight >= self.demand.target:
            self.push(page)
            return False
        return self._start(page)

    def run(self, page: Asked) -> None:
        """Fetch a claimed page in the calling thread, its slot held meanwhile (or given
        back while it waits, as a worker's is)."""
        budget_gate.bind(self)
        try:
            self._run(page)
        finally:
            budget_gate.bind(None)

    def _start(self, page: Asked) -> bool:
        if not page.future.set_running_or_notify_cancel():
            return False
        page.state = "running"
        self.in_flight += 1
        self.wake()
        return True

    def _run(self, page: Asked) -> None:
        cond = self._cond
        started, cpu = time.perf_counter(), time.thread_time()
        try:
            result = page.lane.fetch(page.token, page.number)
        except BaseException as exc:
            with cond:
                self._done(page, None)
            page.future.set_exception(exc)
        else:
            cpu = time.thread_time() - cpu
            waited = time.perf_counter() - started - cpu
            with cond:
                self.demand.answered(waited, cpu)
                self._done(page, result)
            page.future.set_result(result)
