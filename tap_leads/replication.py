"""Bookmarks: which leads a run emits, and holding the bookmark when a list moved."""

from __future__ import annotations

import typing as t
from datetime import datetime, timedelta

from tap_leads import sdk_hooks
from tap_leads.timestamps import parse_timestamp

if t.TYPE_CHECKING:
    import logging


class Threshold:
    """Leads changed before this moment were emitted by an earlier run."""

    def __init__(
        self, start: datetime | None, *, has_bookmark: bool, lookback_seconds: float
    ) -> None:
        # The lookback applies to a bookmark, never to start_date.
        if start is not None and has_bookmark:
            start -= timedelta(seconds=lookback_seconds)
        self.value = start

    def admits(self, changed: datetime | None) -> bool:
        # A lead whose change time cannot be read is emitted: never lose a lead.
        return self.value is None or changed is None or changed >= self.value


def changed_at(row: dict, keys: t.Sequence[str]) -> datetime | None:
    """The latest of the row's change timestamps, as far as the record tells."""
    return max(
        (moment for key in keys if (moment := parse_timestamp(row.get(key))) is not None),
        default=None,
    )


def hold_bookmark(state: dict, logger: logging.Logger, name: str, reason: str) -> None:
    """Keep the previous bookmark: this run's greatest value is not promoted.

    A list that moved while it was read may have skipped a lead. Promoting this run's
    bookmark could lose that lead for good; keeping the previous one makes the next
    run read every change again.
    """
    sdk_hooks.drop_progress_bookmark(state)
    logger.warning(
        "%s: %s The bookmark stays at %s so that the next run reads every change again.",
        name,
        reason,
        state.get("replication_key_value") or "its previous value (none)",
    )


class ListWatch:
    """Signs, within one walk of a list, that the list moved while it was read.

    None of the APIs offers a stable cursor: each pages by offset, so a deletion moves
    every later lead up and a lead at a page boundary is never read; an insertion or
    a move to the front repeats one.
    """

    def __init__(self) -> None:
        self.totals: list[int] = []
        self.repeats = 0
        self.distinct = 0

    def page(self, total: int | None, fresh: int, repeats: int) -> None:
        if total is not None:
            self.totals.append(total)
        self.distinct += fresh
        self.repeats += repeats

    def movement(self) -> str | None:
        """What moved, in words, or None when the walk saw a still list."""
        signs = []
        if len(set(self.totals)) > 1:
            signs.append(f"its announced total went from {self.totals[0]} to {self.totals[-1]}")
        if self.repeats:
            signs.append(f"{self.repeats} lead(s) appeared on two pages")
        if self.totals and self.distinct != self.totals[-1]:
            signs.append(
                f"{self.distinct} distinct lead(s) were read of {self.totals[-1]} announced"
            )
        return "; ".join(signs) or None
