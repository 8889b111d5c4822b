"""One provider's leads: the listed rows, the soft-deleted ones, and caches derived from them."""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .data import ProviderWorld
from .data.clock import to_us

Lead = dict[str, Any]
# Rendered page bodies beyond this many bytes are dropped, to bound the emulator's memory.
_BODY_CACHE_BYTES = 256 * 1024 * 1024


@contextmanager
def _gc_paused() -> Iterator[None]:
    # Building 100,000 nested dicts triggers repeated full collections that find nothing to free.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@dataclass
class ScheduledMutation:
    """A change to a dataset that waits for a list request to be served.

    It fires right after the response to the first list request that is at least the
    `after_requests`-th one served since scheduling and, when `after_page` is set, asks for that
    page; the response that triggers it still shows the data from before the change.
    """

    id: int
    kind: str
    after_page: int | None
    after_requests: int
    apply: Callable[[], list[Any]] = field(repr=False, compare=False)
    options: dict[str, Any] = field(default_factory=dict)
    served: int = 0
    fired: bool = False
    affected: list[Any] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "after_page": self.after_page,
            "after_requests": self.after_requests,
            "options": self.options,
            "served": self.served,
            "fired": self.fired,
            "affected": self.affected,
        }


class Dataset:
    """Mutations bump `version`; every cache below is only valid for the version it was built on."""

    #: False renders every page afresh, as a real API does (benchmarks turn it off).
    page_cache: bool = True

    def __init__(self, world: ProviderWorld, n: int) -> None:
        self.world = world
        self.lock = threading.RLock()
        with _gc_paused():
            self.live, self.trashed = world.populate(n)
        # Leads moved to the head of every listing, in the order they lead it. Only for orders no
        # lead field decides (or that a test wants to override), see mutations.py.
        self.front: list[Lead] = []
        # Hard-deleted leads: gone from every listing, kept for the tests' bookkeeping.
        self.removed: list[Lead] = []
        self.schedule: list[ScheduledMutation] = []
        self.version = 0
        self._last_stamp = 0
        self._views: dict[Any, list[Lead]] = {}
        self._bodies: dict[Any, bytes] = {}
        self._body_bytes = 0

    # Reading

    def view(self, key: Any, build: Callable[[], list[Lead]]) -> list[Lead]:
        """A filtered and ordered selection, built once per version and selection key."""
        with self.lock:
            rows = self._views.get(key)
            if rows is None:
                if len(self._views) > 64:
                    self._views.clear()
                rows = self._views[key] = build()
            return rows

    def ordered(self, rows: list[Lead]) -> list[Lead]:
        """rows with the leads of `front` moved ahead, in front's order."""
        if not self.front:
            return rows
        rank = {id(lead): n for n, lead in enumerate(self.front)}
        head = sorted((lead for lead in rows if id(lead) in rank), key=lambda lead: rank[id(lead)])
        if not head:
            return rows
        return head + [lead for lead in rows if id(lead) not in rank]

    def served(self, page: int | None) -> None:
        """Called under the lock once a list response is built: fires the mutations it triggers."""
        if not self.schedule:
            return
        for mutation in list(self.schedule):
            mutation.served += 1
            if mutation.served < mutation.after_requests:
                continue
            if mutation.after_page is not None and mutation.after_page != page:
                continue
            self.schedule.remove(mutation)
            mutation.affected = mutation.apply()
            mutation.fired = True

    def cached_body(self, key: Any) -> bytes | None:
        return self._bodies.get(key) if self.page_cache else None

    def keep_body(self, key: Any, body: bytes) -> None:
        if not self.page_cache:
            return
        with self.lock:
            if self._body_bytes + len(body) > _BODY_CACHE_BYTES:
                self._bodies.clear()
                self._body_bytes = 0
            self._bodies[key] = body
            self._body_bytes += len(body)

    # Changing

    def fresh_stamp(self, when: datetime | None = None) -> int:
        """`when`, or now; never earlier than the previous fresh stamp plus one resolution step,
        so that successive changes always carry strictly increasing replication keys."""
        if when is not None:
            return to_us(when)
        step = self.world.resolution_us
        now = to_us(datetime.now(UTC))
        self._last_stamp = max(now - now % step, self._last_stamp + step)
        return self._last_stamp

    def touch(self, ids: Iterable[Any], when: datetime | None = None) -> list[Lead]:
        with self.lock:
            found = self._find(ids)
            stamp = self.fresh_stamp(when)
            for lead in found:
                self.world.touch(lead, stamp)
            self._changed()
            return found

    def add(self, n: int) -> list[Lead]:
        with self.lock:
            start = self.fresh_stamp()
            new = self.world.fresh(n, start)
            self._last_stamp = start + (n - 1) * self.world.resolution_us
            self.live.extend(new)
            self._changed()
            return new

    def soft_delete(self, ids: Iterable[Any]) -> list[Lead]:
        with self.lock:
            found = self._find(ids)
            stamp = self.fresh_stamp()
            for lead in found:
                self.world.soft_delete(lead, stamp)
            gone = {id(lead) for lead in found}
            self.live = [lead for lead in self.live if id(lead) not in gone]
            already = {id(lead) for lead in self.trashed}
            self.trashed.extend(lead for lead in found if id(lead) not in already)
            self._changed()
            return found

    def remove(self, ids: Iterable[Any]) -> list[Lead]:
        """Hard delete: the leads vanish from every listing, as Teli's deleted contacts do."""
        with self.lock:
            found = self._find(ids)
            gone = {id(lead) for lead in found}
            self.live = [lead for lead in self.live if id(lead) not in gone]
            self.trashed = [lead for lead in self.trashed if id(lead) not in gone]
            self.removed.extend(found)
            self._changed()
            return found

    def restore(self, ids: Iterable[Any], when: datetime | None = None) -> list[Lead]:
        """Bring deleted leads back into the listings (Flextell's out of the trash, the others'
        from the hard-deleted), keeping their dates unless `when` sets the replication key."""
        with self.lock:
            key = self.world.key
            wanted = [ids] if isinstance(ids, str | int) else list(ids)
            index = {lead[key]: lead for rows in (self.trashed, self.removed) for lead in rows}
            missing = [value for value in wanted if value not in index]
            if missing:
                raise KeyError(f"{self.world.provider} has no deleted lead with {key} in {missing}")
            found = [index[value] for value in wanted]
            back = {id(lead) for lead in found}
            self.trashed = [lead for lead in self.trashed if id(lead) not in back]
            self.removed = [lead for lead in self.removed if id(lead) not in back]
            for lead in found:
                if "deleted_at" in lead:
                    lead["deleted_at"] = None
                if when is not None:
                    self.world.touch(lead, self.fresh_stamp(when))
            self.live.extend(found)
            self._changed()
            return found

    def pin(self, leads: list[Lead]) -> None:
        """Put these leads at the head of every listing, ahead of any pinned before."""
        with self.lock:
            moved = {id(lead) for lead in leads}
            self.front = [*leads, *(lead for lead in self.front if id(lead) not in moved)]
            self._changed()

    def find(self, ids: Iterable[Any]) -> list[Lead]:
        with self.lock:
            return self._find(ids)

    def changed(self) -> None:
        """For changes made to the leads' dicts from outside this class."""
        with self.lock:
            self._changed()

    def _find(self, ids: Iterable[Any]) -> list[Lead]:
        key = self.world.key
        wanted = [ids] if isinstance(ids, str | int) else list(ids)
        index = {lead[key]: lead for rows in (self.live, self.trashed) for lead in rows}
        missing = [value for value in wanted if value not in index]
        if missing:
            raise KeyError(f"{self.world.provider} has no lead with {key} in {missing}")
        return [index[value] for value in wanted]

    def _changed(self) -> None:
        if self.front:
            listed = {id(lead) for lead in self.live}
            self.front = [lead for lead in self.front if id(lead) in listed]
        self.version += 1
        self._views.clear()
        self._bodies.clear()
        self._body_bytes = 0
