"""A progress line per stream every few seconds, and a summary when it ends."""

from __future__ import annotations

import logging
import time


class Progress:
    """Counts pages, leads read, emitted and retries of one stream."""

    def __init__(self, stream_name: str, logger: logging.Logger, interval: float) -> None:
        self.stream_name = stream_name
        self.logger = logger
        self.interval = interval
        self.started = self.last_report = time.monotonic()
        self.pages = self.rows = self.emitted = self.retries = 0

    def page_done(self, rows: int, retries: int) -> None:
        self.pages += 1
        self.rows += rows
        self.retries += retries
        now = time.monotonic()
        if now - self.last_report >= self.interval:
            self.last_report = now
            self._log("progress", now)

    def finish(self, repeats: int) -> None:
        self._log("done", time.monotonic(), f", {repeats} repeat(s) dropped")

    def _log(self, what: str, now: float, extra: str = "") -> None:
        elapsed = max(now - self.started, 1e-9)
        self.logger.info(
            "%s %s: %d page(s), %d lead(s) read, %d emitted, %.0f leads/s, %d retr%s%s, %.1f s.",
            self.stream_name,
            what,
            self.pages,
            self.rows,
            self.emitted,
            self.rows / elapsed,
            self.retries,
            "y" if self.retries == 1 else "ies",
            extra,
            elapsed,
        )
