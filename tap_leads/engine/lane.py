"""A listing's pages as the scheduler keeps them, and what a lane asks of the scheduler."""

from __future__ import annotations

import typing as t

from tap_leads.engine.follow import page_number

if t.TYPE_CHECKING:
    from collections.abc import Callable
    from concurrent.futures import Future

    from tap_leads.engine.concurrency import AdaptiveWindow
    from tap_leads.engine.page import Page, PageToken


class RunCancelled(Exception):
    """The run is stopping; no further request starts."""


class Host(t.Protocol):
    """The scheduler, as a lane sees it."""

    def take(self, lane: Lane, number: int, token: PageToken) -> Page: ...

    def restart(self, lane: Lane) -> None: ...

    def finish(self, lane: Lane) -> None: ...


class Asked:
    """A page asked for: queued, running, ready (answered, not yet taken) or dropped."""

    __slots__ = ("future", "lane", "number", "state", "token")

    def __init__(self, lane: Lane, number: int, token: PageToken, future: Future[Page]) -> None:
        self.lane = lane
        self.number = number
        self.token = token
        self.future = future
        self.state = "queued"


class Lane:
    """One listing's pages: fetched ahead within its window, taken strictly in order.

    Its counts change only under the scheduler's lock."""

    def __init__(
        self,
        scheduler: Host,
        order: int,
        name: str,
        fetch: Callable[[PageToken, int], Page],
        window: AdaptiveWindow,
        *,
        fetch_ahead: bool = True,
    ) -> None:
        self.scheduler = scheduler
        self.order = order
        self.name = name
        self.fetch = fetch
        self.window = window
        self.fetch_ahead = fetch_ahead
        #: Pages asked for and not yet taken, by number.
        self.pages: dict[int, Asked] = {}
        #: How many pages the lane holds a place for: queued, in flight or answered.
        self.held = 0
        #: How many of them are queued or in flight.
        self.in_flight = 0
        #: The greatest page count announced so far, once numbered pages are known to work.
        self.planned: int | None = None
        self.next_number = 1
        self.finished = False
        #: Whether the lane waits in line for room ahead.
        self.hungry = False
        #: Room ahead kept for the pages its first page will announce.
        self.reserved = 0
        self._numbered = True

    def learn(self, page: Page) -> None:
        """How many pages there are, and whether they count up (under the lock)."""
        if not self.fetch_ahead:
            return
        if page.number == 1:
            self._numbered = page.next is not None and page_number(page.next) == 2
        planned = page.total_pages
        if self._numbered and planned is not None and planned > (self.planned or 0):
            self.planned = planned

    def unnumbered(self) -> None:
        """The listing pages by links only from here on: nothing is planned ahead."""
        self._numbered = False
        self.planned = None

    def rewind(self) -> None:
        """Back to page 1, planning afresh."""
        self.planned = None
        self._numbered = True
        self.next_number = 1
        self.finished = False

    def take(self, number: int, token: PageToken) -> Page:
        """Page `number` of the listing, as `token` asks for it; blocks until it is here."""
        return self.scheduler.take(self, number, token)

    def restart(self) -> None:
        """Walk the listing again from page 1, as a lane still being emitted."""
        self.scheduler.restart(self)

    def finish(self) -> None:
        """The listing is done (or abandoned): drop whatever was fetched ahead."""
        self.scheduler.finish(self)
