"""LeadsStream: what every provider's stream shares. It configures a page fetcher,
takes its pages from the run's scheduler in order, and emits the leads that changed."""

from __future__ import annotations

import json
import typing as t
from datetime import UTC, datetime
from functools import cached_property
from importlib import resources

from singer_sdk import Stream
from singer_sdk.helpers.conform import TypeConformanceLevel

from tap_leads import replication, sdk_hooks
from tap_leads.concurrency import AdaptiveWindow, RateLimiter
from tap_leads.errors import PaginationError, TapLeadsError
from tap_leads.fetch import Auth, Endpoint, PageFetcher
from tap_leads.progress import Progress
from tap_leads.records import KeyLedger, RecordShaper
from tap_leads.retry import RetryPolicy
from tap_leads.settings import as_number

if t.TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from singer_sdk import Tap
    from singer_sdk.helpers.types import Context

    from tap_leads.fetch import Page
    from tap_leads.pagination import EnvelopePaginator
    from tap_leads.scheduler import Lane, Scheduler


def load_schema(stream_name: str) -> dict:
    return json.loads(
        resources.files("tap_leads.schemas").joinpath(f"{stream_name}.json").read_text()
    )


class LeadsStream(sdk_hooks.StreamShortcuts, Stream):
    """One provider's "list leads" endpoint."""

    #: The provider's config block, e.g. "teli".
    provider: t.ClassVar[str]
    #: The provider's name as people write it.
    label: t.ClassVar[str]
    #: Settings that hold the credentials, named in auth errors.
    credential_settings: t.ClassVar[tuple[str, ...]]
    #: Filter setting -> API query parameter.
    filters: t.ClassVar[dict[str, str]] = {}
    path: t.ClassVar[str] = ""
    page_param: t.ClassVar[str] = "page"
    page_size_param: t.ClassVar[str] = "page_size"
    default_page_size: t.ClassVar[int] = 100
    paginator_class: t.ClassVar[type[EnvelopePaginator]]
    #: Fields whose latest value tells when a lead last changed.
    change_keys: t.ClassVar[tuple[str, ...]] = ()

    is_sorted = False
    # RecordShaper already makes every value match the schema, at a fraction of the cost.
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE

    def __init__(self, tap: Tap) -> None:
        super().__init__(tap=tap, schema=load_schema(self.name))
        config = self.config
        self.settings: dict[str, t.Any] = dict(config.get(self.provider) or {})
        self.shaper = RecordShaper(
            self.schema,
            self.name,
            self.logger,
            # The SDK's flattening keeps `"status": null` as a key its flattened schema
            # lacks, which strict targets reject; an absent key flattens to null columns.
            omit_null_objects=bool(config.get("flattening_enabled")),
        )
        self.window = AdaptiveWindow(
            int(config.get("max_concurrent_requests", 8)), on_change=self._window_changed
        )
        self._lanes: dict[int, Lane] = {}
        self._greatest_seen_by_context: dict[t.Any, str] = {}
        self._extracted_at = _now()
        self.progress = Progress(
            self.name, self.logger, as_number(config.get("progress_interval_seconds")) or 5.0
        )
        self.failure: TapLeadsError | None = None

    # ----- what the fetcher needs -------------------------------------------

    @property
    def page_size(self) -> int:
        return int(self.settings.get("page_size") or self.default_page_size)

    def auth(self) -> Auth:
        raise NotImplementedError

    def extra_headers(self) -> dict[str, str]:
        return {}

    def base_params(self) -> dict[str, t.Any]:
        """Filters under the API's own names, and the page size."""
        params = {
            api_name: _query_value(self.settings[setting])
            for setting, api_name in self.filters.items()
            if self.settings.get(setting) not in (None, "")
        }
        params[self.page_size_param] = self.page_size
        return params

    def passes(self) -> list[dict[str, str]]:
        """Extra query parameters of each listing pass; one plain pass by default."""
        return [{}]

    def explain_404(self, detail: str) -> str | None:
        return None

    def new_paginator(self) -> EnvelopePaginator:
        return self.paginator_class(self.label, self.page_size)

    @cached_property
    def fetcher(self) -> PageFetcher:
        config = self.config
        endpoint = Endpoint(
            settings=self.provider,
            label=self.label,
            base_url=str(self.settings["api_url"]).rstrip("/"),
            path=self.path,
            params=self.base_params(),
            headers={
                "Accept": "application/json",
                "Accept-Encoding": "gzip, deflate",
                "User-Agent": f"{self._tap.name}/{self._tap.plugin_version}",
                **self.extra_headers(),
            },
            page_param=self.page_param,
            timeout=float(config.get("request_timeout", 60)),
            credential_settings=self.credential_settings,
            request_settings=(*self.filters, "page_size"),
        )
        return PageFetcher(
            endpoint,
            auth=self.auth(),
            policy=RetryPolicy(
                max_tries=int(config.get("max_tries", 8)),
                base_seconds=as_number(config.get("backoff_base_seconds")) or 1.0,
                max_wait_seconds=float(config.get("max_retry_wait", 300)),
            ),
            reader=self.new_paginator(),
            shaper=self.shaper,
            window=self.window,
            limiter=RateLimiter(as_number(self.settings.get("requests_per_second"))),
            logger=self.logger,
            explain_404=self.explain_404,
        )

    def _window_changed(self, size: int, limit: int, shrank: bool) -> None:
        if shrank:
            self.logger.info(
                "%s: throttled (HTTP 429), so at most %d of %d requests in flight now.",
                self.label,
                size,
                limit,
            )
        else:
            self.logger.info("%s: back to %d of %d requests in flight.", self.label, size, limit)

    # ----- lanes ------------------------------------------------------------

    def plan_lanes(self, scheduler: Scheduler) -> None:
        """One lane per listing pass, in the order they are emitted."""
        for index, extra in enumerate(self.passes()):
            self._lanes[index] = scheduler.lane(
                f"{self.name}#{index}",
                lambda token, number, extra=extra: self.fetcher.fetch(token, number, extra),
                self.window,
                plan=self._plan_page,
            )

    def _plan_page(self, page: Page) -> tuple[int | None, bool]:
        """How many pages the envelope announces, and whether its pages count up from 1."""
        reader = self.fetcher.reader
        announced = reader.announced_total_pages(reader.envelope(page.body))
        numbered = reader.has_more(page) and reader.page_number(reader.get_next(page)) == 2
        return announced, numbered

    def _lane(self, index: int) -> Lane:
        if index not in self._lanes:
            # A sync outside the tap's own loop (e.g. a connection test) plans here.
            self.plan_lanes(self._tap.scheduler)
            self._tap.scheduler.start()
        return self._lanes[index]

    # ----- syncing ----------------------------------------------------------

    def sync(self, context: Context | None = None) -> None:
        """Sync, keeping a failure to this stream: the tap's other streams go on."""
        try:
            super().sync(context)
        except TapLeadsError as exc:
            self.failure = exc
            sdk_hooks.drop_progress_bookmark(self.stream_state)
            self.logger.error("%s failed: %s", self.name, exc)
        finally:
            for lane in self._lanes.values():
                lane.finish()
            self.fetcher.close()

    def pages(self, lane: Lane) -> Iterator[Page]:
        """Every page in order, until the envelope says stop."""
        paginator = self.new_paginator()
        page = lane.take(1, 1)
        while True:
            yield page
            paginator.advance(page)
            if paginator.finished:
                return
            number, token = page.number + 1, paginator.current_value
            if isinstance(token, str):
                # Refuse a foreign host even when the page is fetched by its number.
                self.fetcher.pin_next_url(token)
            if paginator.page_number(token) == number:
                token = number
            page = lane.take(number, token)

    def get_records(self, context: Context | None) -> Iterable[dict[str, t.Any]]:
        """Shaped leads of every pass, each once, with progress in the log."""
        self._threshold = replication.Threshold(
            self.get_starting_timestamp(context),
            has_bookmark=bool(self.stream_state.get("replication_key_value")),
            lookback_seconds=float(self.config.get("lookback_window_seconds") or 0),
        )
        # A connection test asks for a few records per stream; stop there, quietly.
        self._record_limit = self.ABORT_AT_RECORD_COUNT
        emitted = KeyLedger()
        for index in range(len(self.passes())):
            lane = self._lane(index)
            try:
                yield from self._walk_until_still(lane, emitted)
            finally:
                lane.finish()
            if self._limit_reached():
                break
        self.shaper.log_summary()
        self.progress.finish(emitted.repeats)

    def _limit_reached(self) -> bool:
        return self._record_limit is not None and self.progress.emitted >= self._record_limit

    def _walk_until_still(self, lane: Lane, emitted: KeyLedger) -> Iterator[dict[str, t.Any]]:
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
            yield from self._walk(lane, emitted, walk_keys, watch)
            moved = None if self._limit_reached() else watch.movement()
            if moved is None:
                if moves:
                    self.logger.warning(
                        "%s: the list moved while it was read (%s), so it was read again at "
                        "once (%d more time(s)): %d lead(s) no earlier walk had read were "
                        "emitted, and the last walk saw a still list, so the bookmark advances.",
                        self.name,
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
                    self.stream_state,
                    self.logger,
                    self.name,
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
        self, lane: Lane, emitted: KeyLedger, walk_keys: KeyLedger, watch: replication.ListWatch
    ) -> Iterator[dict[str, t.Any]]:
        """One walk of the list: its leads not emitted yet, and what the walk saw."""
        key = self.primary_keys[0]
        reader = self.fetcher.reader
        rewalk = walk_keys is not emitted
        for page in self.pages(lane):
            rows = page.rows
            self._extracted_at = _now()
            self.shaper.report.absorb(page.shaping)
            fresh = 0
            repeats = walk_keys.repeats
            for row in rows:
                value = row.get(key)
                if not walk_keys.first_time(value):
                    continue
                fresh += 1
                if rewalk and not emitted.first_time(value):
                    continue
                yield row
                if self._limit_reached():
                    return
            if rows and not fresh:
                raise PaginationError(
                    f"{self.label} pagination loops: page {page.number} holds only leads "
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
        return replication.changed_at(row, self.change_keys or (self.replication_key,))


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _query_value(value: t.Any) -> t.Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value
