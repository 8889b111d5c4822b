"""How fast one provider account may be asked: an adaptive window and a rate cap."""

from __future__ import annotations

import threading
import time
import typing as t

if t.TYPE_CHECKING:
    from collections.abc import Callable


class AdaptiveWindow:
    """How many requests may be in flight: halves on a 429, regrows one step at a time."""

    def __init__(
        self, limit: int, on_change: Callable[[int, int, bool], None] | None = None
    ) -> None:
        self.limit = max(1, limit)
        self.size = self.limit
        self._successes = 0
        self._lock = threading.Lock()
        #: Told (size, limit, shrank) after every change, for the log.
        self.on_change = on_change

    def throttled(self) -> None:
        # Told under the lock, so that the log tells the changes in the order they happened.
        with self._lock:
            before = self.size
            self.size = max(1, self.size // 2)
            self._successes = 0
            if self.size != before and self.on_change:
                self.on_change(self.size, self.limit, True)

    def succeeded(self) -> None:
        with self._lock:
            if self.size >= self.limit:
                return
            self._successes += 1
            if self._successes < self.size:
                return
            self.size += 1
            self._successes = 0
            if self.on_change:
                self.on_change(self.size, self.limit, False)


class RateLimiter:
    """Spaces request starts evenly to stay under a requests-per-second cap."""

    def __init__(self, per_second: float | None) -> None:
        self._interval = 1.0 / per_second if per_second else 0.0
        self._next_start = 0.0
        self._lock = threading.Lock()

    def delay(self) -> float:
        """Seconds until the next request may start; that start is reserved."""
        if not self._interval:
            return 0.0
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next_start)
            self._next_start = start + self._interval
        return start - now

    def wait(self) -> None:
        seconds = self.delay()
        if seconds > 0:
            time.sleep(seconds)
