"""Fewer malloc arenas for the fetch threads, so that memory stays flat as accounts grow.

glibc gives threads that allocate at the same time arenas of their own (up to 8 per core).
A page's body and its parsed leads are allocated by a fetch thread and freed by the writer,
so each arena keeps its own free memory, which the others never reuse: resident memory then
grows with the length of the run rather than with what the run holds. Two arenas keep it
flat (200 accounts of 500 leads: 88 MiB with glibc's default, 72 MiB with two; 20 accounts:
65 and 60 MiB). Python runs one thread at a time, so the fetch threads barely contend for
them. A MALLOC_ARENA_MAX in the environment is left to glibc, and other C libraries
(musl, macOS) are left alone.
"""

from __future__ import annotations

import os
import sys

#: mallopt's parameter for the most arenas (malloc.h).
M_ARENA_MAX = -8
#: The arenas the run's threads share.
ARENAS = 2


def limit_arenas(count: int = ARENAS) -> bool:
    """Cap glibc's malloc arenas at `count`, before the fetch threads start; True when set."""
    if not sys.platform.startswith("linux") or "MALLOC_ARENA_MAX" in os.environ:
        return False
    import ctypes  # noqa: PLC0415  (only here: a run that starts no thread needs none)

    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # pragma: no cover - not glibc
        return False
    return bool(mallopt(M_ARENA_MAX, count))
