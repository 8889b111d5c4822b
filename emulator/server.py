"""LeadsEmulator: the five providers' list-leads APIs on one local port."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any, Self

from . import control, mutations
from .accounts import (
    DEFAULT_ACCOUNT,
    Account,
    AccountsArg,
    ProviderRouter,
    build_api,
    parse_accounts,
    share_token_issuer,
)
from .data import TeliWorld, make_world
from .faults import FaultChain, ProviderFaults
from .http_server import Listener
from .oauth import CONTROL_PATH as OAUTH_CONTROL_PATH
from .oauth import DEFAULT_LIFETIME, TOKEN_PATH, FlextellTokenServer
from .providers import API_PATHS, APIS, PROVIDERS, ProviderAPI
from .ratelimit import RateLimit
from .store import Dataset, Lead, ScheduledMutation
from .wire import Request, Response, json_response


@dataclass(frozen=True)
class RecordedRequest:
    provider: str | None  # None for paths outside every provider's prefix
    method: str
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]  # lower-case names
    time: float  # time.monotonic() when the request was read
    status: int  # 0 when the connection was dropped without an answer
    account: str | None = None  # whose credential was accepted; None when none was

    def as_json(self) -> dict[str, Any]:
        return {**self.__dict__, "query": [list(pair) for pair in self.query]}


class LeadsEmulator:
    """Serves Teli, Nexus ERP, Flextell, Sela and Autocalls from seeded data.

    leads_per_provider sets every provider's dataset size; `leads` overrides it per provider.
    latency_ms delays every provider response; faults(provider).latency_ms adds to it.
    accounts adds named accounts next to each provider's "default" one (see accounts.py), e.g.
    {"autocalls": ["acme", "globex"]}, {"sela": {"acme": 120, "globex": 80}} or, for a Teli key
    that sees several organisations, {"teli": {"partner": {"North": 50, "South": 30}}}.
    """

    def __init__(
        self,
        leads_per_provider: int = 200,
        seed: int = 7,
        latency_ms: float = 0,
        *,
        leads: dict[str, int] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        flextell_token_lifetime: float = DEFAULT_LIFETIME,
        accounts: AccountsArg | None = None,
    ) -> None:
        unknown = set(leads or {}) - set(PROVIDERS)
        if unknown:
            raise ValueError(f"unknown providers {sorted(unknown)}; expected {list(PROVIDERS)}")
        self.seed = seed
        self.latency_ms = self._initial_latency_ms = latency_ms
        self.host, self.port = host, port
        self._sizes = {name: (leads or {}).get(name, leads_per_provider) for name in PROVIDERS}
        self._faults = {name: ProviderFaults(name) for name in PROVIDERS}
        self._account_specs = parse_accounts(accounts, self._sizes)
        self._account_faults = {
            (provider, name): ProviderFaults(provider)
            for provider, specs in self._account_specs.items()
            for name in [DEFAULT_ACCOUNT, *(spec.name for spec in specs)]
        }
        self._routers = {name: ProviderRouter(name, self._faults[name]) for name in PROVIDERS}
        self._apis: dict[str, ProviderAPI] = {}
        self._log: list[RecordedRequest] = []
        self._log_lock = threading.Lock()
        self._listener: Listener | None = None
        self._mutations: list[ScheduledMutation] = []
        self.flextell_oauth = FlextellTokenServer(seed, flextell_token_lifetime)
        self.reset_data()

    # Lifecycle

    def start(self) -> Self:
        if self._listener is None:
            self._listener = Listener(self.host, self.port, self.dispatch)
        return self

    def stop(self) -> None:
        if self._listener is not None:
            self._listener.close()
            self._listener = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._listener is None:
            raise RuntimeError("the emulator is not running; call start() first")
        return self._listener.url

    # Configuration for a client

    def api_url(self, provider: str) -> str:
        return self.url + API_PATHS[self._known(provider)]

    def credentials(self, provider: str, account: str | None = None) -> dict[str, str]:
        return dict(self._account(provider, account).secrets)

    def tap_config(
        self, providers: Iterable[str] | None = None, *, accounts: bool = False, **overrides: Any
    ) -> dict[str, Any]:
        """A complete tap config for these providers (default all five). An override named after
        a provider and holding a dict is merged into that provider's block; others are top-level.
        accounts=True: the accounts form, as accounts_config() builds it."""
        if accounts:
            return self.accounts_config(providers, **overrides)
        config: dict[str, Any] = {
            name: {**self.credentials(name), "api_url": self.api_url(name)}
            for name in (PROVIDERS if providers is None else providers)
        }
        for key, value in overrides.items():
            if isinstance(value, dict) and isinstance(config.get(key), dict):
                config[key].update(value)
            else:
                config[key] = value
        return config

    def accounts_config(
        self,
        providers: Iterable[str] | None = None,
        *,
        include_default: bool = False,
        teli_all_orgs: bool = False,
        **overrides: Any,
    ) -> dict[str, Any]:
        """A tap config in the contract's accounts form: per provider an api_url and a list of
        accounts, each with its name and credentials. The named accounts are listed; the default
        account too when include_default is set or the provider has no named account. A Teli
        account's org_id is "*" when its key sees several organisations or teli_all_orgs is set.
        Overrides merge as in tap_config()."""
        config: dict[str, Any] = {}
        for provider in PROVIDERS if providers is None else providers:
            router = self._routers[self._known(provider)]
            names = [name for name in router.accounts if name != DEFAULT_ACCOUNT]
            if include_default or not names:
                names.insert(0, DEFAULT_ACCOUNT)
            listed = []
            for name in names:
                account = router.accounts[name]
                entry = {"name": name, **account.secrets}
                if provider == "teli" and (teli_all_orgs or len(account.apis) > 1):
                    entry["org_id"] = "*"
                listed.append(entry)
            config[provider] = {"api_url": self.api_url(provider), "accounts": listed}
        for key, value in overrides.items():
            if isinstance(value, dict) and isinstance(config.get(key), dict):
                config[key].update(value)
            else:
                config[key] = value
        return config

    def account_names(self, provider: str) -> list[str]:
        """The provider's accounts: "default" first, then the named ones."""
        return list(self._routers[self._known(provider)].accounts)

    def flextell_oauth_config(self, token_store: str, **settings: Any) -> dict[str, Any]:
        """A Flextell block that authenticates by refresh token: client credentials, the
        initial refresh token and this token store, without an access token."""
        block = {**self.tap_config(["flextell"])["flextell"], **self.flextell_oauth.credentials()}
        del block["access_token"]
        return {**block, "token_store": token_store, **settings}

    # Data

    # Every method below that takes `account` (default: the "default" account) and `org` (Teli
    # only: an organisation's unique_id or name; default: the account's first one) works on
    # that account's leads.

    def primary_key(self, provider: str) -> str:
        """The field that identifies a lead: what touch() and soft_delete() take."""
        return self._dataset(provider).world.key

    def teli_user_unique_id(
        self, user_id: str, account: str | None = None, org: str | None = None
    ) -> str:
        """The unique_id (what the user_id filter takes) of the Teli user whose UUID id a lead
        carries in its user_id field."""
        world = self._dataset("teli", account, org).world
        assert isinstance(world, TeliWorld)
        for user in world.users:
            if user["id"] == user_id:
                return user["unique_id"]
        raise KeyError(f"no Teli user with id {user_id!r}")

    def leads(
        self, provider: str, account: str | None = None, org: str | None = None
    ) -> list[Lead]:
        """The leads a filterless listing returns, in creation order. The dicts are the
        emulator's own: read them, change them only through touch/add/soft_delete."""
        dataset = self._dataset(provider, account, org)
        with dataset.lock:
            return list(dataset.live)

    def trashed(
        self, provider: str = "flextell", account: str | None = None, org: str | None = None
    ) -> list[Lead]:
        dataset = self._dataset(provider, account, org)
        with dataset.lock:
            return list(dataset.trashed)

    def touch(
        self,
        provider: str,
        ids: Iterable[Any],
        when: datetime | None = None,
        account: str | None = None,
        org: str | None = None,
    ) -> list[Lead]:
        """Set the replication key of these leads (by primary key) to `when`, default now; two
        calls without `when` always get strictly increasing values."""
        return self._dataset(provider, account, org).touch(ids, when)

    def add(
        self, provider: str, n: int, account: str | None = None, org: str | None = None
    ) -> list[Lead]:
        """Append n new leads, created now."""
        return self._dataset(provider, account, org).add(n)

    def soft_delete(
        self,
        ids: Iterable[Any],
        provider: str = "flextell",
        account: str | None = None,
        org: str | None = None,
    ) -> list[Lead]:
        """Move these leads to the trash, with deleted_at (and updated_at) set to now."""
        return self._dataset(provider, account, org).soft_delete(ids)

    # Lists that change while they are read (see mutations.py for the listing orders)

    def listing(
        self, provider: str, account: str | None = None, org: str | None = None
    ) -> list[Lead]:
        """The leads of a filterless listing, in the provider's default order."""
        return mutations.listing(self._api(provider, account, org))

    def listed_keys(
        self, provider: str, account: str | None = None, org: str | None = None
    ) -> list[Any]:
        """The primary keys of every lead a filterless listing returns, in listing order."""
        key = self.primary_key(provider)
        return [lead[key] for lead in self.listing(provider, account, org)]

    def mutate(
        self,
        provider: str,
        kind: str,
        *,
        account: str | None = None,
        org: str | None = None,
        **options: Any,
    ) -> list[Any]:
        """Change the list now; returns the primary keys of the leads concerned.

        kind "delete" (ids=[...], positions=[...] or n=N with start=S): the leads vanish and
        everything after them moves up; on Flextell they are soft-deleted into trashed=true.
        "insert_front" (n=N): N new leads, listed first. "move_front" (ids, positions or n and
        start; touch=True): the leads move to the head of the order, their replication key set to
        now unless touch=False. Positions count from 0 in the listing order."""
        return mutations.mutate(self._api(provider, account, org), kind, **options)

    def schedule_mutation(
        self,
        provider: str,
        kind: str,
        *,
        after_page: int | None = None,
        after_requests: int | None = None,
        account: str | None = None,
        org: str | None = None,
        **options: Any,
    ) -> ScheduledMutation:
        """mutate() right after the emulator has served page `after_page` of any listing of this
        provider (that response still shows the old list), or after the `after_requests`-th list
        response from now; with both, the first response for that page from the N-th on."""
        mutation = mutations.schedule(
            self._api(provider, account, org),
            kind,
            after_page=after_page,
            after_requests=after_requests,
            **options,
        )
        self._mutations.append(mutation)
        return mutation

    def delete_leads(
        self, provider: str, *, after_page: int | None = None, **options: Any
    ) -> list[Any] | ScheduledMutation:
        """mutate(provider, "delete", ...) now, or scheduled when after_page/after_requests is
        given."""
        return self._change(provider, "delete", after_page, options)

    def insert_front(
        self, provider: str, n: int, *, after_page: int | None = None, **options: Any
    ) -> list[Any] | ScheduledMutation:
        return self._change(provider, "insert_front", after_page, {**options, "n": n})

    def move_to_front(
        self, provider: str, *, after_page: int | None = None, **options: Any
    ) -> list[Any] | ScheduledMutation:
        return self._change(provider, "move_front", after_page, options)

    @property
    def scheduled_mutations(self) -> list[ScheduledMutation]:
        """Every mutation scheduled since the data was last reset, fired or not."""
        return list(self._mutations)

    def _change(
        self, provider: str, kind: str, after_page: int | None, options: dict[str, Any]
    ) -> list[Any] | ScheduledMutation:
        if after_page is None and options.get("after_requests") is None:
            options.pop("after_requests", None)
            return self.mutate(provider, kind, **options)
        return self.schedule_mutation(provider, kind, after_page=after_page, **options)

    def reset(self) -> None:
        """Back to the state at construction: seeded data, no faults, an empty request log."""
        self.reset_data()
        self.flextell_oauth.reset()
        self.clear_faults()
        self.clear_requests()
        self.latency_ms = self._initial_latency_ms
        for router in self._routers.values():
            router.revoked.clear()
            router.limits.clear()

    def reset_data(self) -> None:
        """Back to the seeded datasets; scheduled mutations are dropped."""
        self._mutations = []
        for name in PROVIDERS:
            dataset = Dataset(make_world(name, self.seed), self._sizes[name])
            self._apis[name] = APIS[name](dataset, self._faults[name])
        self._apis["flextell"].oauth = self.flextell_oauth  # type: ignore[attr-defined]
        self._install_accounts()

    def _install_accounts(self) -> None:
        # The default account serves the datasets above; named accounts get their own, and
        # Teli organisations added since construction are dropped.
        for provider, router in self._routers.items():
            shared = self._faults[provider]
            default_faults = self._account_faults[provider, DEFAULT_ACCOUNT]
            api = self._apis[provider]
            api.faults = FaultChain(default_faults, shared)
            accounts = {DEFAULT_ACCOUNT: Account(provider, DEFAULT_ACCOUNT, [api], default_faults)}
            for spec in self._account_specs[provider]:
                own = self._account_faults[provider, spec.name]
                chain = FaultChain(own, shared)
                apis = [
                    build_api(provider, self.seed, spec.name, size, chain, org=org)
                    for org, size in spec.orgs
                ]
                account = Account(provider, spec.name, apis[:1], own)
                for extra in apis[1:]:
                    account.add_api(extra)
                accounts[spec.name] = account
            if provider == "flextell":
                share_token_issuer(accounts)
            router.install(accounts)

    # Accounts: credentials that stop working, Teli organisations, rate limits

    def revoke(self, provider: str, account: str | None = None) -> None:
        """The account's credential is refused from now on, with the 401 of an unknown one."""
        router = self._routers[self._known(provider)]
        router.revoked.add(router.account(account).name)

    def reinstate(self, provider: str, account: str | None = None) -> None:
        router = self._routers[self._known(provider)]
        router.revoked.discard(router.account(account).name)

    def teli_orgs(self, account: str | None = None) -> list[dict[str, Any]]:
        """The organisations the account's key sees, as GET /v1/organizations lists them."""
        return [api.world.organization() for api in self._account("teli", account).apis]  # type: ignore[attr-defined]

    def add_teli_org(
        self, account: str | None = None, name: str | None = None, leads: int | None = None
    ) -> dict[str, Any]:
        """A new organisation, with its own leads (default: Teli's dataset size), that the
        account's key sees from now on; listed last by GET /v1/organizations."""
        target = self._account("teli", account)
        name = name or f"Organization {len(target.apis) + 1}"
        if any(api.world.org["name"] == name for api in target.apis):  # type: ignore[attr-defined]
            raise ValueError(f"teli account {target.name!r} has an organisation named {name!r}")
        tenant = target.api.world.tenant_id  # type: ignore[attr-defined]
        chain = FaultChain(target.faults, self._faults["teli"])
        size = self._sizes["teli"] if leads is None else leads
        target.add_api(
            build_api("teli", self.seed, target.name, size, chain, org=name, tenant=tenant)
        )
        return self.teli_orgs(target.name)[-1]

    def set_rate_limit(
        self,
        provider: str,
        account: str | None = None,
        *,
        per_second: float | None = None,
        burst: int | None = None,
        max_concurrent: int | None = None,
    ) -> RateLimit | None:
        """Beyond per_second (a token bucket holding `burst` requests, default one second's
        worth) or max_concurrent requests in flight, the account's requests get the provider's
        429 with Retry-After in seconds. With neither, the account's limit is lifted."""
        router = self._routers[self._known(provider)]
        name = router.account(account).name
        if per_second is None and max_concurrent is None:
            router.limits.pop(name, None)
            return None
        limit = router.limits[name] = RateLimit(per_second, burst, max_concurrent)
        return limit

    def rate_limit(self, provider: str, account: str | None = None) -> RateLimit | None:
        router = self._routers[self._known(provider)]
        return router.limits.get(router.account(account).name)

    def clear_rate_limits(self) -> None:
        for router in self._routers.values():
            router.limits.clear()

    def describe_accounts(self) -> dict[str, list[dict[str, Any]]]:
        """Per provider, every account: credentials, lead counts, revoked, rate limit."""
        return {name: router.describe() for name, router in self._routers.items()}

    # Faults

    def faults(self, provider: str, account: str | None = None) -> ProviderFaults:
        """Without an account: faults for every request of the provider, whatever its account.
        With one ("default" included): faults for that account's requests only."""
        if account is None:
            return self._faults[self._known(provider)]
        return self._account(provider, account).faults

    def clear_faults(self) -> None:
        for faults in self._faults.values():
            faults.clear()
        for faults in self._account_faults.values():
            faults.clear()

    # Request log

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._log_lock:
            return list(self._log)

    def clear_requests(self) -> None:
        with self._log_lock:
            self._log.clear()

    def requests_for(
        self, provider: str | None = None, account: str | None = None
    ) -> list[RecordedRequest]:
        """The logged requests of this provider and account (None: any)."""
        return [
            record
            for record in self.requests
            if (provider is None or record.provider == provider)
            and (account is None or record.account == account)
        ]

    # Serving

    def dispatch(self, request: Request, body: bytes) -> Response:
        received = time.monotonic()
        if request.path == OAUTH_CONTROL_PATH:
            return self.flextell_oauth.control(request, body)
        if request.path.startswith("/_control/"):
            return control.handle(self, request, body)
        name = request.path.split("/", 2)[1]
        api = self._apis.get(name)
        account = None
        if request.path == TOKEN_PATH:
            # Flextell's token endpoint sits at the root of its host, beside /api.
            name, api = "flextell", self._apis["flextell"]
            response = self.flextell_oauth.handle(request, body)
        elif api is None:
            response = json_response(404, {"error": "Not found", "providers": API_PATHS})
        else:
            # The router picks the account by credential and applies the latency.
            response, account = self._routers[name].handle(
                request, request.path[len(name) + 1 :], self.latency_ms
            )
        record = RecordedRequest(
            provider=None if api is None else name,
            method=request.method,
            path=request.path,
            query=request.query,
            headers=request.headers,
            time=received,
            status=0 if response.drop else response.status,
            account=account,
        )
        with self._log_lock:
            self._log.append(record)
        return response

    def _dataset(
        self, provider: str, account: str | None = None, org: str | None = None
    ) -> Dataset:
        return self._api(provider, account, org).dataset

    def _api(
        self, provider: str, account: str | None = None, org: str | None = None
    ) -> ProviderAPI:
        if account is None and org is None:
            return self._apis[self._known(provider)]
        return self._account(provider, account).org_api(org)

    def _account(self, provider: str, account: str | None) -> Account:
        return self._routers[self._known(provider)].account(account)

    def _known(self, provider: str) -> str:
        if provider not in APIS:
            raise ValueError(f"unknown provider {provider!r}; expected one of {list(PROVIDERS)}")
        return provider
