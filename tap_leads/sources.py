"""The accounts a stream reads: each with its own fetcher, auth and adaptive window.

An account is one set of credentials of a provider (the single block is one account
without a name). Teli's `org_id: "*"` makes one source per organisation the key lists.
"""

from __future__ import annotations

import threading
import typing as t
from dataclasses import dataclass, field

from tap_leads.engine.concurrency import AdaptiveWindow, RateLimiter
from tap_leads.engine.endpoint import Auth, Endpoint
from tap_leads.engine.fetch import PageFetcher
from tap_leads.engine.retry import RetryPolicy
from tap_leads.schemas import ACCOUNT_FIELD
from tap_leads.values import as_number

if t.TYPE_CHECKING:
    import logging
    from collections.abc import Callable

    from tap_leads.config.run_settings import RunSettings
    from tap_leads.engine.scheduler import Lane
    from tap_leads.providers.accounts import Account
    from tap_leads.providers.spec import ProviderSpec
    from tap_leads.records import RecordShaper


@dataclass
class Source:
    """One listing to read: an account, or one organisation of a Teli partner account."""

    account: Account
    org_id: str | None
    fetcher: PageFetcher
    passes: list[dict[str, str]]
    #: One lane of the run's scheduler per pass, once planned.
    lanes: list[Lane] = field(default_factory=list)

    @property
    def context(self) -> dict[str, str] | None:
        """The SDK partition: None for the single block, so its state stays as it was."""
        if self.account.name is None:
            return None
        context = {ACCOUNT_FIELD: self.account.name}
        if self.org_id is not None:
            context["org_id"] = self.org_id
        return context

    @property
    def display(self) -> str:
        """How failures name it: "" for the single block, else "[acme]" or "[acme/org]"."""
        if self.account.name is None:
            return ""
        org = f"/{self.org_id}" if self.org_id is not None else ""
        return f"[{self.account.name}{org}]"


@dataclass(frozen=True)
class SourceBuilder:
    """Builds a source's fetcher from the run's settings and one account's settings."""

    spec: ProviderSpec
    run: RunSettings
    shaper: RecordShaper
    logger: logging.Logger
    user_agent: str
    make_auth: Callable[[Account], Auth]
    #: Set once the provider answered in this run, whichever account asked.
    answered: threading.Event = field(default_factory=threading.Event)

    def build(self, account: Account, org_id: str | None = None) -> Source:
        spec, settings, run = self.spec, account.settings, self.run
        label = spec.label if account.name is None else f"{spec.label} account {account.name}"
        if org_id is not None:
            label += f" (organisation {org_id})"
        path_values = {"org_id": org_id} if org_id is not None else {}
        endpoint = Endpoint(
            settings=account.prefix,
            label=label,
            base_url=spec.base_url(settings),
            path=spec.request_path(settings, **path_values),
            params=spec.params(settings),
            headers={
                "Accept": "application/json",
                "Accept-Encoding": "gzip, deflate",
                "User-Agent": self.user_agent,
            },
            page_param=spec.page_param,
            timeout=run.request_timeout,
            credential_settings=spec.credential_settings(account.prefix),
            request_settings=spec.request_settings,
            secret_headers=tuple(spec.auth_headers(settings)),
            envelope_error=spec.envelope_error,
        )
        fetcher = PageFetcher(
            endpoint,
            auth=self.make_auth(account),
            policy=RetryPolicy(
                max_tries=run.max_tries,
                base_seconds=run.backoff_base_seconds,
                max_wait_seconds=run.max_retry_wait,
            ),
            envelope=spec.envelope(label, spec.page_size(settings)),
            shaper=self.shaper,
            # Rate limits are per key: each account backs off on its own.
            window=AdaptiveWindow(
                run.max_concurrent_requests,
                on_change=self._window_logger(label),
            ),
            limiter=RateLimiter(as_number(settings.get("requests_per_second"))),
            logger=self.logger,
            explain_404=lambda detail: spec.explain_404(settings, account.prefix, detail),
            answered=self.answered,
        )
        return Source(account, org_id, fetcher, spec.passes(settings))

    def expand(self, account: Account) -> list[Source]:
        """The account's sources: one, or one per organisation the provider lists for it
        (Teli's org_id "*")."""
        lister: Source | None = None

        def get_json(path: str) -> t.Any:
            nonlocal lister
            lister = lister or self.build(account, org_id="*")
            return lister.fetcher.get_json(path)

        try:
            organizations = self.spec.organizations(account.settings, get_json, account.prefix)
        finally:
            if lister is not None:
                lister.fetcher.close()
        if organizations is None:
            return [self.build(account)]
        return [self.build(account, org) for org in organizations]

    def _window_logger(self, label: str) -> Callable[[int, int, bool], None]:
        def changed(size: int, limit: int, shrank: bool) -> None:
            if shrank:
                self.logger.info(
                    "%s: throttled (HTTP 429), so at most %d of %d requests in flight now.",
                    label,
                    size,
                    limit,
                )
            else:
                self.logger.info("%s: back to %d of %d requests in flight.", label, size, limit)

        return changed
