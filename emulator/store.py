"""One provider's leads: the listed rows, the soft-deleted ones, and caches derived from them."""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
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


class Dataset:
    """Mutations bump `version`; every cache below is only valid for the version it was built on."""

    def __init__(self, world: ProviderWorld, n: int) -> None:
        self.world = world
        self.lock = threading.RLock()
        with _gc_paused():
            self.live, self.trashed = world.populate(n)
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

    def cached_body(self, key: Any) -> bytes | None:
        return self._bodies.get(key)

    def keep_body(self, key: Any, body: bytes) -> None:
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

    def _find(self, ids: Iterable[Any]) -> list[Lead]:
        key = self.world.key
        wanted = [ids] if isinstance(ids, str | int) else list(ids)
        index = {lead[key]: lead for rows in (self.live, self.trashed) for lead in rows}
        missing = [value for value in wanted if value not in index]
        if missing:
            raise KeyError(f"{self.world.provider} has no lead with {key} in {missing}")
        return [index[value] for value in wanted]

    def _changed(self) -> None:
        self.version += 1
        self._views.clear()
        self._bodies.clear()
        self._body_bytes = 0
