"""A log of each request's start and end, written as the emulator answers (for benchmarks).

Each line is `<start> <end> <status> <path>`, times from time.monotonic() (the system's
monotonic clock, so another process on the machine can line them up with its own). A
reader takes the lines written between two offsets of the file (benchmarks/).
"""

from __future__ import annotations

import threading
import time
import typing as t
from pathlib import Path

if t.TYPE_CHECKING:
    from collections.abc import Callable

    from .wire import Request, Response


class TimingLog:
    """Wraps a dispatch function; every request it answers is appended to `path`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file = path.open("a", buffering=1, encoding="utf-8")
        self._lock = threading.Lock()

    def wrap(
        self, dispatch: Callable[[Request, bytes], Response]
    ) -> Callable[[Request, bytes], Response]:
        def timed(request: Request, body: bytes) -> Response:
            started = time.monotonic()
            response = dispatch(request, body)
            line = f"{started:.6f} {time.monotonic():.6f} {response.status} {request.path}\n"
            with self._lock:
                self._file.write(line)
            return response

        return timed

    def close(self) -> None:
        self._file.close()
