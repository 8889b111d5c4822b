"""The room for pages fetched for the lanes after the one being emitted.

Kept by the scheduler under its lock, as running counts: pages held ahead, room kept for
the pages that lanes whose first page is out will announce, and the lanes waiting in
line for room, in lane order. A lane's first page ahead needs room for what it will
announce too, so the lanes next in line fill up before lanes further on start, and the
budget is not left idle behind many first pages held far ahead.
"""

from __future__ import annotations

import heapq
import typing as t

if t.TYPE_CHECKING:
    from tap_leads.engine.lane import Lane


class AheadRoom:
    def __init__(self, limit: int, lane_cap: int) -> None:
        self.limit = limit
        self.lane_cap = lane_cap
        #: Pages queued, in flight or held for lanes after the one being emitted.
        self.held = 0
        self.reserved = 0
        self.waiting: list[int] = []
        self._pages = 0
        self._lanes = 0

    def fits(self, first_page: bool) -> int | None:
        """None when there is no room for the page; else the room to keep with it."""
        more = self.expected_more() if first_page else 0
        needed = 1 + (self.reserved + more if first_page else 0)
        return None if self.held + needed > self.limit else more

    def expected_more(self) -> int:
        """How many pages after the first a lane is expected to want (at least one)."""
        return max(1, round(self._pages / self._lanes) - 1) if self._lanes else 1

    def learned(self, total_pages: int) -> None:
        """A first page announced how many pages its lane has."""
        self._pages += min(total_pages, self.lane_cap)
        self._lanes += 1

    def reserve(self, lane: Lane, more: int) -> None:
        lane.reserved = more
        self.reserved += more

    def unreserve(self, lane: Lane) -> None:
        self.reserved -= lane.reserved
        lane.reserved = 0

    def wait(self, lane: Lane) -> None:
        """The lane waits in line for room."""
        if not lane.hungry:
            lane.hungry = True
            heapq.heappush(self.waiting, lane.order)

    def next_waiting(self) -> int | None:
        """The earliest lane waiting, while there is room at all."""
        if not self.waiting or self.held >= self.limit:
            return None
        return heapq.heappop(self.waiting)
