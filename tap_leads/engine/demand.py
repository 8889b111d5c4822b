"""How many requests the writer needs in flight.

Keeping the whole budget in flight pays while answers take long to come: at 50 ms a
request, eight in flight feed the writer eight times faster than one. When answers come
at once, more requests in flight only compete with the writer for the interpreter: at
0 ms, 100,000 Teli leads cost 2.29 s of CPU with eight in flight and 1.97 s with one, and
the run ends sooner with one.

The target is the requests that keep the writer fed (Little's law): the time a request
takes, divided by the time the run needs per page, within 1 and the budget. Python runs
one thread at a time, so a page costs the run the writer's time on it plus the CPU time
its worker spent reading it, while only the request's wait for its answer overlaps with
other work. A request's wait is its wall time less its thread's CPU time; the shortest of
the recent ones is taken, as contention and backoffs only ever lengthen them. Until all
three are known, the whole budget is used."""

from __future__ import annotations

import math
from collections import deque

#: Recent requests whose waits are kept.
_WAITS = 16
#: Weight of the newest page in the writer's time per page.
_SMOOTHING = 0.2


class Demand:
    """Kept under the scheduler's lock."""

    def __init__(self, budget: int) -> None:
        self.budget = max(1, budget)
        #: Requests allowed in flight now.
        self.target = self.budget
        self._waits: deque[float] = deque(maxlen=_WAITS)
        self._per_page: float | None = None
        self._cpu: float | None = None

    def answered(self, waited: float, cpu: float = 0.0) -> bool:
        """A request's answer is in, after `waited` seconds off the CPU and `cpu` seconds on
        it; True when the target rose."""
        self._waits.append(max(waited, 0.0))
        self._cpu = _smooth(self._cpu, max(cpu, 0.0))
        return self._retarget()

    def written(self, seconds: float) -> bool:
        """The writer spent `seconds` on a page; True when the target rose."""
        self._per_page = _smooth(self._per_page, seconds)
        return self._retarget()

    def _retarget(self) -> bool:
        if self._per_page is None or self._cpu is None or not self._waits:
            return False
        cpu = self._cpu
        per_page = self._per_page + cpu
        needed = math.ceil((min(self._waits) + cpu) / per_page) if per_page > 0 else self.budget
        target = max(1, min(self.budget, needed))
        rose = target > self.target
        self.target = target
        return rose


def _smooth(average: float | None, value: float) -> float:
    return value if average is None else average + _SMOOTHING * (value - average)
