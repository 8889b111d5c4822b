"""ProviderRouter: picks the account a request is for by the credential it carries, then lets
that account answer within its rate limit and its announced quota."""

from __future__ import annotations

import threading
from typing import Any

from .accounts import DEFAULT_ACCOUNT, Account
from .faults import Fault, ProviderFaults
from .http_server import pause
from .providers.base import ANSWER
from .providers.teli import TeliAPI
from .quota import DEFAULT_QUOTA, AnnouncedQuota
from .ratelimit import RateLimit
from .wire import Request, Response


class ProviderRouter:
    """Chooses the account a request is for by its credential, then lets that account answer."""

    def __init__(self, provider: str, shared: ProviderFaults, *, announces: bool = False) -> None:
        self.provider = provider
        self.shared = shared
        self.accounts: dict[str, Account] = {}
        self.revoked: set[str] = set()
        self.limits: dict[str, RateLimit] = {}
        #: Whether the provider's docs announce a quota on every answer (X-RateLimit-*).
        self.announces = announces
        #: The quota each account gets unless set apart: (spec, enforced).
        self.quota_spec: tuple[str, bool] | None = None
        self.quotas: dict[str, AnnouncedQuota] = {}
        self._hints: dict[tuple[str | None, str | None], str] = {}
        self._lock = threading.Lock()
        self.reset_quotas()

    def install(self, accounts: dict[str, Account]) -> None:
        with self._lock:
            self.accounts = accounts
            self._hints = {}

    @property
    def default(self) -> Account:
        return self.accounts[DEFAULT_ACCOUNT]

    def account(self, name: str | None) -> Account:
        try:
            return self.accounts[DEFAULT_ACCOUNT if name is None else name]
        except KeyError:
            raise KeyError(
                f"{self.provider} has no account {name!r}; it has {list(self.accounts)}"
            ) from None

    def handle(self, request: Request, path: str, latency_ms: float) -> tuple[Response, str | None]:
        """The response, and the name of the account whose credential the request carried."""
        front = self.default.api
        routed = front.route(request, path)
        if isinstance(routed, Response):
            pause(latency_ms + self.shared.latency_ms)
            return routed, None
        if request.method != "GET":
            pause(latency_ms + self.shared.latency_ms)
            return front.error(405, f"Method {request.method} not allowed."), None
        account, refusal = self.authenticate(request)
        if account is None:
            assert refusal is not None
            pause(latency_ms + self.shared.latency_ms)
            return refusal, None
        api = account.routed_api(routed)
        quota = self.quota(account.name)
        told = quota.count() if quota is not None else None
        if told is not None and told.refused:
            pause(latency_ms + api.faults.latency_ms)
            refused = api.throttled(told.retry_after)
            refused.headers += told.headers()
            return refused, account.name
        limit = self.limits.get(account.name)
        if limit is not None:
            wait = limit.acquire()
            if wait is not None:
                pause(latency_ms + api.faults.latency_ms)
                return api.rate_limited(Fault("rate_limit", retry_after=wait)), account.name
        try:
            if routed.get("endpoint") == "organizations":
                response = self.organizations(account)
            else:
                response = api.serve(request, routed)
            pause(latency_ms + api.faults.latency_ms)
        finally:
            if limit is not None:
                limit.release()
        if told is not None and not any(
            name.lower() == "x-ratelimit-remaining" for name, _ in response.headers
        ):
            response.headers += told.headers()
        return response, account.name

    # Announced quotas (quota.py)

    def quota(self, name: str) -> AnnouncedQuota | None:
        """The account's quota; None when the provider announces none."""
        with self._lock:
            quota = self.quotas.get(name)
            if quota is None and self.quota_spec is not None:
                spec, enforced = self.quota_spec
                quota = self.quotas[name] = AnnouncedQuota.parse(spec, enforced=enforced)
        return quota

    def set_quota(self, spec: str | None, *, account: str | None, enforced: bool) -> None:
        """A quota (e.g. "25/s") for one account, or for every account when account is None;
        spec None goes back to what the provider announces by default."""
        if not self.announces:
            raise ValueError(
                f"{self.provider} documents no quota headers; set_rate_limit limits it instead"
            )
        if spec is None:
            self.reset_quotas()
            return
        quota = AnnouncedQuota.parse(spec, enforced=enforced)
        with self._lock:
            if account is None:
                self.quota_spec = (spec, enforced)
                self.quotas.clear()
            else:
                self.quotas[self.account(account).name] = quota

    def reset_quotas(self) -> None:
        with self._lock:
            self.quota_spec = (DEFAULT_QUOTA, False) if self.announces else None
            self.quotas.clear()

    def authenticate(self, request: Request) -> tuple[Account | None, Response | None]:
        """The account whose credential the request carries, or the provider's refusal."""
        headers = request.headers
        fingerprint = (headers.get("authorization"), headers.get("x-api-key"))
        accounts = self.accounts
        # Most requests carry the credential that the previous one with these headers did.
        hint = accounts.get(self._hints.get(fingerprint, ""))
        if (
            hint is not None
            and hint.name not in self.revoked
            and hint.api.authenticate(request) is None
        ):
            return hint, None
        refusal: Response | None = None
        unknown: Response | None = None
        for account in accounts.values():
            if account.name in self.revoked:
                continue
            denied = account.api.authenticate(request)
            if denied is None:
                if len(self._hints) > 4096:
                    self._hints.clear()
                self._hints[fingerprint] = account.name
                return account, None
            if denied.status != 401:
                # The credential was right but something beside it was not (Flextell's tenant).
                refusal = refusal or denied
            elif account.name == DEFAULT_ACCOUNT:
                unknown = denied
        if refusal is not None:
            return None, refusal
        if unknown is not None:
            return None, unknown
        # Only the default account's credential matched, and it is revoked.
        front = self.default.api
        denied = front.authenticate(request)
        if denied is None or denied.status != 401:
            denied = front.invalid_key()
        return None, denied

    def organizations(self, account: Account) -> Response:
        api = account.api
        assert isinstance(api, TeliAPI)
        answer = api.faults.take(ANSWER, None)
        if answer:
            return api.fault_response(next(iter(answer.values())))
        return api.organizations([a.world.organization() for a in account.apis])  # type: ignore[attr-defined]

    def describe(self) -> list[dict[str, Any]]:
        described = []
        for account in self.accounts.values():
            entry: dict[str, Any] = {
                "name": account.name,
                "credentials": dict(account.secrets),
                "leads": [len(api.dataset.live) for api in account.apis],
                "revoked": account.name in self.revoked,
                "rate_limit": None,
            }
            limit = self.limits.get(account.name)
            if limit is not None:
                entry["rate_limit"] = limit.as_json()
            quota = self.quota(account.name)
            if quota is not None:
                entry["quota"] = quota.as_json()
            if self.provider == "teli":
                entry["organizations"] = [
                    {"unique_id": api.world.org["unique_id"], "name": api.world.org["name"]}  # type: ignore[attr-defined]
                    for api in account.apis
                ]
            described.append(entry)
        return described
