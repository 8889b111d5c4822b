"""Per-credential rate limits: a token bucket and a cap on requests in flight."""

from __future__ import annotations

import math
import threading
import time
from typing import Any


class RateLimit:
    """per_second: sustained requests per second, with bursts of up to `burst` (default: one
    second's worth); max_concurrent: requests answered at the same time. Either may be None."""

    def __init__(
        self,
        per_second: float | None = None,
        burst: int | None = None,
        max_concurrent: int | None = None,
    ) -> None:
        if per_second is None and max_concurrent is None:
            raise ValueError("a rate limit needs per_second or max_concurrent")
        if per_second is not None and per_second <= 0:
            raise ValueError("per_second must be positive")
        if burst is not None and (per_second is None or burst < 1):
            raise ValueError("burst needs per_second and must be at least 1")
        if max_concurrent is not None and max_concurrent < 1:
            raise ValueError("max_concurrent must be at least 1")
        self.per_second = per_second
        self.burst = burst if burst is not None else max(1, math.ceil(per_second or 1))
        self.max_concurrent = max_concurrent
        self.admitted = 0
        self.refused = 0
        self._tokens = float(self.burst)
        self._updated = time.monotonic()
        self._in_flight = 0
        self._lock = threading.Lock()

    def acquire(self) -> int | None:
        """None when the request may go ahead (call release() once answered), else the whole
        seconds to announce in Retry-After."""
        with self._lock:
            if self.max_concurrent is not None and self._in_flight >= self.max_concurrent:
                self.refused += 1
                return 1
            if self.per_second is not None:
                now = time.monotonic()
                self._tokens = min(
                    self.burst, self._tokens + (now - self._updated) * self.per_second
                )
                self._updated = now
                if self._tokens < 1:
                    self.refused += 1
                    return max(1, math.ceil((1 - self._tokens) / self.per_second))
                self._tokens -= 1
            self._in_flight += 1
            self.admitted += 1
            return None

    def release(self) -> None:
        with self._lock:
            self._in_flight -= 1

    def as_json(self) -> dict[str, Any]:
        return {
            "per_second": self.per_second,
            "burst": self.burst if self.per_second is not None else None,
            "max_concurrent": self.max_concurrent,
            "admitted": self.admitted,
            "refused": self.refused,
        }
