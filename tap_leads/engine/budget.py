"""Waiting without holding a request slot.

A fetch running on one of the scheduler's workers holds one slot of the run's budget of
requests in flight. While it waits (for the rate cap, an announced quota's reset or a
retry's backoff) it sends nothing, so it gives the slot back for the wait and takes one
again before it sends. Outside the scheduler (a connection test, a unit test) a wait is
a plain sleep.
"""

from __future__ import annotations

import threading
import time
import typing as t


class Gate(t.Protocol):
    """The scheduler's side: give the current request's slot back, and take one again."""

    def release(self) -> None: ...

    def reacquire(self) -> None: ...


_local = threading.local()


def bind(gate: Gate | None) -> None:
    """The gate of the current thread's slot (None: this thread holds no slot)."""
    _local.gate = gate


def pause(seconds: float) -> None:
    """Sleep for `seconds`, holding no slot of the budget meanwhile."""
    if seconds <= 0:
        return
    gate: Gate | None = getattr(_local, "gate", None)
    if gate is None:
        time.sleep(seconds)
        return
    gate.release()
    try:
        time.sleep(seconds)
    finally:
        gate.reacquire()
