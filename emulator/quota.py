"""Announced quotas: N requests per window and per account, told on every answer.

Providers whose docs announce their quota (Flextell: `X-RateLimit-Limit`,
`X-RateLimit-Remaining` and `X-RateLimit-Reset`, the reset as a Unix timestamp) send these
headers on every answer of an account. Windows are fixed spans of `window` seconds of Unix
time (a 1-second quota's windows start on each whole second); `Remaining` counts down
within a window, and `Reset` is its end (rounded up to a whole second). An enforced quota
answers 429 (with `Retry-After`) once the window's requests are used up; an announced one
only tells.

    emu.set_quota("flextell", "25/s")                  # every account of the provider
    emu.set_quota("flextell", "100/min", account="acme")
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

#: What an announcing provider tells when no quota was set: generous, and not enforced,
#: so that a default run is never held or refused.
DEFAULT_QUOTA = "1000/s"

_UNITS = {"s": 1.0, "sec": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0}
_SPEC = re.compile(r"^\s*(\d+)\s*/\s*(\d+(?:\.\d+)?)?\s*(s|sec|m|min|h)\s*$")


def parse_quota(text: str) -> tuple[int, float]:
    """(requests, seconds) of a quota: "25/s" is (25, 1.0), "100/10s" (100, 10.0), "60/min"
    (60, 60.0)."""
    match = _SPEC.match(text)
    if match is None:
        raise ValueError(f"a quota reads N/s, N/min, N/h or N/<seconds>s, not {text!r}")
    count, number, unit = match.groups()
    limit, window = int(count), float(number or 1) * _UNITS[unit]
    if limit < 1 or window <= 0:
        raise ValueError(f"a quota needs at least 1 request in a window of some time: {text!r}")
    return limit, window


@dataclass(frozen=True)
class Told:
    """What one answer announces, and whether the request was refused."""

    limit: int
    remaining: int
    reset: int  # Unix time, whole seconds: when the window closes
    retry_after: int  # whole seconds until then, at least 1
    refused: bool

    def headers(self) -> list[tuple[str, str]]:
        told = [
            ("X-RateLimit-Limit", str(self.limit)),
            ("X-RateLimit-Remaining", str(self.remaining)),
            ("X-RateLimit-Reset", str(self.reset)),
        ]
        return [("Retry-After", str(self.retry_after)), *told] if self.refused else told


class AnnouncedQuota:
    """One account's quota: `limit` requests per `window` seconds; safe from any thread."""

    def __init__(
        self,
        limit: int,
        window: float,
        *,
        enforced: bool = True,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.limit = limit
        self.window = window
        self.enforced = enforced
        self._clock = clock
        self._lock = threading.Lock()
        self._ends = -math.inf
        self._used = 0
        #: Requests answered, and refused with 429, since the quota was set.
        self.admitted = 0
        self.refused = 0

    @classmethod
    def parse(cls, text: str, *, enforced: bool = True) -> AnnouncedQuota:
        return cls(*parse_quota(text), enforced=enforced)

    def count(self) -> Told:
        """Count one request in the current window (opening one if none is open)."""
        with self._lock:
            now = self._clock()
            if now >= self._ends:
                self._ends = (math.floor(now / self.window) + 1) * self.window
                self._used = 0
            reset = math.ceil(self._ends)
            retry_after = max(1, math.ceil(reset - now))
            if self._used >= self.limit and self.enforced:
                self.refused += 1
                return Told(self.limit, 0, reset, retry_after, refused=True)
            self._used += 1
            self.admitted += 1
            remaining = max(0, self.limit - self._used)
            return Told(self.limit, remaining, reset, retry_after, refused=False)

    def as_json(self) -> dict[str, Any]:
        return {
            "limit": self.limit,
            "window": self.window,
            "enforced": self.enforced,
            "admitted": self.admitted,
            "refused": self.refused,
        }
