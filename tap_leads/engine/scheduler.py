"""One budget of requests in flight for the whole run, shared by every stream and account.

Each listing (a stream's account and pass) is a Lane with its own adaptive window.
The budget counts requests in flight and nothing else:

- a worker takes a slot when it starts a request and gives it back when the answer is
  in, then at once starts the most urgent queued page: the lane being emitted before the
  lanes after it, lower pages before higher ones (`engine.workers`);
- a request that waits (for the rate cap, an announced quota or a retry's backoff)
  gives its slot back for the wait (`engine.budget`), so another request goes out;
- pages fetched but not yet emitted are capped apart from the budget: per lane
  (`held_pages`), and for all the lanes after the one being emitted (`ahead_pages`);
- the writer fetches a page itself when it takes one that no worker has started and a
  slot is free; when answers come at once (a demand of one request in flight), the
  pages of the lane being emitted are left to it altogether, since handing each page
  from a worker to the writer costs more than reading it (100,000 Teli leads at 0 ms:
  about 7,500 thread switches and 0.2 s of CPU less).

Every count is a running count kept under the scheduler's one lock, so choosing the next
request costs the same with 10 lanes as with 10,000: lanes that wait for room ahead
queue in order (`engine.ahead`), and nothing ever sums over the lanes.
"""

from __future__ import annotations

import threading
import time
import typing as t
from concurrent.futures import CancelledError, Future

from tap_leads.engine.ahead import AheadRoom
from tap_leads.engine.lane import Asked, Lane, RunCancelled
from tap_leads.engine.workers import Workers

if t.TYPE_CHECKING:
    from collections.abc import Callable

    from tap_leads.engine.concurrency import AdaptiveWindow
    from tap_leads.engine.page import Page, PageToken

__all__ = ["Lane", "RunCancelled", "Scheduler"]


# Why a lane stopped submitting: nothing more to ask for now, or no room ahead.
_DONE, _NO_ROOM = 0, 1


class Scheduler:
    """Requests of every lane, at most `budget` in flight, the most urgent first."""

    def __init__(
        self, budget: int, *, ahead_pages: int | None = None, held_pages: int | None = None
    ) -> None:
        self.budget = max(1, budget)
        #: Pages queued, in flight or held for the lanes after the one being emitted.
        self.ahead_limit = ahead_pages if ahead_pages is not None else 3 * self.budget
        #: Pages queued, in flight or held for one lane.
        self.held_limit = held_pages if held_pages is not None else 2 * self.budget
        #: Lanes examined to choose requests (how much work choosing costs).
        self.visits = 0
        self._cond = threading.Condition()
        self._workers = Workers(self._cond, self.budget, self._done)
        self._lanes: list[Lane] = []
        self._front = 0
        self._room = AheadRoom(self.ahead_limit, self.held_limit)
        self._started = False
        #: When the writer last got a page (its time per page tells the demand).
        self._taken_at: float | None = None

    @property
    def in_flight(self) -> int:
        return self._workers.in_flight

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
            lane = Lane(self, len(self._lanes), name, fetch, window, fetch_ahead=fetch_ahead)
            self._lanes.append(lane)
            if self._started:
                self._fill(lane)
        return lane

    def start(self) -> None:
        """Start the workers and the first pages of the lanes."""
        with self._cond:
            self._started = True
            self._workers.start()
            for lane in self._lanes[self._front + 1 :]:
                self._room.wait(lane)
            if self._front < len(self._lanes):
                self._fill(self._lanes[self._front])
            self._feed_hungry()

    def cancel(self) -> None:
        """Start no further request; queued pages fail with RunCancelled."""
        with self._cond:
            queued = self._workers.cancel()
        for page in queued:
            page.future.cancel()

    def _done(self, page: Asked, result: Page | None) -> None:
        """(Under the lock.) The answer is in: the slot is free, and the page is held until
        it is taken."""
        lane = page.lane
        self._workers.ended()
        if page.state == "running":
            page.state = "ready"
            lane.in_flight -= 1  # still held until it is taken
        else:
            lane.in_flight -= 1
            self._count(lane, -1)  # dropped meanwhile: nobody will take it
        self._room.unreserve(lane)
        if result is not None:
            lane.learn(result)
            if result.number == 1 and result.total_pages is not None:
                self._room.learned(result.total_pages)
        self._fill(lane)
        self._feed_hungry()
        self._workers.wake()

    # ----- bookkeeping (under the lock) ---------------------------------------

    def _count(self, lane: Lane, change: int) -> None:
        lane.held += change
        if lane.order > self._front:
            self._room.held += change

    def _submit(self, lane: Lane, number: int, token: PageToken) -> Asked:
        page = Asked(lane, number, token, Future())
        lane.pages[number] = page
        self._count(lane, 1)
        if self._workers.cancelled:
            page.state = "ready"
            page.future.set_exception(RunCancelled("the run is stopping"))
            return page
        lane.in_flight += 1
        workers = self._workers
        if workers.demand.target > 1 or lane.order > self._front:
            workers.push(page)  # otherwise the writer fetches it when it takes it
        return page

    def _fill(self, lane: Lane) -> int:
        """Submit the lane's next pages while its window and the caps allow."""
        self.visits += 1
        while not lane.finished:
            number = lane.next_number
            if number > 1 and (lane.planned is None or number > lane.planned):
                return _DONE
            if lane.in_flight >= lane.window.size or lane.held >= self.held_limit:
                return _DONE
            more = None
            if lane.order > self._front:
                more = self._room.fits(first_page=number == 1)
                if more is None:
                    self._room.wait(lane)
                    return _NO_ROOM
            self._submit(lane, number, number)
            lane.next_number = number + 1
            if more:
                self._room.reserve(lane, more)
        return _DONE

    def _feed_hungry(self) -> None:
        """Room ahead came free: the earliest lanes waiting for it go first."""
        while (order := self._room.next_waiting()) is not None:
            lane = self._lanes[order]
            lane.hungry = False
            if lane.order > self._front and self._fill(lane) == _NO_ROOM:
                return

    def _finished(self) -> None:
        """Move the front past finished lanes; their pages no longer count as ahead."""
        while self._front < len(self._lanes) and self._lanes[self._front].finished:
            self._front += 1
            if self._front < len(self._lanes):
                self._room.held -= self._lanes[self._front].held
                self._room.unreserve(self._lanes[self._front])
        if self._front < len(self._lanes):
            self._fill(self._lanes[self._front])
        self._feed_hungry()

    # ----- what a lane asks of the scheduler --------------------------------

    def take(self, lane: Lane, number: int, token: PageToken) -> Page:
        """Page `number` of the lane, as `token` asks for it; blocks until it is here."""
        with self._cond:
            if self._taken_at is not None:  # the writer's time on the page before
                self._workers.written(time.perf_counter() - self._taken_at)
            page = lane.pages.get(number) if token == number else None
            if page is None:
                if token != number or number != lane.next_number:
                    # The envelope pointed somewhere the numbered pages did not foresee:
                    # pages fetched ahead are of no use, and paging goes on one by one.
                    self._drop(lane)
                    lane.unnumbered()
                page = self._submit(lane, number, token)
                lane.next_number = number + 1
            self._fill(lane)
            self._feed_hungry()
            mine = self._workers.claim(page)
        if mine:
            self._workers.run(page)
        try:
            return page.future.result()
        except CancelledError as exc:
            raise RunCancelled("the run is stopping") from exc
        finally:
            with self._cond:
                self._taken_at = time.perf_counter()
                if lane.pages.get(number) is page:
                    del lane.pages[number]
                    self._forget(lane, page)
                self._fill(lane)
                self._feed_hungry()

    def restart(self, lane: Lane) -> None:
        """Walk the lane again from page 1, as a lane still being emitted."""
        with self._cond:
            self._drop(lane)
            lane.rewind()
            self._fill(lane)
            self._feed_hungry()

    def finish(self, lane: Lane) -> None:
        """The listing is done (or abandoned): drop whatever was fetched ahead."""
        with self._cond:
            if lane.finished:
                return
            lane.finished = True
            self._drop(lane)
            self._finished()

    def _drop(self, lane: Lane) -> None:
        """Forget every page the lane asked for; running ones end uncounted."""
        self._room.unreserve(lane)
        for page in lane.pages.values():
            self._forget(lane, page)
        lane.pages.clear()

    def _forget(self, lane: Lane, page: Asked) -> None:
        state, page.state = page.state, "dropped"
        if state == "running":
            return  # its answer is counted off when it comes
        if state == "queued":
            page.future.cancel()
            lane.in_flight -= 1
        self._count(lane, -1)
