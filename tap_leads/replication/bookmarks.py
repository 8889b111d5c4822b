"""Bookmarks: which leads a run emits, and holding the bookmark when a list moved."""

from __future__ import annotations

import typing as t
from datetime import datetime, timedelta

from tap_leads import sdk_hooks
from tap_leads.timestamps import format_timestamp

if t.TYPE_CHECKING:
    import logging


class Threshold:
    """Leads changed before this moment were emitted by an earlier run.

    Records reach it shaped: their timestamps are fixed-width UTC text, so comparing
    text orders them in time, and nothing is parsed again per record.
    """

    def __init__(
        self,
        start: datetime | None,
        *,
        has_bookmark: bool,
        lookback_seconds: float,
        change_keys: t.Sequence[str],
    ) -> None:
        # The lookback applies to a bookmark, never to start_date.
        if start is not None and has_bookmark:
            start -= timedelta(seconds=lookback_seconds)
        self.text = format_timestamp(start) if start is not None else None
        self.change_keys = tuple(change_keys)

    def admits(self, row: dict) -> bool:
        """Whether the lead changed at or after the threshold."""
        if self.text is None:
            return True
        changed = max((v for key in self.change_keys if (v := row.get(key))), default=None)
        # A lead whose change time cannot be read is emitted: never lose a lead.
        return changed is None or changed >= self.text


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
        # Pages fetched ahead may be served out of page order, so a page read later can
        # carry an older total: name the totals in the order they first appeared.
        seen = list(dict.fromkeys(self.totals))
        if len(seen) > 1:
            signs.append(f"its announced total went from {seen[0]} to {seen[-1]}")
        if self.repeats:
            signs.append(f"{self.repeats} lead(s) appeared on two pages")
        if self.totals and self.distinct != self.totals[-1]:
            signs.append(
                f"{self.distinct} distinct lead(s) were read of {self.totals[-1]} announced"
            )
        return "; ".join(signs) or None
