"""ProviderRouter: picks the account a request is for by the credential it carries, then lets
that account answer within its rate limit."""

from __future__ import annotations

import threading
from typing import Any

from .accounts import DEFAULT_ACCOUNT, Account
from .faults import Fault, ProviderFaults
from .http_server import pause
from .providers.base import ANSWER
from .providers.teli import TeliAPI
from .ratelimit import RateLimit
from .wire import Request, Response


class ProviderRouter:
    """Chooses the account a request is for by its credential, then lets that account answer."""

    def __init__(self, provider: str, shared: ProviderFaults) -> None:
        self.provider = provider
        self.shared = shared
        self.accounts: dict[str, Account] = {}
        self.revoked: set[str] = set()
        self.limits: dict[str, RateLimit] = {}
        self._hints: dict[tuple[str | None, str | None], str] = {}
        self._lock = threading.Lock()

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
        return response, account.name

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
            if self.provider == "teli":
                entry["organizations"] = [
                    {"unique_id": api.world.org["unique_id"], "name": api.world.org["name"]}  # type: ignore[attr-defined]
                    for api in account.apis
                ]
            described.append(entry)
        return described
