"""The accounts a stream reads: each with its own fetcher, auth and adaptive window.

An account is one set of credentials of a provider (the single block is one account
without a name). Teli's `org_id: "*"` makes one source per organisation the key lists.
"""

from __future__ import annotations

import threading
import typing as t
from dataclasses import dataclass, field

from tap_leads.auth.static import StaticAuth
from tap_leads.config.provider_checks import as_number
from tap_leads.engine.concurrency import AdaptiveWindow, RateLimiter
from tap_leads.engine.endpoint import Auth, Endpoint
from tap_leads.engine.fetch import PageFetcher
from tap_leads.engine.retry import RetryPolicy
from tap_leads.errors import ProviderError
from tap_leads.schemas import ACCOUNT_FIELD

if t.TYPE_CHECKING:
    import logging
    from collections.abc import Callable, Mapping

    from tap_leads.engine.scheduler import Lane
    from tap_leads.providers import Account, ProviderSpec
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
    config: Mapping[str, t.Any]
    shaper: RecordShaper
    logger: logging.Logger
    user_agent: str
    make_auth: Callable[[Account], Auth]
    #: Set once the provider answered in this run, whichever account asked.
    answered: threading.Event = field(default_factory=threading.Event)

    def build(self, account: Account, org_id: str | None = None) -> Source:
        spec, settings, config = self.spec, account.settings, self.config
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
                **spec.extra_headers(settings),
            },
            page_param=spec.page_param,
            timeout=float(config.get("request_timeout") or 60),
            credential_settings=spec.credential_settings(account.prefix),
            request_settings=spec.request_settings,
        )
        fetcher = PageFetcher(
            endpoint,
            auth=self.make_auth(account),
            policy=RetryPolicy(
                max_tries=int(config.get("max_tries") or 8),
                base_seconds=as_number(config.get("backoff_base_seconds")) or 1.0,
                max_wait_seconds=float(config.get("max_retry_wait") or 300),
            ),
            envelope=spec.envelope(label, spec.page_size(settings)),
            shaper=self.shaper,
            # Rate limits are per key: each account backs off on its own.
            window=AdaptiveWindow(
                int(config.get("max_concurrent_requests") or 8),
                on_change=self._window_logger(label),
            ),
            limiter=RateLimiter(as_number(settings.get("requests_per_second"))),
            logger=self.logger,
            explain_404=lambda detail: spec.explain_404(settings, account.prefix, detail),
            answered=self.answered,
        )
        return Source(account, org_id, fetcher, spec.passes(settings))

    def expand(self, account: Account) -> list[Source]:
        """The account's sources: one, or one per organisation for Teli's org_id "*"."""
        if not self.spec.is_wildcard(account.settings, "org_id"):
            return [self.build(account)]
        lister = self.build(account, org_id="*")
        try:
            return [self.build(account, org) for org in self.organizations(account, lister)]
        finally:
            lister.fetcher.close()

    def organizations(self, account: Account, lister: Source) -> list[str]:
        """The unique_ids of the organisations the key can list, read leniently."""
        path = self.spec.organizations_path or "/v1/organizations"
        body = lister.fetcher.get_json(path)
        items = body
        if isinstance(body, dict):
            items = next(
                (
                    body[key]
                    for key in ("organizations", "organisations", "data", "results")
                    if isinstance(body.get(key), list)
                ),
                None,
            )
        ids = (
            [str(item.get("unique_id") or item.get("id") or "") for item in items]
            if isinstance(items, list) and all(isinstance(item, dict) for item in items)
            else None
        )
        if ids is None or not all(ids):
            raise ProviderError(
                f"{self.spec.label} answered GET {path} without a list of organisations "
                f'(each with a unique_id), so {account.prefix}.org_id "*" cannot be '
                f"expanded. Set {account.prefix}.org_id to one organisation's unique_id."
            )
        return list(dict.fromkeys(ids))

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


def static_auth(spec: ProviderSpec, account: Account) -> Auth:
    return StaticAuth(spec.auth_headers(account.settings))
