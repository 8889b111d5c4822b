"""An account's announced quota: requests are held while it is spent, until it resets.

Providers announce what is left of their quota on every answer, as
`X-RateLimit-Remaining` / `X-RateLimit-Reset` (epoch seconds or seconds to wait, told
apart by size) or as the IETF `RateLimit` / `RateLimit-Policy` fields (each of their
drafts' forms). When nothing is left, the account's next requests wait for the reset
instead of being sent only to be answered 429.
"""

from __future__ import annotations

import logging
import re
import threading
import time
import typing as t

if t.TYPE_CHECKING:
    from collections.abc import Callable, Mapping

#: At or above this, a reset is an epoch timestamp; below it, seconds to wait.
EPOCH_THRESHOLD = 1_000_000_000
#: How long a spent quota holds requests when the answer tells no reset at all.
_UNTOLD_RESET = 1.0
#: Resets closer than this are taken for the same window.
_SAME_WINDOW = 0.5
#: How soon a request held only by requests in flight looks again.
_RECHECK = 0.02

_PARAM = re.compile(r"(?:^|[\s,;])(remaining|reset|limit|r|t|q|w)\s*=\s*\"?(-?[0-9.]+)")


def reset_seconds(value: str, now: float | None = None) -> float | None:
    """Seconds until a reset given as epoch seconds or as seconds to wait."""
    try:
        number = float(value.strip())
    except ValueError:
        return None
    if number >= EPOCH_THRESHOLD:
        return number - (time.time() if now is None else now)
    return number


def _params(value: str) -> dict[str, float]:
    return {name: float(number) for name, number in _PARAM.findall(value)}


def announced(headers: Mapping[str, str], now: float | None = None) -> tuple[int, float] | None:
    """(requests remaining, seconds until the reset) when the answer announces them."""
    remaining_text = headers.get("X-RateLimit-Remaining") or headers.get("RateLimit-Remaining")
    reset_text = headers.get("X-RateLimit-Reset") or headers.get("RateLimit-Reset")
    remaining = _int(remaining_text)
    reset = reset_seconds(reset_text, now) if reset_text else None
    field = headers.get("RateLimit")
    if field:
        params = _params(field)
        if remaining is None:
            remaining = _int(params.get("remaining", params.get("r")))
        if reset is None and ("reset" in params or "t" in params):
            reset = params.get("reset", params.get("t"))
    if remaining is None:
        return None
    if reset is None:
        window = _params(headers.get("RateLimit-Policy") or "").get("w")
        reset = window if window is not None else _UNTOLD_RESET
    return remaining, max(0.0, reset)


def _int(value: t.Any) -> int | None:
    if value is None:
        return None
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return None


class Quota:
    """What is left of one account's announced quota, counted down as requests go out.

    The lowest `Remaining` announced in the current window is the provider's latest count
    (answers may arrive out of order, but a count only goes down within a window). Every
    request sent since may have been counted after it, so those still in flight are taken
    off it; one that has been answered since would have announced a lower count. What is
    left is therefore never more than the provider would allow (for a credential used by
    this run alone), and an answer that arrives late gives back what it had held."""

    def __init__(
        self,
        label: str,
        logger: logging.Logger | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.label = label
        self.logger = logger
        self._clock = clock
        self._lock = threading.Lock()
        #: The lowest Remaining announced in the current window; None when none is.
        self._lowest: int | None = None
        self._reset_at = 0.0
        self._in_flight = 0
        self._told: float | None = None
        #: How many times a request was held for a reset (for tests and benchmarks).
        self.holds = 0

    def delay(self) -> float:
        """Seconds to wait before the next request; 0 when it may go now (it is counted)."""
        with self._lock:
            now = self._clock()
            if self._lowest is not None and now >= self._reset_at:
                self._lowest = None
            if self._lowest is not None and self._lowest - self._in_flight <= 0:
                wait = self._reset_at - now
                self.holds += 1
                if self._told is None or abs(self._reset_at - self._told) >= _SAME_WINDOW:
                    self._told = self._reset_at
                    if self.logger is not None:
                        self.logger.info(
                            "%s: the announced request quota is used up; requests wait "
                            "%.1f s for it to reset.",
                            self.label,
                            wait,
                        )
                if self._lowest > 0:
                    # Only requests in flight hold what is left: look again once they are
                    # answered, since some may have been counted already.
                    return min(wait, _RECHECK)
                return wait
            self._in_flight += 1
            return 0.0

    def settle(self, headers: Mapping[str, str] | None) -> None:
        """A request counted by `delay` ended, with these headers when it was answered."""
        with self._lock:
            self._in_flight = max(0, self._in_flight - 1)
            told = announced(headers) if headers is not None else None
            if told is None:
                return
            remaining, seconds = told
            reset_at = self._clock() + seconds
            if self._lowest is not None:
                if abs(reset_at - self._reset_at) < _SAME_WINDOW:
                    self._lowest = min(self._lowest, remaining)
                    return
                if reset_at < self._reset_at:
                    return  # an answer of an earlier window, arriving late
            self._lowest = remaining
            self._reset_at = reset_at
