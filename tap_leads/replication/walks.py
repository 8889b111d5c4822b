"""Reading a list page by page, and again at once when it moved while it was read."""

from __future__ import annotations

import typing as t
from datetime import UTC, datetime

from tap_leads.engine.follow import follow
from tap_leads.errors import PaginationError
from tap_leads.records import KeyLedger
from tap_leads.replication import bookmarks
from tap_leads.schemas import ACCOUNT_FIELD

if t.TYPE_CHECKING:
    from collections.abc import Iterator

    from tap_leads.engine.page import Page
    from tap_leads.engine.scheduler import Lane
    from tap_leads.sources import Source


class ListWalks:
    """Mixed into LeadsStream: the walks of one source's listing, and what they saw."""

    def pages(self, source: Source, lane: Lane) -> Iterator[Page]:
        """Every page in order, until the envelope says stop."""
        fetcher = source.fetcher
        return follow(lane.take, fetcher.label, fetcher.pin_next_url)

    def _walk_until_still(
        self, source: Source, lane: Lane, emitted: KeyLedger
    ) -> Iterator[dict[str, t.Any]]:
        """Walk the list; while it moves under the tap, walk it again, emitting only new leads.

        A walk that saw a still list has read every lead listed at its end, so the
        bookmark may advance. When the list still moves after the last walk allowed,
        the previous bookmark is kept, so that the next run reads every change again.
        """
        allowed = self.run.max_rewalks
        moves: list[str] = []
        start = emitted.count
        first_walk = 0
        walk_keys = emitted
        while True:
            watch = bookmarks.ListWatch()
            yield from self._walk(source, lane, emitted, walk_keys, watch)
            moved = None if self._limit_reached() else watch.movement()
            if moved is None:
                if moves:
                    self.logger.warning(
                        "%s%s: the list moved while it was read (%s), so it was read again at "
                        "once (%d more time(s)): %d lead(s) no earlier walk had read were "
                        "emitted, and the last walk saw a still list, so the bookmark advances.",
                        self.name,
                        source.display,
                        moves[0],
                        len(moves),
                        emitted.count - start - first_walk,
                    )
                return
            if not moves:
                first_walk = emitted.count - start
            moves.append(moved)
            if len(moves) > allowed:
                bookmarks.hold_bookmark(
                    self.get_context_state(source.context),
                    self.logger,
                    f"{self.name}{source.display}",
                    f"The list moved while it was read ({moves[0]})"
                    + (
                        f" and still moved after {allowed} more walk(s) ({moved})"
                        if allowed
                        else ""
                    )
                    + ", so a lead may have been skipped.",
                )
                return
            lane.restart()
            walk_keys = KeyLedger()

    def _walk(
        self,
        source: Source,
        lane: Lane,
        emitted: KeyLedger,
        walk_keys: KeyLedger,
        watch: bookmarks.ListWatch,
    ) -> Iterator[dict[str, t.Any]]:
        """One walk of the list: its leads not emitted yet, and what the walk saw."""
        key = self.spec.primary_keys[0]
        account = source.account.name  # None for the single block: no account field
        limited = self._record_limit is not None
        rewalk = walk_keys is not emitted
        for page in self.pages(source, lane):
            rows = page.rows
            self._extracted_at = now()
            self.shaper.report.absorb(page.shaping)
            self.progress.page_done(len(rows), page.retries)
            fresh = 0
            repeats = walk_keys.repeats
            first_time = walk_keys.first_time
            for row in rows:
                value = row.get(key)
                if not first_time(value):
                    continue
                fresh += 1
                if rewalk and not emitted.first_time(value):
                    continue
                if account is not None:
                    row[ACCOUNT_FIELD] = account
                yield row
                if limited and self._limit_reached():
                    return
            if rows and not fresh:
                raise PaginationError(
                    f"{source.fetcher.label} pagination loops: page {page.number} holds only leads "
                    "already read on earlier pages. Stopping so that no lead is loaded twice."
                )
            watch.page(page.total, fresh, walk_keys.repeats - repeats)
            self._tap.message_writer.flush(force=False)
            if limited and self._limit_reached():
                return


def now() -> str:
    return datetime.now(UTC).isoformat()
