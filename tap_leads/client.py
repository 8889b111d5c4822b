"""LeadsStream: what every provider's stream shares. It reads each of its accounts'
pages from the run's scheduler in order, and emits the leads that changed."""

from __future__ import annotations

import json
import typing as t
from datetime import UTC, datetime
from functools import cached_property
from importlib import resources

from singer_sdk import Stream
from singer_sdk.helpers.conform import TypeConformanceLevel

from tap_leads import replication, sdk_hooks
from tap_leads.errors import PaginationError, TapLeadsError
from tap_leads.progress import Progress
from tap_leads.providers import has_accounts, selected_accounts
from tap_leads.records import KeyLedger, RecordShaper
from tap_leads.settings import as_number
from tap_leads.sources import ACCOUNT_FIELD, Source, SourceBuilder, static_auth

if t.TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from singer_sdk import Tap
    from singer_sdk.helpers.types import Context

    from tap_leads.fetch import Auth, Page
    from tap_leads.pagination import EnvelopePaginator
    from tap_leads.providers import Account, ProviderSpec
    from tap_leads.scheduler import Lane, Scheduler


def load_schema(stream_name: str, *, accounts: bool = False) -> dict:
    schema = json.loads(
        resources.files("tap_leads.schemas").joinpath(f"{stream_name}.json").read_text()
    )
    if accounts:
        schema["properties"] = {
            ACCOUNT_FIELD: {
                "type": ["string"],
                "description": "The name of the account (in the provider's `accounts` "
                "setting) the lead was read from.",
            },
            **schema["properties"],
        }
    return schema


class LeadsStream(sdk_hooks.StreamShortcuts, Stream):
    """One provider's "list leads" endpoint, over each of its configured accounts."""

    spec: t.ClassVar[ProviderSpec]
    is_sorted = False
    # RecordShaper already makes every value match the schema, at a fraction of the cost.
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE

    def __init_subclass__(cls, **kwargs: t.Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.name = cls.spec.stream_name
        cls.replication_key = cls.spec.replication_key

    @property
    def provider(self) -> str:
        return self.spec.key

    @property
    def label(self) -> str:
        return self.spec.label

    def __init__(self, tap: Tap) -> None:
        config = tap.config
        #: The accounts form: records carry the account, and each account is a partition.
        self.list_form = has_accounts(config, self.spec.key)
        super().__init__(tap=tap, schema=load_schema(self.name, accounts=self.list_form))
        self.primary_keys = list(self.spec.key_properties(accounts=self.list_form))
        self.shaper = RecordShaper(
            self.schema,
            self.name,
            self.logger,
            # The SDK's flattening keeps `"status": null` as a key its flattened schema
            # lacks, which strict targets reject; an absent key flattens to null columns.
            omit_null_objects=bool(config.get("flattening_enabled")),
        )
        self.builder = SourceBuilder(
            self.spec,
            config,
            self.shaper,
            self.logger,
            f"{tap.name}/{tap.plugin_version}",
            self.auth,
        )
        self._lanes: dict[tuple[t.Any, int], Lane] = {}
        self._greatest_seen_by_context: dict[t.Any, str] = {}
        self._extracted_at = _now()
        self.progress = Progress(
            self.name, self.logger, as_number(config.get("progress_interval_seconds")) or 5.0
        )
        #: What failed, one line per account (or one for the stream), for the run's summary.
        self.failures: list[str] = []
        #: Accounts whose organisations could not be listed.
        self.unlisted = 0
        sdk_hooks.quiet_sdk_notes([self.logger])

    def auth(self, account: Account) -> Auth:
        return static_auth(self.spec, account)

    # ----- sources and lanes ------------------------------------------------

    @cached_property
    def sources(self) -> list[Source]:
        """Every listing this run reads, in emission order (a sharded run takes its share)."""
        found: list[Source] = []
        for account in selected_accounts(self.config, self.spec.key):
            try:
                found += self.builder.expand(account)
            except TapLeadsError as exc:
                self.unlisted += 1
                self._failed(f"[{account.name}]" if account.name else "", exc)
        return found

    @property
    def units(self) -> int:
        """What the run's summary counts: the stream, or each of its listings and the
        accounts whose listings could not even be found."""
        return len(self.sources) + self.unlisted if self.list_form else 1

    @property
    def partitions(self) -> list[dict] | None:
        if not self.list_form:
            return None
        return [source.context for source in self.sources if source.context is not None]

    def _source(self, context: Context | None) -> Source | None:
        wanted = dict(context) if context else None
        return next((s for s in self.sources if s.context == wanted), None)

    @property
    def fetcher(self) -> t.Any:
        """The single block's fetcher (the first source's), for tools and tests."""
        return self.sources[0].fetcher

    def plan_lanes(self, scheduler: Scheduler) -> None:
        """One lane per source and listing pass, in the order they are emitted."""
        for source in self.sources:
            for index, extra in enumerate(source.passes):
                self._lanes[(_key(source.context), index)] = scheduler.lane(
                    f"{self.name}{source.display}#{index}",
                    lambda token, number, f=source.fetcher, x=extra: f.fetch(token, number, x),
                    source.fetcher.window,
                    plan=lambda page, f=source.fetcher: _plan_page(f.reader, page),
                )

    def _lane(self, source: Source, index: int) -> Lane:
        key = (_key(source.context), index)
        if key not in self._lanes:
            # A sync outside the tap's own loop (e.g. a connection test) plans here.
            self.plan_lanes(self._tap.scheduler)
            self._tap.scheduler.start()
        return self._lanes[key]

    # ----- syncing ----------------------------------------------------------

    def sync(self, context: Context | None = None) -> None:
        """Sync, keeping a failure to this stream: the tap's other streams go on."""
        try:
            super().sync(context)
        except TapLeadsError as exc:
            sdk_hooks.drop_progress_bookmark(self.stream_state)
            self._failed("", exc)
        finally:
            for lane in self._lanes.values():
                lane.finish()
            for source in self.sources:
                source.fetcher.close()

    def _failed(self, where: str, exc: TapLeadsError) -> None:
        self.failures.append(f"{self.name}{where}: {exc}")
        self.logger.error("%s%s failed: %s", self.name, where, exc)

    def get_records(self, context: Context | None) -> Iterable[dict[str, t.Any]]:
        """Shaped leads of one source, each once; an account's failure stays its own."""
        source = self._source(context)
        if source is None:
            return
        if not self.list_form:
            yield from self._source_records(source, context)
            return
        try:
            yield from self._source_records(source, context)
        except TapLeadsError as exc:
            sdk_hooks.drop_progress_bookmark(self.get_context_state(context))
            self._failed(source.display, exc)

    def _source_records(
        self, source: Source, context: Context | None
    ) -> Iterator[dict[str, t.Any]]:
        state = self.get_context_state(context)
        self._state = state
        self._threshold = replication.Threshold(
            self.get_starting_timestamp(context),
            has_bookmark=bool(state.get("replication_key_value")),
            lookback_seconds=float(self.config.get("lookback_window_seconds") or 0),
        )
        # A connection test asks for a few records per stream; stop there, quietly.
        self._record_limit = self.ABORT_AT_RECORD_COUNT
        self._account_name = source.account.name if self.list_form else None
        emitted = KeyLedger()
        try:
            for index in range(len(source.passes)):
                lane = self._lane(source, index)
                try:
                    yield from self._walk_until_still(source, lane, emitted)
                finally:
                    lane.finish()
                if self._limit_reached():
                    break
        finally:
            # Many accounts would otherwise keep their connections open until the stream ends.
            source.fetcher.close()
        self.shaper.log_summary()
        self.progress.finish(emitted.repeats)

    def pages(self, source: Source, lane: Lane) -> Iterator[Page]:
        """Every page in order, until the envelope says stop."""
        fetcher = source.fetcher
        paginator = self.spec.paginator_class(fetcher.label, fetcher.reader.page_size)
        page = lane.take(1, 1)
        while True:
            yield page
            paginator.advance(page)
            if paginator.finished:
                return
            number, token = page.number + 1, paginator.current_value
            if isinstance(token, str):
                # Refuse a foreign host even when the page is fetched by its number.
                fetcher.pin_next_url(token)
            if paginator.page_number(token) == number:
                token = number
            page = lane.take(number, token)

    def _limit_reached(self) -> bool:
        return self._record_limit is not None and self.progress.emitted >= self._record_limit

    def _walk_until_still(
        self, source: Source, lane: Lane, emitted: KeyLedger
    ) -> Iterator[dict[str, t.Any]]:
        """Walk the list; while it moves under the tap, walk it again, emitting only new leads.

        A walk that saw a still list has read every lead listed at its end, so the
        bookmark may advance. When the list still moves after the last walk allowed,
        the previous bookmark is kept, so that the next run reads every change again.
        """
        allowed = int(self.config.get("max_rewalks", 1))
        moves: list[str] = []
        start = emitted.count
        first_walk = 0
        walk_keys = emitted
        while True:
            watch = replication.ListWatch()
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
                replication.hold_bookmark(
                    self._state,
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
        watch: replication.ListWatch,
    ) -> Iterator[dict[str, t.Any]]:
        """One walk of the list: its leads not emitted yet, and what the walk saw."""
        key = self.spec.primary_keys[0]
        reader = source.fetcher.reader
        account = self._account_name
        rewalk = walk_keys is not emitted
        for page in self.pages(source, lane):
            rows = page.rows
            self._extracted_at = _now()
            self.shaper.report.absorb(page.shaping)
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
                if self._limit_reached():
                    return
            if rows and not fresh:
                raise PaginationError(
                    f"{source.fetcher.label} pagination loops: page {page.number} holds only leads "
                    "already read on earlier pages. Stopping so that no lead is loaded twice."
                )
            total = reader.announced_total(reader.envelope(page.body))
            watch.page(total, fresh, walk_keys.repeats - repeats)
            self.progress.page_done(len(rows), page.retries)
            self._tap.message_writer.flush(force=False)

    @cached_property
    def everything_selected(self) -> bool:
        mask = self.mask
        return all(mask[("properties", name)] for name in self.schema["properties"]) and all(
            mask.values()
        )

    # ----- replication ------------------------------------------------------

    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        """Emit only leads changed at or after the bookmark (or start_date) less lookback."""
        if self._threshold.value is not None and not self._threshold.admits(self.changed_at(row)):
            return None
        self.progress.emitted += 1
        return row

    def changed_at(self, row: dict) -> datetime | None:
        return replication.changed_at(row, self.spec.change_fields)


def _plan_page(reader: EnvelopePaginator, page: Page) -> tuple[int | None, bool]:
    """How many pages the envelope announces, and whether its pages count up from 1."""
    announced = reader.announced_total_pages(reader.envelope(page.body))
    numbered = reader.has_more(page) and reader.page_number(reader.get_next(page)) == 2
    return announced, numbered


def _key(context: t.Mapping[str, t.Any] | None) -> t.Any:
    return tuple(sorted(context.items())) if context else None


def _now() -> str:
    return datetime.now(UTC).isoformat()
