"""LeadsStream: the HTTP, retry, paging and record handling shared by every provider."""

from __future__ import annotations

import functools
import json
import multiprocessing
import os
import signal
import sys
import time
import typing as t
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime, timedelta
from functools import cached_property
from importlib import resources
from urllib.parse import parse_qsl, urljoin, urlsplit, urlunsplit

import backoff
import orjson
import urllib3
from singer_sdk import RESTStream, metrics
from singer_sdk.helpers._state import PROGRESS_MARKERS
from singer_sdk.helpers._util import utc_now
from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.streams.rest import HTTPRequest, PageContext

from tap_leads.concurrency import AdaptiveWindow, PagePrefetcher, RateLimiter
from tap_leads.errors import (
    AuthError,
    GaveUpError,
    PaginationError,
    ProviderError,
    TransientError,
    error_detail,
)
from tap_leads.output import BufferedMsgSpecWriter
from tap_leads.pagination import EnvelopePaginator, Page, PageToken
from tap_leads.records import KeyLedger, RecordShaper
from tap_leads.retry import RETRYABLE_STATUSES, RetryPolicy, retry_after_seconds
from tap_leads.settings import as_number
from tap_leads.timestamps import parse_timestamp
from tap_leads.transport import Reply, Transport

if t.TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from singer_sdk import Tap
    from singer_sdk.helpers.types import Context

_DEFAULT_PORTS = {"http": 80, "https": 443}


def load_schema(stream_name: str) -> dict:
    return json.loads(
        resources.files("tap_leads.schemas").joinpath(f"{stream_name}.json").read_text()
    )


class LeadsStream(RESTStream[PageToken]):
    """One provider's "list leads" endpoint."""

    #: The provider's config block, e.g. "teli".
    provider: t.ClassVar[str]
    #: The provider's name as people write it.
    label: t.ClassVar[str]
    #: Settings that hold the credentials, named in auth errors.
    credential_settings: t.ClassVar[tuple[str, ...]]
    #: Filter setting -> API query parameter.
    filters: t.ClassVar[dict[str, str]] = {}
    page_param: t.ClassVar[str] = "page"
    page_size_param: t.ClassVar[str] = "page_size"
    default_page_size: t.ClassVar[int] = 100
    paginator_class: t.ClassVar[type[EnvelopePaginator]]

    is_sorted = False
    # RecordShaper already makes every value match the schema, at a fraction of the cost.
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE

    def __init__(self, tap: Tap) -> None:
        super().__init__(tap=tap, schema=load_schema(self.name))
        settings = self.config
        self.settings: dict[str, t.Any] = dict(settings[self.provider])
        self.retry_policy = RetryPolicy(
            max_tries=int(settings.get("max_tries", 8)),
            base_seconds=as_number(settings.get("backoff_base_seconds")) or 1.0,
            max_wait_seconds=float(settings.get("max_retry_wait", 300)),
        )
        self.window = AdaptiveWindow(int(settings.get("max_concurrent_requests", 8)))
        self.limiter = RateLimiter(as_number(self.settings.get("requests_per_second")))
        self.shaper = RecordShaper(
            self.schema,
            self.name,
            self.logger,
            # The SDK's flattening keeps `"status": null` as a key its flattened schema
            # lacks, which strict targets reject; an absent key flattens to null columns.
            omit_null_objects=bool(settings.get("flattening_enabled")),
        )
        #: Reads records out of envelopes; stateless use of a paginator, safe in any thread.
        self._reader = self.get_new_paginator()
        self.emitted = 0
        self._pass_params: dict[str, str] = {}
        self._greatest_seen: str | None = None
        self._extracted_at = utc_now().isoformat()
        #: Retries of the pages emitted so far, wherever they were fetched.
        self.retry_count = 0

    # ----- request building -------------------------------------------------

    @property
    def url_base(self) -> str:
        return str(self.settings["api_url"]).rstrip("/")

    @property
    def timeout(self) -> int:
        return int(self.config.get("request_timeout", 60))

    @property
    def page_size(self) -> int:
        return int(self.settings.get("page_size") or self.default_page_size)

    @property
    def http_headers(self) -> dict:
        return {
            "Accept": "application/json",
            "Accept-Encoding": "gzip, deflate",
            "User-Agent": self.user_agent,
        }

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

    def get_new_paginator(self) -> EnvelopePaginator:
        return self.paginator_class(self.label, self.page_size)

    def get_http_request(self, *, page: PageContext) -> HTTPRequest:
        token = page.next_page_token
        url = self.get_url(page.stream_context)
        params = {**self.base_params(), **self._pass_params}
        if isinstance(token, str):
            url, next_query = self.pin_next_url(token, url)
            # The next URL's own query wins, so no parameter is ever sent twice.
            params.update(next_query)
        else:
            params[self.page_param] = token or 1
        return HTTPRequest(url=url, method="GET", params=params, headers=self.http_headers)

    def pin_next_url(self, next_url: str, current_url: str) -> tuple[str, dict[str, str]]:
        """Follow a provider's next URL on the configured host only.

        The scheme is pinned to api_url's, since proxies often rewrite https to http.
        """
        target = urlsplit(urljoin(current_url, next_url))
        base = urlsplit(self.url_base)
        # A port is compared only when the link names one: the scheme is pinned anyway.
        base_port = base.port or _DEFAULT_PORTS.get(base.scheme)
        if target.hostname != base.hostname or target.port not in (None, base_port):
            raise PaginationError(
                f"{self.label} gave a next-page URL on another host ({target.netloc}) than "
                f"{self.provider}.api_url ({base.netloc}); refusing to follow it, so that "
                "credentials never leave the configured host."
            )
        url = urlunsplit((base.scheme, base.netloc, target.path, "", ""))
        return url, dict(parse_qsl(target.query, keep_blank_values=True))

    # ----- fetching ---------------------------------------------------------

    def fetch_page(self, context: Context | None, token: PageToken, number: int) -> Page:
        """Fetch and parse one page, retrying transient failures per the retry policy."""
        request = self.get_http_request(
            page=PageContext(stream_context=context, next_page_token=token)
        )
        retries: list[int | None] = []

        def tally(details: dict) -> None:
            retries.append(getattr(details.get("exception"), "status", None))

        attempt = backoff.on_exception(
            self.retry_policy.waits,
            TransientError,
            max_tries=self.retry_policy.max_tries,
            jitter=None,
            on_backoff=[self._log_retry, tally],
            logger=None,
        )(self._attempt)
        try:
            page = attempt(request, number)
        except TransientError as exc:
            raise GaveUpError(
                f"{self.label} still failed on page {number} after "
                f"{self.retry_policy.max_tries} tries: {exc}. {self.give_up_advice(exc)}"
            ) from exc
        # Shaping here puts that work wherever the page was fetched, off the emitting loop.
        rows = self._reader.records(page)
        return page._replace(
            rows=rows,
            shaping=self.shaper.shape_rows(rows),
            retries=len(retries),
            throttled=retries.count(429),
        )

    @cached_property
    def transport(self) -> Transport:
        return Transport(self.url_base, pool_size=self.window.limit, timeout=self.timeout)

    def _attempt(self, request: HTTPRequest, number: int) -> Page:
        self.limiter.wait()
        authenticator = self.authenticator
        params = {**request.params, **(getattr(authenticator, "auth_params", None) or {})}
        query = HTTPRequest(url=request.url, params=params).encode_params()
        url = f"{request.url}?{query}" if query else request.url
        headers = {**request.headers, **(getattr(authenticator, "auth_headers", None) or {})}
        host = urlsplit(self.url_base).netloc
        try:
            reply = self.transport.get(url, headers)
        except urllib3.exceptions.SSLError as exc:
            raise ProviderError(
                f"{self.label}: the TLS handshake with {host} failed ({_short_reason(exc)}). "
                f"Check {self.provider}.api_url: the scheme and host."
            ) from exc
        except urllib3.exceptions.TimeoutError as exc:
            raise TransientError(f"no answer within request_timeout ({self.timeout} s)") from exc
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise TransientError(f"the connection to {host} failed ({_short_reason(exc)})") from exc
        self._log_request_metric(reply)
        self.check_status(reply)
        try:
            body = orjson.loads(reply.body)
        except orjson.JSONDecodeError as exc:
            raise TransientError(
                f"the body of page {number} is not valid JSON "
                f"({len(reply.body)} bytes, probably cut off)"
            ) from exc
        if isinstance(body, dict) and body.get("success") is False:
            raise TransientError(
                f"{self.label} answered HTTP {reply.status} with success=false "
                f"({error_detail(body) or 'no error given'})"
            )
        self.window.succeeded()
        return Page(number=number, url=reply.url, body=body)

    def _log_request_metric(self, reply: Reply) -> None:
        """The SDK's per-request duration metric."""
        if not self._LOG_REQUEST_METRICS:
            return
        self._log_metric(
            metrics.Point(
                "timer",
                metric=metrics.Metric.HTTP_REQUEST_DURATION,
                value=reply.seconds,
                tags={
                    metrics.Tag.STREAM: self.name,
                    metrics.Tag.ENDPOINT: self.path,
                    metrics.Tag.HTTP_STATUS_CODE: reply.status,
                    metrics.Tag.STATUS: metrics.Status.SUCCEEDED
                    if reply.status < 400
                    else metrics.Status.FAILED,
                },
            )
        )

    def check_status(self, reply: Reply) -> None:
        """Raise the error class and message that fit a non-2xx status."""
        status = reply.status
        if status < 400:
            return
        detail = self.error_message(reply.body)
        if status in RETRYABLE_STATUSES:
            if status == 429:
                self.window.throttled()
            hint = retry_after_seconds(reply.headers)
            if hint and hint > self.retry_policy.max_wait_seconds:
                raise ProviderError(
                    f"{self.label} asked to wait {hint:.0f} s before the next request "
                    f"(HTTP {status}), longer than max_retry_wait "
                    f"({self.retry_policy.max_wait_seconds:g} s). Run the tap later, "
                    "or raise max_retry_wait."
                )
            raise TransientError(f"HTTP {status}{detail}", status=status, retry_after=hint)
        if status in (401, 403):
            raise AuthError(
                f"{self.label} rejected the credentials (HTTP {status}{detail}). "
                f"Check {' and '.join(self.credential_settings)}."
            )
        if status == 404:
            raise ProviderError(self.not_found_message(detail))
        raise ProviderError(
            f"{self.label} rejected the request (HTTP {status}{detail}). "
            f"Check the {self.provider} settings: "
            + ", ".join(f"{self.provider}.{name}" for name in [*self.filters, "page_size"])
            + "."
        )

    @staticmethod
    def error_message(body: bytes) -> str:
        """': <provider message>' from any of the five error body shapes, or ''."""
        try:
            detail = error_detail(orjson.loads(body))
        except orjson.JSONDecodeError:
            detail = None
        return f": {detail[:300]}" if detail else ""

    def not_found_message(self, detail: str) -> str:
        return (
            f"{self.label} answered HTTP 404{detail} for {self.path}. Check "
            f"{self.provider}.api_url: it is the API's base URL, without the endpoint path."
        )

    def give_up_advice(self, exc: TransientError) -> str:
        if exc.status == 429:
            return (
                f"Lower {self.provider}.requests_per_second or max_concurrent_requests, "
                "or raise max_tries."
            )
        if exc.status is None and "connection" in str(exc):
            return f"Check {self.provider}.api_url and the network."
        return "The provider looks unavailable: run the tap later, or raise max_tries."

    def _log_retry(self, details: dict) -> None:
        exc = details.get("exception")
        request_args = details.get("args") or (None, "?")
        hint = " as the server asked" if getattr(exc, "retry_after", None) else ""
        self.logger.info(
            "%s: page %s failed (%s); retry %d of %d in %.1f s%s.",
            self.label,
            request_args[1],
            exc,
            details.get("tries", 0),
            self.retry_policy.max_tries - 1,
            details.get("wait", 0.0),
            hint,
        )

    # ----- paging -----------------------------------------------------------

    def pages(self, context: Context | None) -> Iterator[Page]:
        """Every page in order, with its records, until the envelope says stop.

        Once the envelope announces a page count, the following pages are fetched
        concurrently; the envelope of each page still decides whether to go on.
        """
        paginator = self.get_new_paginator()
        prefetcher = self._prefetcher(context)
        forked = isinstance(prefetcher.executor, ProcessPoolExecutor)
        try:
            page = self.fetch_page(context, paginator.current_value, 1)
            while True:
                yield page
                paginator.advance(page)
                if paginator.finished:
                    return
                number, token = page.number + 1, paginator.current_value
                planned = paginator.announced_pages
                if prefetcher.enabled and planned and paginator.page_number(token) == number:
                    page = prefetcher.take(number, planned)
                    if forked:
                        # A fetcher process shrank its own copy of the window; shrink ours.
                        for _ in range(page.throttled):
                            self.window.throttled()
                else:
                    prefetcher.discard()
                    page = self.fetch_page(context, token, number)
        finally:
            prefetcher.close()

    def _prefetcher(self, context: Context | None) -> PagePrefetcher:
        """Pages ahead are fetched in forked processes where the platform allows.

        Fetching and parsing a page holds the GIL about as long as shaping and writing
        its leads, so threads only take turns on one core; processes use the other cores.
        A rate cap needs one clock for all requests, so it keeps threads.
        """
        if self.window.limit <= 1:
            return PagePrefetcher(lambda n: self.fetch_page(context, n, n), self.window)
        # fork is sound on Linux; on macOS system libraries (proxy look-ups among them)
        # may crash in a forked child, and Windows has no fork.
        if self.limiter.active or not sys.platform.startswith("linux"):
            return PagePrefetcher(lambda n: self.fetch_page(context, n, n), self.window)
        global _FORKED_STREAM  # noqa: PLW0603
        _FORKED_STREAM = self
        executor = ProcessPoolExecutor(
            max_workers=self.window.limit,
            mp_context=multiprocessing.get_context("fork"),
            initializer=_start_fetcher_process,
        )
        return PagePrefetcher(functools.partial(_fetch_forked, context), self.window, executor)

    def get_records(self, context: Context | None) -> Iterable[dict[str, t.Any]]:
        """Shaped, de-duplicated records of every pass, with progress in the log."""
        progress = _Progress(self)
        repeats = 0
        try:
            for pass_params in self.passes():
                self._pass_params = pass_params
                ledger = KeyLedger()
                yield from self._pass_records(context, ledger, progress)
                repeats += ledger.repeats
        finally:
            self._pass_params = {}
            self.transport.close()
        self.shaper.log_summary()
        progress.finish(repeats)
        if repeats:
            self._hold_bookmark(repeats)

    def _hold_bookmark(self, repeats: int) -> None:
        """Keep the previous bookmark after a run in which the list's order shifted.

        A lead seen on two pages means the order moved while the pages were read
        (Nexus ERP orders by a mutable next-call time), and a shift that repeats one
        lead can skip another. Promoting this run's bookmark could then lose that lead
        for good; keeping the previous one makes the next run read every change again.
        """
        markers = self.stream_state.get(PROGRESS_MARKERS) or {}
        markers.pop("replication_key", None)
        markers.pop("replication_key_value", None)
        self.logger.warning(
            "%s: the list's order changed while it was read (%d lead(s) appeared on two "
            "pages), so another lead may have been skipped. The bookmark stays at %s so "
            "that the next run reads every change again.",
            self.name,
            repeats,
            self.stream_state.get("replication_key_value") or "its previous value (none)",
        )

    def _pass_records(
        self, context: Context | None, ledger: KeyLedger, progress: _Progress
    ) -> Iterator[dict[str, t.Any]]:
        key = self.primary_keys[0]
        for page in self.pages(context):
            rows = page.rows
            self._extracted_at = utc_now().isoformat()
            self.shaper.report.absorb(page.shaping)
            self.retry_count += page.retries
            fresh = 0
            for row in rows:
                if ledger.first_time(row.get(key)):
                    fresh += 1
                    yield row
            if rows and not fresh:
                raise PaginationError(
                    f"{self.label} pagination loops: page {page.number} holds only leads "
                    "already read on earlier pages. Stopping so that no lead is loaded twice."
                )
            progress.page_done(len(rows))
        if ledger.repeats:
            self.logger.info(
                "%s: dropped %d lead(s) that appeared on more than one page.",
                self.name,
                ledger.repeats,
            )

    # ----- messages ---------------------------------------------------------

    @cached_property
    def _everything_selected(self) -> bool:
        mask = self.mask
        return all(mask[("properties", name)] for name in self.schema["properties"]) and all(
            mask.values()
        )

    def _write_record_message(self, record: dict) -> None:
        """Write the record's messages straight to the buffered writer.

        The SDK walks every field for deselection and builds a message object per record;
        when no field is deselected and the writer is ours, neither is needed.
        """
        writer = self._tap.message_writer
        if (
            not self._everything_selected
            or self._stream_version is not None
            or not isinstance(writer, BufferedMsgSpecWriter)
        ):
            super()._write_record_message(record)
            return
        for stream_map in self.stream_maps:
            mapped = stream_map.transform(record)
            if mapped is not None:
                writer.write_record(stream_map.stream_alias, mapped, self._extracted_at)
        self.state_manager.is_flushed = False

    def _process_record(
        self, record: dict, child_context: t.Any = None, partition_context: t.Any = None
    ) -> None:
        # Lead streams have no child streams and no partitions: nothing to do per record.
        if self.child_streams or partition_context:
            super()._process_record(record, child_context, partition_context)

    def _increment_stream_state(
        self, latest_record: dict, *, context: Context | None = None
    ) -> None:
        """Hand the SDK only records that raise the bookmark.

        The SDK keeps the greatest value anyway, but its bookkeeping per record costs as
        much as shaping the record. Values are fixed-width UTC strings, so comparing them
        orders them in time.
        """
        value = latest_record.get(self.replication_key) if self.replication_key else None
        if value is not None and (self._greatest_seen is None or value > self._greatest_seen):
            self._greatest_seen = value
            super()._increment_stream_state(latest_record, context=context)

    # ----- replication ------------------------------------------------------

    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        """Emit only leads changed at or after the bookmark (or start_date) less lookback."""
        threshold = self._threshold(context)
        if threshold is not None:
            changed = self.changed_at(row)
            # A lead whose change time cannot be read is emitted: never lose a lead.
            if changed is not None and changed < threshold:
                return None
        self.emitted += 1
        return row

    def changed_at(self, row: dict) -> datetime | None:
        """When the lead last changed, as far as the record tells."""
        return parse_timestamp(row.get(self.replication_key))

    def _threshold(self, context: Context | None) -> t.Any:
        if not hasattr(self, "_threshold_value"):
            start = self.get_starting_timestamp(context)
            lookback = timedelta(seconds=self.config.get("lookback_window_seconds") or 0)
            # The lookback applies to a bookmark, never to start_date.
            has_bookmark = bool(self.stream_state.get("replication_key_value"))
            self._threshold_value = start - lookback if start and has_bookmark else start
        return self._threshold_value


class _Progress:
    """A line every few seconds while a stream runs, and a summary when it ends."""

    def __init__(self, stream: LeadsStream) -> None:
        self.stream = stream
        self.interval = as_number(stream.config.get("progress_interval_seconds")) or 5.0
        self.started = self.last_report = time.monotonic()
        self.pages = self.rows = 0

    def page_done(self, rows: int) -> None:
        self.pages += 1
        self.rows += rows
        now = time.monotonic()
        if now - self.last_report >= self.interval:
            self.last_report = now
            self._log("progress", now)

    def finish(self, repeats: int) -> None:
        self._log("done", time.monotonic(), f", {repeats} repeat(s) dropped")

    def _log(self, what: str, now: float, extra: str = "") -> None:
        elapsed = max(now - self.started, 1e-9)
        self.stream.logger.info(
            "%s %s: %d page(s), %d lead(s) read, %d emitted, %.0f leads/s, %d retr%s%s, %.1f s.",
            self.stream.name,
            what,
            self.pages,
            self.rows,
            self.stream.emitted,
            self.rows / elapsed,
            self.stream.retry_count,
            "y" if self.stream.retry_count == 1 else "ies",
            extra,
            elapsed,
        )


#: The stream whose pages the forked fetcher processes serve; they inherit it.
_FORKED_STREAM: LeadsStream | None = None


def _start_fetcher_process() -> None:
    """First thing in each forked fetcher: its own sockets, no stdout, no signal handlers."""
    stream = _FORKED_STREAM
    assert stream is not None
    # A socket shared with the parent would interleave two conversations.
    stream.__dict__.pop("transport", None)
    # Singer messages are the parent's alone.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.close(devnull)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _fetch_forked(context: Context | None, number: int) -> Page:
    assert _FORKED_STREAM is not None
    return _FORKED_STREAM.fetch_page(context, number, number)


def _query_value(value: t.Any) -> t.Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def _short_reason(exc: Exception) -> str:
    text = str(exc)
    for marker in ("Connection refused", "Connection reset", "IncompleteRead", "timed out"):
        if marker in text:
            return marker
    return type(exc).__name__
