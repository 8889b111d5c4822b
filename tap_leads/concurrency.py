"""Fetching pages ahead of emission, within a window that backs off on throttling."""

from __future__ import annotations

import threading
import time
import typing as t
from concurrent.futures import Executor, Future, ThreadPoolExecutor

if t.TYPE_CHECKING:
    from collections.abc import Callable

    from tap_leads.pagination import Page


class AdaptiveWindow:
    """How many requests may be in flight: halves on a 429, regrows one step at a time."""

    def __init__(self, limit: int) -> None:
        self.limit = max(1, limit)
        self.size = self.limit
        self._successes = 0
        self._lock = threading.Lock()

    def throttled(self) -> None:
        with self._lock:
            self.size = max(1, self.size // 2)
            self._successes = 0

    def succeeded(self) -> None:
        with self._lock:
            if self.size >= self.limit:
                return
            self._successes += 1
            if self._successes >= self.size:
                self.size += 1
                self._successes = 0


class RateLimiter:
    """Spaces request starts evenly to stay under a requests-per-second cap."""

    def __init__(self, per_second: float | None) -> None:
        self._interval = 1.0 / per_second if per_second else 0.0
        self._next_start = 0.0
        self._lock = threading.Lock()

    @property
    def active(self) -> bool:
        return bool(self._interval)

    def wait(self) -> None:
        if not self._interval:
            return
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next_start)
            self._next_start = start + self._interval
        if start > now:
            time.sleep(start - now)


class PagePrefetcher:
    """Fetches numbered pages ahead, hands them back strictly in page order.

    Memory is bounded by the window: at most `window.size` pages are held or in flight.
    """

    def __init__(
        self,
        fetch: Callable[[int], Page],
        window: AdaptiveWindow,
        executor: Executor | None = None,
    ) -> None:
        self._fetch = fetch
        self._window = window
        self._pending: dict[int, Future[Page]] = {}
        self._executor = executor or (
            ThreadPoolExecutor(max_workers=window.limit, thread_name_prefix="page")
            if window.limit > 1
            else None
        )

    @property
    def enabled(self) -> bool:
        return self._executor is not None

    @property
    def executor(self) -> Executor | None:
        return self._executor

    def take(self, number: int, last_planned: int) -> Page:
        """Page `number`, while keeping the following planned pages in flight."""
        assert self._executor is not None
        for stale in [n for n in self._pending if n < number]:
            self._pending.pop(stale).cancel()
        ahead = min(last_planned, number + self._window.size - 1)
        for n in range(number, ahead + 1):
            if n not in self._pending:
                self._pending[n] = self._executor.submit(self._fetch, n)
        future = self._pending.pop(number, None) or self._executor.submit(self._fetch, number)
        return future.result()

    def discard(self) -> None:
        """Drop pages fetched ahead that the envelope says are not needed."""
        for future in self._pending.values():
            future.cancel()
        self._pending.clear()

    def close(self) -> None:
        self.discard()
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
