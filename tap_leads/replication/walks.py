"""The walk of one account's list: page by page, again at once when it moved while it
was read, deciding which leads to emit and what the account's state remembers.

One AccountWalk per account and run holds everything the walk shares: the bookmark's
threshold, the greatest replication-key value seen, the record limit, the time the
last page was extracted, and the membership (which leads the list held).
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import compress

from tap_leads.engine.follow import follow
from tap_leads.errors import PaginationError
from tap_leads.replication import bookmarks
from tap_leads.replication.membership import STATE_KEY, KeyLedger, Keys, Membership, fingerprint
from tap_leads.schemas import ACCOUNT_FIELD, DELETED_AT_FIELD

if t.TYPE_CHECKING:
    import logging
    from collections.abc import Callable, Iterator

    from tap_leads.engine.page import Page
    from tap_leads.engine.scheduler import Lane
    from tap_leads.progress import Progress
    from tap_leads.providers import ProviderSpec
    from tap_leads.sources import Source


@dataclass(frozen=True)
class WalkSettings:
    """The run's settings every walk of a stream shares."""

    max_rewalks: int = 1
    lookback_seconds: float = 0.0
    detect_deletes: bool = True
    max_deleted_fraction: float = 0.5
    #: When the run started: the deletion time of leads found gone.
    run_started: str = ""


class AccountWalk:
    """One account's listing in one run: its walks, what they emit and what they saw."""

    def __init__(
        self,
        *,
        name: str,
        spec: ProviderSpec,
        source: Source,
        state: dict,
        start: datetime | None,
        settings: WalkSettings,
        record_limit: int | None,
        logger: logging.Logger,
        progress: Progress,
        absorb: Callable[[t.Any], None],
        flush: Callable[[], None],
        first_page_only: bool = False,
    ) -> None:
        self.name, self.spec, self.source, self.state = name, spec, source, state
        self.settings = settings
        self.threshold = bookmarks.Threshold(
            start,
            has_bookmark=bool(state.get("replication_key_value")),
            lookback_seconds=settings.lookback_seconds,
            change_keys=spec.change_fields,
        )
        #: A connection test asks for a few records per stream; the walk stops there.
        self.record_limit = record_limit
        #: --test: the first page of the listing, and no more.
        self.first_page_only = first_page_only
        #: The greatest replication-key value of the records emitted.
        self.greatest_seen: str | None = None
        self.extracted_at = now()
        self.logger, self.progress, self.absorb, self.flush = logger, progress, absorb, flush
        #: Every key read in this run, over all walks and passes.
        self.seen = KeyLedger()
        self.membership: Membership | None = None
        if settings.detect_deletes:
            filters = {f.name: source.account.settings.get(f.name) for f in spec.filters}
            self.membership = Membership(state.get(STATE_KEY), fingerprint(filters))
        else:
            state.pop(STATE_KEY, None)
        #: The keys of the first pass's last, still walk; None until there is one.
        self.members: Keys | None = None
        #: Deletion times the provider gives (Flextell's trashed leads), by key.
        self.deleted_at: dict[str, str] = {}
        #: (key as text, deleted_at) of the leads that left the list, once the walk settled.
        self.departed: list[tuple[str, str]] = []

    @property
    def label(self) -> str:
        return f"{self.name}{self.source.display}"

    def limit_reached(self) -> bool:
        if self.record_limit is None:
            return False
        first_page_read = self.first_page_only and self.progress.pages > 0
        return first_page_read or self.progress.emitted >= self.record_limit

    def emitted_pages(self, lanes: list[Lane]) -> Iterator[list[dict[str, t.Any]]]:
        """The leads to emit, a page's worth at a time (never an empty list), each lead
        once; then what the list held is settled. A page is yielded before the walk goes
        on to the next, so whatever writes it comes before the walk's flush."""
        for index, lane in enumerate(lanes):
            try:
                yield from self._walk_until_still(lane, first_pass=index == 0)
            finally:
                lane.finish()
            if self.limit_reached():
                return
        self._settle()

    def tombstones(self, *, whole_keys: bool) -> list[dict[str, t.Any]]:
        """Each lead that left as its key (after the account in the accounts form) and
        _sdc_deleted_at, every other field left out."""
        key, account = self.spec.primary_keys[0], self.source.account.name
        found = []
        for text, deleted_at in self.departed:
            tombstone: dict[str, t.Any] = {} if account is None else {ACCOUNT_FIELD: account}
            tombstone[key] = int(text) if whole_keys else text
            tombstone[DELETED_AT_FIELD] = deleted_at
            found.append(tombstone)
        return found

    def pages(self, lane: Lane) -> Iterator[Page]:
        """Every page in order, until the page's facts say stop."""
        fetcher = self.source.fetcher
        return follow(lane.take, fetcher.label, fetcher.pin_next_url)

    # ----- walks --------------------------------------------------------------

    def _walk_until_still(
        self, lane: Lane, *, first_pass: bool
    ) -> Iterator[list[dict[str, t.Any]]]:
        """Walk the list; while it moves under the tap, walk it again, emitting only new leads.

        A walk that saw a still list has read every lead listed at its end, so the
        bookmark may advance. When the list still moves after the last walk allowed,
        the previous bookmark is kept, so that the next run reads every change again.
        """
        allowed = self.settings.max_rewalks
        moves: list[str] = []
        seen = self.seen
        start = seen.count
        first_walk = 0
        walk_keys = seen
        while True:
            watch = bookmarks.ListWatch()
            yield from self._walk(lane, walk_keys, watch, first_pass=first_pass)
            moved = None if self.limit_reached() else watch.movement()
            if moved is None:
                if first_pass:  # on the first pass, `seen` holds only this walk's keys
                    self.members = walk_keys.snapshot()
                if moves:
                    self.logger.warning(
                        "%s: the list moved while it was read (%s), so it was read again at "
                        "once (%d more time(s)): %d lead(s) no earlier walk had read were "
                        "emitted, and the last walk saw a still list, so the bookmark advances.",
                        self.label,
                        moves[0],
                        len(moves),
                        seen.count - start - first_walk,
                    )
                return
            if not moves:
                first_walk = seen.count - start
            moves.append(moved)
            if len(moves) > allowed:
                bookmarks.hold_bookmark(
                    self.state,
                    self.logger,
                    self.label,
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
        self, lane: Lane, walk_keys: KeyLedger, watch: bookmarks.ListWatch, *, first_pass: bool
    ) -> Iterator[list[dict[str, t.Any]]]:
        """One walk of the list: its leads to emit, page by page, and what the walk saw."""
        limited = self.record_limit is not None
        pick = self._pick_limited if limited else self._pick
        for page in self.pages(lane):
            rows = page.rows
            self.extracted_at = now()
            self.absorb(page.shaping)
            self.progress.page_done(len(rows), page.retries)
            repeats = walk_keys.repeats
            emit, fresh = pick(rows, walk_keys, first_pass=first_pass)
            self.progress.emitted += len(emit)
            if emit:
                yield emit
                if limited and self.limit_reached():
                    return
            if rows and not fresh:
                raise PaginationError(
                    f"{self.source.fetcher.label} pagination loops: page {page.number} holds "
                    "only leads already read on earlier pages. Stopping so that no lead is "
                    "loaded twice."
                )
            watch.page(page.total, fresh, walk_keys.repeats - repeats)
            self.flush()
            if limited and self.limit_reached():
                return

    def _pick(
        self, rows: t.Sequence[dict[str, t.Any]], walk_keys: KeyLedger, *, first_pass: bool
    ) -> tuple[list[dict[str, t.Any]], int]:
        """A page's leads to emit, and how many of its leads this walk had not read: a
        lead is read once per walk (`walk_keys`), emitted once per run (`seen`), when it
        changed since the threshold or entered the list since the earlier run."""
        key = self.spec.primary_keys[0]
        keys = [row.get(key) for row in rows]
        new = walk_keys.first_times(keys)
        rows, keys = list(compress(rows, new)), list(compress(keys, new))
        fresh = len(rows)
        trashed = self._trashed_keys(first_pass)
        if trashed is not None:
            for row, value in zip(rows, keys, strict=True):
                if (at := row.get("deleted_at")) and str(value) in trashed:
                    self.deleted_at[str(value)] = at
        if walk_keys is not self.seen:  # a walk again: only leads no earlier walk emitted
            new = self.seen.first_times(keys)
            rows, keys = list(compress(rows, new)), list(compress(keys, new))
        if self.threshold.text is not None:
            admits = self.threshold.admits
            membership = self.membership if first_pass else None
            entered = membership.entered if membership is not None and membership.known else None
            rows = [
                row
                for row, value in zip(rows, keys, strict=True)
                if admits(row) or (entered is not None and entered(value))
            ]
        account = self.source.account.name  # None for the single block: no account field
        if account is not None:
            for row in rows:
                row[ACCOUNT_FIELD] = account
        return rows, fresh

    def _pick_limited(
        self, rows: t.Sequence[dict[str, t.Any]], walk_keys: KeyLedger, *, first_pass: bool
    ) -> tuple[list[dict[str, t.Any]], int]:
        """_pick under a record limit: lead by lead, none read past the limit."""
        key = self.spec.primary_keys[0]
        account = self.source.account.name
        seen = self.seen
        membership = self.membership if first_pass else None
        entered = membership.entered if membership is not None and membership.known else None
        trashed = self._trashed_keys(first_pass)
        # As the SDK's loop would: the first lead is emitted before the limit is checked.
        room = max(t.cast(int, self.record_limit) - self.progress.emitted, 1)
        room = 1 if self.first_page_only else room
        emit: list[dict[str, t.Any]] = []
        fresh = 0
        for row in rows:
            if len(emit) >= room:
                break
            value = row.get(key)
            if not walk_keys.first_time(value):
                continue
            fresh += 1
            if trashed is not None and (at := row.get("deleted_at")) and str(value) in trashed:
                self.deleted_at[str(value)] = at
            if walk_keys is not seen and not seen.first_time(value):
                continue
            if not self.threshold.admits(row) and (entered is None or not entered(value)):
                continue
            if account is not None:
                row[ACCOUNT_FIELD] = account
            emit.append(row)
        return emit, fresh

    def _trashed_keys(self, first_pass: bool) -> Keys | None:
        """Keys the earlier walk listed, to find in a later pass of deleted leads."""
        membership = self.membership
        if first_pass or membership is None or not membership.known:
            return None
        return membership.keys

    # ----- membership ---------------------------------------------------------

    def _settle(self) -> None:
        """After complete walks: which leads left, and the membership the state keeps.

        Nothing is reported, and the earlier membership stays, unless the first pass's
        last walk was still and the earlier walk was made with the same filters and at
        most max_deleted_fraction of its leads are gone.
        """
        membership, members = self.membership, self.members
        if membership is None or members is None:
            return
        prior = membership.keys
        if prior is not None and membership.same_filters:
            gone = prior.difference(members)
            share = self.settings.max_deleted_fraction
            if gone and len(gone) > share * len(prior):
                self.logger.warning(
                    "%s: %d of the %d lead(s) the earlier run listed are gone, more than "
                    "max_deleted_fraction (%s) allows, so none is reported as deleted and "
                    "the next run compares with the same earlier list. If they really were "
                    "deleted, raise max_deleted_fraction for one run.",
                    self.label,
                    len(gone),
                    len(prior),
                    share,
                )
                return
            started = self.settings.run_started
            self.departed = [(k, self.deleted_at.get(k, started)) for k in sorted(gone)]
        self.state[STATE_KEY] = membership.entry(members)


def now() -> str:
    return datetime.now(UTC).isoformat()
