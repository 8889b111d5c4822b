"""A standalone page fetcher: one provider endpoint, its auth, retries and error messages.

It is built from plain values and needs no Stream, Tap or catalog, so any thread can
use it and tests can drive it against a server directly.
"""

from __future__ import annotations

import logging
import threading
import typing as t
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from tap_leads.engine import budget
from tap_leads.engine.page import Page, PageToken
from tap_leads.engine.quota import Quota
from tap_leads.engine.replies import ReplyChecker
from tap_leads.engine.retry import RetryPolicy
from tap_leads.engine.transport import Reply, Transport
from tap_leads.errors import (
    GaveUpError,
    PaginationError,
    TransientError,
)

if t.TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from tap_leads.engine.concurrency import AdaptiveWindow, RateLimiter
    from tap_leads.engine.endpoint import Auth, Endpoint
    from tap_leads.engine.pagination import Envelope
    from tap_leads.records import RecordShaper

_DEFAULT_PORTS = {"http": 80, "https": 443}


class PageFetcher:
    """Fetch, parse and shape one page, retrying what is worth retrying."""

    def __init__(
        self,
        endpoint: Endpoint,
        *,
        auth: Auth,
        policy: RetryPolicy,
        envelope: Envelope,
        shaper: RecordShaper,
        window: AdaptiveWindow,
        limiter: RateLimiter,
        logger: logging.Logger,
        explain_404: Callable[[str], str | None] | None = None,
        answered: threading.Event | None = None,
        quota: Quota | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.auth = auth
        self.policy = policy
        self.envelope = envelope
        self.shaper = shaper
        self.window = window
        self.limiter = limiter
        self.logger = logger
        #: Set once the provider answered in this run (shared by the provider's accounts):
        #: until then a refused connection is a wrong api_url more likely than an outage.
        self.answered = answered if answered is not None else threading.Event()
        self.quota = quota if quota is not None else Quota(endpoint.label, logger)
        self.replies = ReplyChecker(
            endpoint, auth, policy, window, explain_404, answered=self.answered
        )
        self._transport: Transport | None = None

    @property
    def label(self) -> str:
        return self.endpoint.label

    @property
    def transport(self) -> Transport:
        if self._transport is None:
            self._transport = Transport(
                self.endpoint.base_url,
                pool_size=self.window.limit,
                timeout=self.endpoint.timeout,
                secret_headers=self.endpoint.secret_headers,
            )
        return self._transport

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()
            self._transport = None

    # ----- requests ---------------------------------------------------------

    def request_url(self, token: PageToken, extra: Mapping[str, t.Any] | None = None) -> str:
        """The URL of the page that `token` asks for, with every parameter once."""
        endpoint = self.endpoint
        url = endpoint.url
        params = {**endpoint.params, **(extra or {})}
        if isinstance(token, str):
            url, next_query = self.pin_next_url(token)
            # The next URL's own query wins, so no parameter is ever sent twice.
            params.update(next_query)
        else:
            params[endpoint.page_param] = token
        query = urlencode(params)
        return f"{url}?{query}" if query else url

    def pin_next_url(self, next_url: str) -> tuple[str, dict[str, str]]:
        """Follow a provider's next URL on the configured host only.

        The scheme is pinned to api_url's, since proxies often rewrite https to http.
        """
        target = urlsplit(urljoin(self.endpoint.url, next_url))
        base = urlsplit(self.endpoint.base_url)
        # A port is compared only when the link names one: the scheme is pinned anyway.
        base_port = base.port or _DEFAULT_PORTS.get(base.scheme)
        if target.hostname != base.hostname or target.port not in (None, base_port):
            raise PaginationError(
                f"{self.label} gave a next-page URL on another host ({target.netloc}) than "
                f"{self.endpoint.settings}.api_url ({base.netloc}); refusing to follow it, so "
                "that credentials never leave the configured host."
            )
        url = urlunsplit((base.scheme, base.netloc, target.path, "", ""))
        return url, dict(parse_qsl(target.query, keep_blank_values=True))

    def fetch(
        self, token: PageToken, number: int, extra: Mapping[str, t.Any] | None = None
    ) -> Page:
        """Fetch, parse and shape one page, retrying transient failures per the policy.

        The envelope is read here, once, into the page's facts."""
        page = self._retrying(self.request_url(token, extra), number)
        rows, next_token, total, total_pages = self.envelope.read(page.body, number)
        return page._replace(
            body=None,
            rows=rows,
            shaping=self.shaper.shape_rows(rows),
            next=next_token,
            total=total,
            total_pages=total_pages,
        )

    def get_json(self, path: str) -> t.Any:
        """GET another endpoint of the same API (e.g. a list of organisations), parsed."""
        return self._retrying(self.endpoint.base_url.rstrip("/") + path, 0, what=path).body

    def _retrying(self, url: str, number: int, what: str | None = None) -> Page:
        waits = self.policy.waits()
        next(waits)
        retries: list[int | None] = []
        while True:
            try:
                page = self._attempt(url, number)
            except TransientError as exc:
                tries = len(retries) + 1
                quick = exc.max_tries
                if tries >= self.policy.max_tries or (quick is not None and tries >= quick):
                    raise GaveUpError(
                        self.replies.give_up_message(exc, number, tries, what)
                    ) from exc
                wait = waits.send(exc)
                retries.append(exc.status)
                self._log_retry(exc, number, tries, wait)
                # A request waiting to be retried holds no slot of the run's budget.
                budget.pause(wait)
                continue
            return page._replace(retries=len(retries))

    def _attempt(self, url: str, number: int) -> Page:
        reply, sent = self._get(url)
        if reply.status == 401 and self.auth.after_unauthorized(sent):
            reply, _ = self._get(url)
        self.replies.check_status(reply)
        return Page(number=number, body=self.replies.parse(reply, number))

    def _get(self, url: str) -> tuple[Reply, Mapping[str, str]]:
        # Waits for the rate cap or a spent quota hold no slot of the run's budget.
        budget.pause(self.limiter.delay())
        while (held := self.quota.delay()) > 0:
            budget.pause(held)
        headers: Mapping[str, str] | None = None
        try:
            auth = self.auth.headers()
            try:
                reply = self.transport.get(url, {**self.endpoint.headers, **auth})
            except Exception as exc:
                raise self.replies.connection_error(exc) from exc
            headers = reply.headers
        finally:
            self.quota.settle(headers)
        self.answered.set()
        return reply, auth

    def _log_retry(self, exc: TransientError, number: int, tries: int, wait: float) -> None:
        hint = " as the server asked" if exc.status and exc.retry_after else ""
        self.logger.info(
            "%s: page %s failed (%s); retry %d of %d in %.1f s%s.",
            self.label,
            number,
            exc,
            tries,
            self.policy.max_tries - 1,
            wait,
            hint,
        )
