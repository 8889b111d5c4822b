"""One budget of requests in flight for the whole run, shared by every stream and account.

Each listing (a stream's account and pass) is a Lane with its own adaptive window.
Worker threads take the most urgent page first: the lane being emitted before the
lanes after it, lower pages before higher ones. While one lane is emitted, the next
lanes' first pages and windows are fetched already; the pages held for lanes that are
not being emitted are capped, so memory stays bounded however many lanes there are.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import threading
import typing as t
from concurrent.futures import CancelledError, Future

from tap_leads.engine.follow import page_number

if t.TYPE_CHECKING:
    from collections.abc import Callable

    from tap_leads.engine.concurrency import AdaptiveWindow
    from tap_leads.engine.page import Page, PageToken


class RunCancelled(Exception):
    """The run is stopping; no further request starts."""


class Scheduler:
    """A fixed pool of worker threads, one per request the run may have in flight."""

    def __init__(self, budget: int, *, ahead_pages: int | None = None) -> None:
        self.budget = max(1, budget)
        #: Pages queued, in flight or held for lanes that are not being emitted.
        self.ahead_limit = ahead_pages if ahead_pages is not None else 3 * self.budget
        self._heap: list[tuple[int, int, int, _Task]] = []
        self._sequence = itertools.count()
        self._cond = threading.Condition()
        self._lanes: list[Lane] = []
        self._front = 0
        self._cancelled = False
        self._threads: list[threading.Thread] = []

    # ----- lanes ------------------------------------------------------------

    def lane(
        self,
        name: str,
        fetch: Callable[[PageToken, int], Page],
        window: AdaptiveWindow,
        *,
        fetch_ahead: bool = True,
    ) -> Lane:
        """A listing to fetch, emitted after every lane created before it; without
        `fetch_ahead`, each page is fetched only when it is taken."""
        with self._cond:
            lane = Lane(self, len(self._lanes), name, fetch=fetch, window=window)
            lane.fetch_ahead = fetch_ahead
            self._lanes.append(lane)
        return lane

    def start(self) -> None:
        """Start the workers and the first pages of the lanes ahead."""
        with self._cond:
            while len(self._threads) < self.budget:
                thread = threading.Thread(
                    target=self._work, name=f"fetch-{len(self._threads)}", daemon=True
                )
                thread.start()
                self._threads.append(thread)
        self._refill()

    def cancel(self) -> None:
        """Start no further request; queued pages fail with RunCancelled."""
        with self._cond:
            self._cancelled = True
            queued, self._heap = self._heap, []
            self._cond.notify_all()
        for *_, task in queued:
            task.future.cancel()

    # ----- internals --------------------------------------------------------

    def _submit(self, lane: Lane, number: int, token: PageToken) -> Future[Page]:
        future: Future[Page] = Future()
        with self._cond:
            if self._cancelled:
                future.set_exception(RunCancelled("the run is stopping"))
                return future
            task = _Task(lane, number, token, future)
            heapq.heappush(self._heap, (lane.order, number, next(self._sequence), task))
            self._cond.notify()
        return future

    def _work(self) -> None:
        while True:
            with self._cond:
                while not self._heap and not self._cancelled:
                    self._cond.wait()
                if self._cancelled:
                    return
                *_, task = heapq.heappop(self._heap)
                if not task.future.set_running_or_notify_cancel():
                    continue
            try:
                page = task.lane.fetch(task.token, task.number)
            except BaseException as exc:
                task.future.set_exception(exc)
            else:
                task.future.set_result(page)
                # An envelope that cannot be read is reported when the page is emitted.
                with contextlib.suppress(Exception):
                    task.lane.learn(page)

    def _held_ahead(self) -> int:
        return sum(lane.held for lane in self._lanes[self._front + 1 :] if not lane.finished)

    def _lane_finished(self, lane: Lane) -> None:
        with self._cond:
            while self._front < len(self._lanes) and self._lanes[self._front].finished:
                self._front += 1
        self._refill()

    def _refill(self) -> None:
        """Top up every lane's window, the lanes ahead within the cap on held pages."""
        for lane in list(self._lanes[self._front :]):
            if lane.finished:
                continue
            if lane.order == self._front:
                lane.refill(limit=None)
            else:
                room = self.ahead_limit - self._held_ahead()
                if room <= 0:
                    return
                lane.refill(limit=room)

    def _is_front(self, lane: Lane) -> bool:
        return lane.order == self._front


class _Task(t.NamedTuple):
    lane: Lane
    number: int
    token: PageToken
    future: Future[Page]


class Lane:
    """One listing's pages: fetched ahead within its window, taken strictly in order."""

    def __init__(
        self,
        scheduler: Scheduler,
        order: int,
        name: str,
        *,
        fetch: Callable[[PageToken, int], Page],
        window: AdaptiveWindow,
    ) -> None:
        self.scheduler = scheduler
        self.order = order
        self.name = name
        self.fetch = fetch
        self.window = window
        self._lock = threading.Lock()
        self._pending: dict[int, Future[Page]] = {}
        #: The greatest page count announced so far, once numbered pages are known to work.
        self.planned: int | None = None
        self._numbered = True
        self._next_number = 1
        self.finished = False
        self.fetch_ahead = True

    @property
    def held(self) -> int:
        return len(self._pending)

    def learn(self, page: Page) -> None:
        """Called with each fetched page: how many pages there are, and whether they count up."""
        if not self.fetch_ahead:
            return
        planned = page.total_pages
        numbered = page.next is not None and page_number(page.next) == page.number + 1
        grew = False
        with self._lock:
            if page.number == 1:
                self._numbered = numbered
            if self._numbered and planned is not None and planned > (self.planned or 0):
                self.planned = planned
                grew = True
        if grew and not self.finished:
            self.scheduler._refill()

    def refill(self, limit: int | None) -> None:
        """Submit the next pages while the window (and `limit`, when ahead) allows."""
        with self._lock:
            if self.finished:
                return
            while len(self._pending) < self.window.size and (limit is None or limit > 0):
                number = self._next_number
                if number > 1 and (self.planned is None or number > self.planned):
                    return
                self._pending[number] = self.scheduler._submit(self, number, number)
                self._next_number = number + 1
                if limit is not None:
                    limit -= 1

    def take(self, number: int, token: PageToken) -> Page:
        """Page `number` of the listing, as `token` asks for it; blocks until it is here."""
        with self._lock:
            future = self._pending.get(number) if token == number else None
            if future is None:
                # The envelope pointed somewhere the numbered pages did not foresee:
                # pages fetched ahead are of no use, and paging goes on one by one.
                self._drop_pending()
                self._numbered = False
                self.planned = None
                future = self.scheduler._submit(self, number, token)
                self._pending[number] = future
                self._next_number = number + 1
        if self.scheduler._is_front(self):
            self.refill(limit=None)
        try:
            return future.result()
        except CancelledError as exc:
            raise RunCancelled("the run is stopping") from exc
        finally:
            with self._lock:
                self._pending.pop(number, None)

    def restart(self) -> None:
        """Walk the listing again from page 1, as a lane still being emitted."""
        with self._lock:
            self._drop_pending()
            self.planned = None
            self._numbered = True
            self._next_number = 1
            self.finished = False
        self.refill(limit=None)

    def finish(self) -> None:
        """The listing is done (or abandoned): drop whatever was fetched ahead."""
        with self._lock:
            self.finished = True
            self._drop_pending()
        self.scheduler._lane_finished(self)

    def _drop_pending(self) -> None:
        for future in self._pending.values():
            future.cancel()
        self._pending.clear()
