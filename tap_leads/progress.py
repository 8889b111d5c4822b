"""Progress lines per listing (a stream, or one account of it), and the run's summary."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass


class Progress:
    """Counts pages, leads read, emitted and retries of one listing: the single block's
    stream, or one account (and Teli organisation) of a stream in the accounts form.

    `where` names it in every line: `sela_leads`, `autocalls_leads[acme]`,
    `teli_leads[partner/1699…x…]`, as failures name it.
    """

    def __init__(self, where: str, logger: logging.Logger, interval: float) -> None:
        self.where = where
        self.logger = logger
        self.interval = interval
        self.started = self.last_report = time.monotonic()
        self.pages = self.rows = self.emitted = self.retries = 0

    def starting(self, bookmark: object, start_date: object) -> None:
        """One line saying where this listing starts, naming it."""
        if bookmark:
            since = f"leads changed at or after the bookmark {bookmark}"
        elif start_date:
            since = f"no bookmark yet, leads changed at or after start_date {start_date}"
        else:
            since = "no bookmark yet, every lead"
        self.logger.info("%s started: %s.", self.where, since)

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
            self.where,
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


@dataclass
class RunCounts:
    """What a run (or a connection test) did, for its last line."""

    units: int
    failures: list[str]
    emitted: int
    noun: str = "stream(s)"

    def summary(self, test: bool = False) -> str:
        """The run's one-line summary: the failures, or what completed."""
        others = max(self.units - len(self.failures), 0)
        if self.failures:
            return (
                f"{len(self.failures)} {self.noun} failed ({others} other(s) completed): "
                + " | ".join(self.failures)
            )
        what = "read their first page" if test else "completed"
        return f"All {self.units} {self.noun} {what}: {self.emitted} lead(s) emitted."
