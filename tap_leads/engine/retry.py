"""When and how long to wait before retrying a request."""

from __future__ import annotations

import random
import time
import typing as t
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

if t.TYPE_CHECKING:
    from collections.abc import Generator, Mapping

#: Statuses that say "try again later" rather than "this request is wrong".
RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})

# Below this, X-RateLimit-Reset is read as seconds to wait rather than an epoch.
_EPOCH_THRESHOLD = 1_000_000_000


def retry_after_seconds(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds the server asked us to wait, from Retry-After or X-RateLimit-Reset.

    Retry-After may be seconds or an HTTP date. A value of 0 or less, or one that
    cannot be read, returns None so that the caller falls back to backoff.
    """
    now = time.time() if now is None else now
    retry_after = (headers.get("Retry-After") or "").strip()
    if retry_after:
        try:
            seconds = float(retry_after)
        except ValueError:
            try:
                seconds = parsedate_to_datetime(retry_after).timestamp() - now
            except (TypeError, ValueError, IndexError):
                seconds = 0.0
        return seconds if seconds > 0 else None
    reset = (headers.get("X-RateLimit-Reset") or "").strip()
    if reset:
        try:
            value = float(reset)
        except ValueError:
            return None
        seconds = value - now if value >= _EPOCH_THRESHOLD else value
        return seconds if seconds > 0 else None
    return None


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Capped exponential backoff with jitter, yielding to the server's own hint."""

    #: The run's max_tries, backoff_base_seconds and max_retry_wait.
    max_tries: int
    base_seconds: float
    max_wait_seconds: float
    #: The longest backoff step.
    cap_seconds: float = 60.0

    def backoff(self, retry_number: int) -> float:
        """Equal jitter: half the capped exponential step, plus a random half."""
        step = min(self.cap_seconds, self.base_seconds * 2 ** (retry_number - 1))
        return step / 2 + random.uniform(0, step / 2)

    def waits(self) -> Generator[float, t.Any, None]:
        """A wait generator for `backoff.on_exception`; it is sent each exception."""
        retry_number = 0
        exception = yield 0.0
        while True:
            retry_number += 1
            hinted = getattr(exception, "retry_after", None)
            if hinted:
                # Never sooner than asked: jitter only ever adds.
                wait = hinted + random.uniform(0, min(1.0, hinted * 0.1))
            else:
                wait = self.backoff(retry_number)
            exception = yield wait
