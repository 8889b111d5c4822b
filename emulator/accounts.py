"""Several accounts per provider, told apart by the credential each request carries.

Every provider has the account "default": the credential and the seeded leads the emulator has
always served. Named accounts come on top, each with its own credential, its own leads (their
integer ids numbered from the same start as the default account's, so they collide as two real
accounts' ids do), its own faults and, optionally, its own rate limit. A Teli account is an API
key that sees one or more organisations, each with leads of its own.
"""

from __future__ import annotations

import base64
import binascii
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import orjson

from .data import SelaWorld, TeliWorld, make_world
from .faults import Fault, FaultChain, ProviderFaults
from .http_server import pause
from .providers import APIS, PROVIDERS, ProviderAPI
from .providers.base import ANSWER
from .providers.teli import TeliAPI
from .ratelimit import RateLimit
from .store import Dataset
from .wire import Request, Response

DEFAULT_ACCOUNT = "default"
# What LeadsEmulator(accounts=...) takes per provider: account names, or names mapped to a lead
# count (None: the provider's default size); for Teli, also to {organisation name: lead count}.
AccountsArg = Mapping[str, Iterable[str] | Mapping[str, int | Mapping[str, int] | None]]


@dataclass(frozen=True)
class AccountSpec:
    name: str
    orgs: tuple[tuple[str | None, int], ...]  # Teli: (organisation name, leads); else one entry


def parse_accounts(
    accounts: AccountsArg | None, sizes: dict[str, int]
) -> dict[str, list[AccountSpec]]:
    specs: dict[str, list[AccountSpec]] = {name: [] for name in PROVIDERS}
    for provider, value in (accounts or {}).items():
        if provider not in specs:
            raise ValueError(f"unknown provider {provider!r}; expected one of {list(PROVIDERS)}")
        items = value.items() if isinstance(value, Mapping) else ((name, None) for name in value)
        for name, size in items:
            if not isinstance(name, str) or not name:
                raise ValueError(f"{provider} account names must be non-empty strings")
            if name == DEFAULT_ACCOUNT or any(spec.name == name for spec in specs[provider]):
                raise ValueError(f"{provider} account name {name!r} is taken")
            if isinstance(size, Mapping):
                if provider != "teli":
                    raise ValueError("only a Teli account sees several organisations")
                if not size:
                    raise ValueError(f"teli account {name!r} needs at least one organisation")
                orgs = tuple((str(org), int(n)) for org, n in size.items())
            else:
                orgs = ((None, sizes[provider] if size is None else int(size)),)
            specs[provider].append(AccountSpec(name, orgs))
    return specs


class Account:
    """One credential: its leads (one dataset per organisation on Teli) and its own faults."""

    def __init__(
        self, provider: str, name: str, apis: list[ProviderAPI], faults: ProviderFaults
    ) -> None:
        self.provider = provider
        self.name = name
        self.apis = apis
        self.faults = faults

    @property
    def api(self) -> ProviderAPI:
        return self.apis[0]

    @property
    def secrets(self) -> dict[str, str]:
        return self.apis[0].secrets

    def org_api(self, org: str | None) -> ProviderAPI:
        """The API of one Teli organisation, by unique_id or name; None: the first one."""
        if org is None:
            return self.apis[0]
        for api in self.apis:
            world = api.world
            if isinstance(world, TeliWorld) and org in (world.org["unique_id"], world.org["name"]):
                return api
        raise KeyError(f"teli account {self.name!r} has no organisation {org!r}")

    def routed_api(self, routed: dict[str, str]) -> ProviderAPI:
        org_id = routed.get("org_id")
        if org_id is not None:
            for api in self.apis:
                if api.world.org["unique_id"] == org_id:  # type: ignore[attr-defined]
                    return api
        # An organisation the key cannot see: the first one answers, with Teli's 404.
        return self.apis[0]

    def add_api(self, api: ProviderAPI) -> None:
        if self.apis[0].secrets.get("org_id") is not None:
            api.secrets = {**self.apis[0].secrets, "org_id": api.world.org["unique_id"]}  # type: ignore[attr-defined]
        self.apis = [*self.apis, api]


def build_api(
    provider: str,
    seed: int,
    account: str,
    size: int,
    faults: FaultChain,
    *,
    org: str | None = None,
    tenant: str | None = None,
) -> ProviderAPI:
    """The API over a fresh dataset for a named account (or an added Teli organisation)."""
    world = make_world(provider, f"{seed}:{account}" if org is None else f"{seed}:{account}:{org}")
    if isinstance(world, SelaWorld):
        base = make_world(provider, seed)
        assert isinstance(base, SelaWorld)
        world.start_ids_at(base.next_id)
    if isinstance(world, TeliWorld):
        world.org["name"] = org or account
        world.tenant_id = tenant or account
    return APIS[provider](Dataset(world, size), faults)


class TokenIssuer(Protocol):
    def accepts(self, access_token: str | None) -> bool: ...


class AccountTokens:
    """The OAuth access tokens one Flextell account accepts: those issued on a refresh token
    minted for the account's name as subject. The default account also takes every subject
    that names no account, as it took every issued token before there were accounts."""

    def __init__(self, issuer: TokenIssuer, name: str, others: frozenset[str]) -> None:
        self.issuer = issuer
        self.name = name
        self.others = others

    def accepts(self, access_token: str | None) -> bool:
        if not self.issuer.accepts(access_token):
            return False
        subject = token_subject(access_token or "")
        if self.name == DEFAULT_ACCOUNT:
            return subject not in self.others
        return subject == self.name


def token_subject(token: str) -> str | None:
    """The "sub" claim of a JWT, unverified."""
    try:
        claims = token.split(".")[1]
        value = orjson.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))
    except (IndexError, ValueError, binascii.Error, orjson.JSONDecodeError):
        return None
    subject = value.get("sub") if isinstance(value, dict) else None
    return subject if isinstance(subject, str) else None


def share_token_issuer(accounts: dict[str, Account]) -> None:
    """Hand each Flextell account the view of the token endpoint's tokens that it accepts."""
    issuer = getattr(accounts[DEFAULT_ACCOUNT].api, "oauth", None)
    if issuer is None:
        return
    issuer = getattr(issuer, "issuer", issuer)
    named = frozenset(name for name in accounts if name != DEFAULT_ACCOUNT)
    for name, account in accounts.items():
        account.api.oauth = AccountTokens(issuer, name, named)  # type: ignore[attr-defined]


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
