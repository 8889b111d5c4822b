"""LeadsStream, what every provider's stream shares, and one stream class per provider.

A stream reads each of its accounts' pages from the run's scheduler in order and emits
the leads that changed; everything about a provider lives in its spec.
"""

from __future__ import annotations

import typing as t
from datetime import UTC, datetime
from functools import cache, cached_property

from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.streams.core import Stream

from tap_leads import sdk_hooks
from tap_leads.errors import TapLeadsError
from tap_leads.progress import Progress
from tap_leads.providers import has_accounts, selected_accounts
from tap_leads.providers.accounts import parse_shard, resolve
from tap_leads.providers.spec import AuthContext
from tap_leads.records import RecordShaper
from tap_leads.replication.walks import AccountWalk, WalkSettings
from tap_leads.schemas import DELETED_STREAM, load_schema
from tap_leads.sources import Source, SourceBuilder
from tap_leads.timestamps import format_timestamp

if t.TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from singer_sdk.helpers.types import Context
    from singer_sdk.tap_base import Tap

    from tap_leads.config.run_settings import RunSettings
    from tap_leads.engine.endpoint import Auth
    from tap_leads.engine.fetch import PageFetcher
    from tap_leads.engine.scheduler import Lane, Scheduler
    from tap_leads.providers.accounts import Account
    from tap_leads.providers.spec import ProviderSpec


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
        #: The run's own settings, read once by the tap.
        self.run: RunSettings = tap.run_settings  # type: ignore[attr-defined]
        #: The accounts form: records carry the account, and each account is a partition.
        self.list_form = has_accounts(config, self.spec)
        detect = self.run.detect_deletes
        #: Deleted leads are also sent into this stream, as their key and _sdc_deleted_at.
        self.tombstones = detect and self.run.tombstones
        schema = load_schema(
            self.name,
            accounts=self.list_form,
            tombstones=self.tombstones,
            package=self.spec.schemas,
        )
        super().__init__(tap=tap, schema=schema)
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
            self.run,
            self.shaper,
            self.logger,
            f"{tap.name}/{tap.plugin_version}",
            self.auth,
        )
        self.walk_settings = WalkSettings(
            max_rewalks=self.run.max_rewalks,
            lookback_seconds=self.run.lookback_window_seconds,
            detect_deletes=detect,
            max_deleted_fraction=self.run.max_deleted_fraction,
            run_started=format_timestamp(datetime.now(UTC)),
        )
        if detect:
            # Every STATE holds every account's membership: one per stream, not per 10,000
            # records, keeps a run's STATE messages within a few times the final state.
            self.STATE_MSG_FREQUENCY = 1 << 62
        #: The account being walked: its threshold, greatest value and membership.
        self.walk: AccountWalk | None = None
        #: The listing being read: the stream, or one account (and Teli organisation).
        self.progress = Progress(self.name, self.logger, self.run.progress_interval_seconds)
        #: Leads emitted over every listing, for the run's summary.
        self.emitted = 0
        #: --test: read the first page of each listing and emit at most one lead of it.
        self.first_page_only = False
        #: What failed, one line per account (or one for the stream), for the run's summary.
        self.failures: list[str] = []
        #: Accounts whose organisations could not be listed.
        self.unlisted = 0
        sdk_hooks.quiet_sdk_notes([self.logger])

    def auth(self, account: Account) -> Auth:
        # Refreshed tokens reach every page fetch, since the fetcher reads them per request.
        context = AuthContext(
            account.key, account.prefix, self.run.request_timeout, self._tap.mask_secret
        )
        return self.spec.auth(account.settings, context)

    # ----- sources and lanes ------------------------------------------------

    @cached_property
    def sources(self) -> list[Source]:
        """Every listing this run reads, in emission order (a sharded run takes its share)."""
        found: list[Source] = []
        taken = selected_accounts(self.config, self.spec)
        self._announce_shard(len(taken))
        for account in taken:
            try:
                found += self.builder.expand(account)
            except TapLeadsError as exc:
                self.unlisted += 1
                self._failed(f"[{account.name}]" if account.name else "", exc)
        return found

    def _announce_shard(self, taken: int) -> None:
        shard = parse_shard(self.config.get("shard"))
        if shard is not None:
            total = len(resolve(self.config, self.spec))
            self.logger.info(
                "%s: shard %d/%d takes %d of %d account(s).", self.name, *shard, taken, total
            )

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

    @cached_property
    def _by_context(self) -> dict[tuple | None, Source]:
        """Each source by its partition, so finding one costs the same for any number."""
        found: dict[tuple | None, Source] = {}
        for source in self.sources:
            found.setdefault(_context_key(source.context), source)
        return found

    def _source(self, context: Context | None) -> Source | None:
        return self._by_context.get(_context_key(context))

    @property
    def fetcher(self) -> PageFetcher:
        """The single block's fetcher (the first source's), for tools and tests."""
        return self.sources[0].fetcher

    def plan_lanes(self, scheduler: Scheduler) -> None:
        """One lane per source and listing pass, in the order they are emitted."""
        for source in self.sources:
            source.lanes = [
                scheduler.lane(
                    f"{self.name}{source.display}#{index}",
                    lambda token, number, f=source.fetcher, x=extra: f.fetch(token, number, x),
                    source.fetcher.window,
                    # --test reads the first page only: fetch none ahead.
                    fetch_ahead=not self.first_page_only,
                )
                for index, extra in enumerate(source.passes)
            ]

    def _lanes_of(self, source: Source) -> list[Lane]:
        if not source.lanes:
            # A sync outside the tap's own loop (e.g. a connection test) plans here.
            self.plan_lanes(self._tap.scheduler)
            self._tap.scheduler.start()
        return source.lanes

    # ----- syncing ----------------------------------------------------------

    def sync(self, context: Context | None = None) -> None:
        """Sync, keeping a failure to this stream: the tap's other streams go on."""
        try:
            super().sync(context)
        except TapLeadsError as exc:
            sdk_hooks.drop_progress_bookmark(self.stream_state)
            self._failed("", exc)
        finally:
            for source in self.sources:
                for lane in source.lanes:
                    lane.finish()
                source.fetcher.close()

    def _failed(self, where: str, exc: TapLeadsError) -> None:
        self.failures.append(f"{self.name}{where}: {exc}")
        self.logger.error("%s%s failed: %s", self.name, where, exc)

    def get_records(self, context: Context | None) -> Iterable[dict[str, t.Any]]:
        """Shaped leads of one source, each once; an account's failure stays its own."""
        for rows in self.get_record_pages(context):
            yield from rows

    def get_record_pages(self, context: Context | None) -> Iterator[list[dict[str, t.Any]]]:
        """get_records a page at a time (sdk_hooks.StreamShortcuts writes each page in
        one pass where the SDK's per-record path would do nothing this stream needs)."""
        source = self._source(context)
        if source is None:
            return
        if not self.list_form:
            yield from self._source_pages(source, context)
            return
        try:
            yield from self._source_pages(source, context)
        except TapLeadsError as exc:
            sdk_hooks.drop_progress_bookmark(self.get_context_state(context))
            self._failed(source.display, exc)

    def _source_pages(
        self, source: Source, context: Context | None
    ) -> Iterator[list[dict[str, t.Any]]]:
        state = self.get_context_state(context)
        self.progress = Progress(
            f"{self.name}{source.display}", self.logger, self.run.progress_interval_seconds
        )
        self.progress.starting(state.get("replication_key_value"), self.config.get("start_date"))
        # Partitions are synced one after another: each gets a walk of its own.
        self.walk = walk = AccountWalk(
            name=self.name,
            spec=self.spec,
            source=source,
            state=state,
            start=self.get_starting_timestamp(context),
            settings=self.walk_settings,
            record_limit=1 if self.first_page_only else self.ABORT_AT_RECORD_COUNT,
            logger=self.logger,
            progress=self.progress,
            absorb=self.shaper.report.absorb,
            flush=lambda: self._tap.message_writer.flush(force=False),
            first_page_only=self.first_page_only,
        )
        try:
            yield from walk.emitted_pages(self._lanes_of(source))
        finally:
            self.emitted += self.progress.emitted
            # Many accounts would otherwise keep their connections open until the stream ends.
            source.fetcher.close()
        self._report_departed(walk)
        self.shaper.log_summary()
        self.progress.finish(walk.seen.repeats)

    def _report_departed(self, walk: AccountWalk) -> None:
        """Leads that left the account's list: once in deleted_leads, and as tombstones."""
        if not walk.departed:
            return
        deleted = self._tap.streams.get(DELETED_STREAM)
        if deleted is not None:
            account = walk.source.account.name or ""
            deleted.report(self.name, account, walk.departed)  # type: ignore[attr-defined]
        if self.tombstones:
            key_types = self.schema["properties"][self.spec.primary_keys[0]].get("type", ())
            for tombstone in walk.tombstones(whole_keys="integer" in key_types):
                self._write_record_message(tombstone)
        self.logger.info(
            "%s%s: %d lead(s) left the list since the earlier run; reported in %s.",
            self.name,
            walk.source.display,
            len(walk.departed),
            DELETED_STREAM,
        )


@cache
def stream_class(spec: ProviderSpec) -> type[LeadsStream]:
    """The stream class of a provider: LeadsStream with the provider's spec."""
    name = "".join(part.title() for part in spec.key.split("_")) + "LeadsStream"
    return type(name, (LeadsStream,), {"spec": spec, "__module__": __name__})


def _context_key(context: t.Mapping[str, t.Any] | None) -> tuple | None:
    return tuple(sorted(context.items())) if context else None
