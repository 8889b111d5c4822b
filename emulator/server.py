"""LeadsEmulator: the five providers' list-leads APIs on one local port.

The emulator is put together from its parts: the registry of what it serves (registry.py), the
leads and their changes (lead_data.py), the tap configs that point at it (client_config.py), the
request log (requestlog.py) and the /_control/ endpoints (control.py). Their public methods are
the emulator's own."""

from __future__ import annotations

import time
from collections.abc import Iterable
from types import TracebackType
from typing import Self

from .accounts import AccountsArg
from .client_config import ClientConfigs
from .control import Controlled, control_response
from .http_server import Listener
from .lead_data import LeadData
from .oauth import CONTROL_PATH as OAUTH_CONTROL_PATH
from .oauth import DEFAULT_LIFETIME, TOKEN_PATH
from .providers import APIS, ProviderAPI
from .registry import Registry
from .requestlog import RecordedRequest, RequestLog, announced
from .store import ScheduledMutation
from .wire import Request, Response, json_response


class LeadsEmulator:
    """Serves Teli, Nexus ERP, Flextell, Sela and Autocalls from seeded data.

    leads_per_provider sets every provider's dataset size; `leads` overrides it per provider.
    latency_ms delays every provider response; faults(provider).latency_ms adds to it.
    accounts adds named accounts next to each provider's "default" one (see accounts.py), e.g.
    {"autocalls": ["acme", "globex"]}, {"sela": {"acme": 120, "globex": 80}} or, for a Teli key
    that sees several organisations, {"teli": {"partner": {"North": 50, "South": 30}}}.
    extra_providers serves further providers beside the five: each a ProviderAPI subclass
    with its name, api_path and new_world().
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
        extra_providers: Iterable[type[ProviderAPI]] = (),
    ) -> None:
        api_types = {**APIS, **{api.name: api for api in extra_providers}}
        unknown = set(leads or {}) - set(api_types)
        if unknown:
            raise ValueError(f"unknown providers {sorted(unknown)}; expected {list(api_types)}")
        self.seed = seed
        self.host, self.port = host, port
        sizes = {name: (leads or {}).get(name, leads_per_provider) for name in api_types}
        self._registry = registry = Registry(
            api_types,
            sizes,
            seed=seed,
            latency_ms=latency_ms,
            accounts=accounts,
            flextell_token_lifetime=flextell_token_lifetime,
        )
        self._log = RequestLog()
        self._listener: Listener | None = None
        self.flextell_oauth = registry.flextell_oauth
        data = LeadData(registry)
        configs = ClientConfigs(registry, lambda: self.url)
        self._controlled = Controlled(registry, data, configs, self._log, self.reset)

        # Configuration for a client (client_config.py)
        self.api_url = configs.api_url
        self.credentials = configs.credentials
        self.tap_config = configs.tap_config
        self.accounts_config = configs.accounts_config
        self.flextell_oauth_config = configs.flextell_oauth_config
        # The leads, and lists that change while they are read (lead_data.py)
        self.primary_key = data.primary_key
        self.teli_user_unique_id = data.teli_user_unique_id
        self.leads = data.leads
        self.trashed = data.trashed
        self.touch = data.touch
        self.add = data.add
        self.soft_delete = data.soft_delete
        self.restore = data.restore
        self.listing = data.listing
        self.listed_keys = data.listed_keys
        self.mutate = data.mutate
        self.schedule_mutation = data.schedule_mutation
        self.delete_leads = data.delete_leads
        self.insert_front = data.insert_front
        self.move_to_front = data.move_to_front
        # Accounts: credentials that stop working, Teli organisations, rate limits, announced
        # quotas (quota.py), faults (registry.py). faults(provider) holds faults for every
        # request of the provider; faults(provider, account) ("default" included) for that
        # account's requests only.
        self.account_names = registry.account_names
        self.revoke = registry.revoke
        self.reinstate = registry.reinstate
        self.teli_orgs = registry.teli_orgs
        self.add_teli_org = registry.add_teli_org
        self.set_rate_limit = registry.set_rate_limit
        self.rate_limit = registry.rate_limit
        self.clear_rate_limits = registry.clear_rate_limits
        self.set_quota = registry.set_quota
        self.quota = registry.quota
        self.describe_accounts = registry.describe_accounts
        self.faults = registry.faults
        self.clear_faults = registry.clear_faults
        self.reset_data = registry.reset_data
        # The request log (requestlog.py)
        self.clear_requests = self._log.clear
        self.requests_for = self._log.of

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

    @property
    def latency_ms(self) -> float:
        """Added to every provider response; faults(provider).latency_ms adds to it."""
        return self._registry.latency_ms

    @latency_ms.setter
    def latency_ms(self, value: float) -> None:
        self._registry.latency_ms = value

    @property
    def scheduled_mutations(self) -> list[ScheduledMutation]:
        """Every mutation scheduled since the data was last reset, fired or not."""
        return self._registry.mutations.copy()

    @property
    def requests(self) -> list[RecordedRequest]:
        return self._log.all()

    def reset(self) -> None:
        """Back to the state at construction: seeded data, no faults, an empty request log."""
        self._registry.reset()
        self._log.clear()

    # Serving

    def dispatch(self, request: Request, body: bytes) -> Response:
        received = time.monotonic()
        if request.path == OAUTH_CONTROL_PATH:
            return self.flextell_oauth.control(request, body)
        if request.path.startswith("/_control/"):
            return control_response(self._controlled, request, body)
        registry = self._registry
        name = request.path.split("/", 2)[1]
        api = registry.apis.get(name)
        account = None
        if request.path == TOKEN_PATH:
            # Flextell's token endpoint sits at the root of its host, beside /api.
            name, api = "flextell", registry.apis["flextell"]
            response = self.flextell_oauth.handle(request, body)
        elif api is None:
            paths = {name: api.api_path for name, api in registry.api_types.items()}
            response = json_response(404, {"error": "Not found", "providers": paths})
        else:
            # The router picks the account by credential and applies the latency.
            response, account = registry.routers[name].handle(
                request, request.path[len(name) + 1 :], registry.latency_ms
            )
        remaining, reset = announced(response.headers)
        self._log.append(
            RecordedRequest(
                provider=None if api is None else name,
                method=request.method,
                path=request.path,
                query=request.query,
                headers=request.headers,
                time=received,
                status=0 if response.drop else response.status,
                account=account,
                answered=time.monotonic(),
                remaining=remaining,
                reset=reset,
            )
        )
        return response
