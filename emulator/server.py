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
from .data import TeliWorld, make_world
from .faults import ProviderFaults
from .http_server import Listener, pause
from .oauth import CONTROL_PATH as OAUTH_CONTROL_PATH
from .oauth import DEFAULT_LIFETIME, TOKEN_PATH, FlextellTokenServer
from .providers import API_PATHS, APIS, PROVIDERS, ProviderAPI
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

    def as_json(self) -> dict[str, Any]:
        return {**self.__dict__, "query": [list(pair) for pair in self.query]}


class LeadsEmulator:
    """Serves Teli, Nexus ERP, Flextell, Sela and Autocalls from seeded data.

    leads_per_provider sets every provider's dataset size; `leads` overrides it per provider.
    latency_ms delays every provider response; faults(provider).latency_ms adds to it.
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
    ) -> None:
        unknown = set(leads or {}) - set(PROVIDERS)
        if unknown:
            raise ValueError(f"unknown providers {sorted(unknown)}; expected {list(PROVIDERS)}")
        self.seed = seed
        self.latency_ms = self._initial_latency_ms = latency_ms
        self.host, self.port = host, port
        self._sizes = {name: (leads or {}).get(name, leads_per_provider) for name in PROVIDERS}
        self._faults = {name: ProviderFaults(name) for name in PROVIDERS}
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

    def credentials(self, provider: str) -> dict[str, str]:
        return dict(self._apis[self._known(provider)].secrets)

    def tap_config(
        self, providers: Iterable[str] | None = None, **overrides: Any
    ) -> dict[str, Any]:
        """A complete tap config for these providers (default all five). An override named after
        a provider and holding a dict is merged into that provider's block; others are top-level."""
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

    def flextell_oauth_config(self, token_store: str, **settings: Any) -> dict[str, Any]:
        """A Flextell block that authenticates by refresh token: client credentials, the
        initial refresh token and this token store, without an access token."""
        block = {**self.tap_config(["flextell"])["flextell"], **self.flextell_oauth.credentials()}
        del block["access_token"]
        return {**block, "token_store": token_store, **settings}

    # Data

    def primary_key(self, provider: str) -> str:
        """The field that identifies a lead: what touch() and soft_delete() take."""
        return self._dataset(provider).world.key

    def teli_user_unique_id(self, user_id: str) -> str:
        """The unique_id (what the user_id filter takes) of the Teli user whose UUID id a lead
        carries in its user_id field."""
        world = self._dataset("teli").world
        assert isinstance(world, TeliWorld)
        for user in world.users:
            if user["id"] == user_id:
                return user["unique_id"]
        raise KeyError(f"no Teli user with id {user_id!r}")

    def leads(self, provider: str) -> list[Lead]:
        """The leads a filterless listing returns, in creation order. The dicts are the
        emulator's own: read them, change them only through touch/add/soft_delete."""
        dataset = self._dataset(provider)
        with dataset.lock:
            return list(dataset.live)

    def trashed(self, provider: str = "flextell") -> list[Lead]:
        dataset = self._dataset(provider)
        with dataset.lock:
            return list(dataset.trashed)

    def touch(self, provider: str, ids: Iterable[Any], when: datetime | None = None) -> list[Lead]:
        """Set the replication key of these leads (by primary key) to `when`, default now; two
        calls without `when` always get strictly increasing values."""
        return self._dataset(provider).touch(ids, when)

    def add(self, provider: str, n: int) -> list[Lead]:
        """Append n new leads, created now."""
        return self._dataset(provider).add(n)

    def soft_delete(self, ids: Iterable[Any], provider: str = "flextell") -> list[Lead]:
        """Move these leads to the trash, with deleted_at (and updated_at) set to now."""
        return self._dataset(provider).soft_delete(ids)

    # Lists that change while they are read (see mutations.py for the listing orders)

    def listing(self, provider: str) -> list[Lead]:
        """The leads of a filterless listing, in the provider's default order."""
        return mutations.listing(self._api(provider))

    def listed_keys(self, provider: str) -> list[Any]:
        """The primary keys of every lead a filterless listing returns, in listing order."""
        key = self.primary_key(provider)
        return [lead[key] for lead in self.listing(provider)]

    def mutate(self, provider: str, kind: str, **options: Any) -> list[Any]:
        """Change the list now; returns the primary keys of the leads concerned.

        kind "delete" (ids=[...], positions=[...] or n=N with start=S): the leads vanish and
        everything after them moves up; on Flextell they are soft-deleted into trashed=true.
        "insert_front" (n=N): N new leads, listed first. "move_front" (ids, positions or n and
        start; touch=True): the leads move to the head of the order, their replication key set to
        now unless touch=False. Positions count from 0 in the listing order."""
        return mutations.mutate(self._api(provider), kind, **options)

    def schedule_mutation(
        self,
        provider: str,
        kind: str,
        *,
        after_page: int | None = None,
        after_requests: int | None = None,
        **options: Any,
    ) -> ScheduledMutation:
        """mutate() right after the emulator has served page `after_page` of any listing of this
        provider (that response still shows the old list), or after the `after_requests`-th list
        response from now; with both, the first response for that page from the N-th on."""
        mutation = mutations.schedule(
            self._api(provider),
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

    def reset_data(self) -> None:
        """Back to the seeded datasets; scheduled mutations are dropped."""
        self._mutations = []
        for name in PROVIDERS:
            dataset = Dataset(make_world(name, self.seed), self._sizes[name])
            self._apis[name] = APIS[name](dataset, self._faults[name])
        self._apis["flextell"].oauth = self.flextell_oauth  # type: ignore[attr-defined]

    # Faults

    def faults(self, provider: str) -> ProviderFaults:
        return self._faults[self._known(provider)]

    def clear_faults(self) -> None:
        for faults in self._faults.values():
            faults.clear()

    # Request log

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._log_lock:
            return list(self._log)

    def clear_requests(self) -> None:
        with self._log_lock:
            self._log.clear()

    # Serving

    def dispatch(self, request: Request, body: bytes) -> Response:
        received = time.monotonic()
        if request.path == OAUTH_CONTROL_PATH:
            return self.flextell_oauth.control(request, body)
        if request.path.startswith("/_control/"):
            return control.handle(self, request, body)
        name = request.path.split("/", 2)[1]
        api = self._apis.get(name)
        if request.path == TOKEN_PATH:
            # Flextell's token endpoint sits at the root of its host, beside /api.
            name, api = "flextell", self._apis["flextell"]
            response = self.flextell_oauth.handle(request, body)
        elif api is None:
            response = json_response(404, {"error": "Not found", "providers": API_PATHS})
        else:
            response = api.handle(request, request.path[len(name) + 1 :])
            pause(self.latency_ms + self._faults[name].latency_ms)
        record = RecordedRequest(
            provider=None if api is None else name,
            method=request.method,
            path=request.path,
            query=request.query,
            headers=request.headers,
            time=received,
            status=0 if response.drop else response.status,
        )
        with self._log_lock:
            self._log.append(record)
        return response

    def _dataset(self, provider: str) -> Dataset:
        return self._api(provider).dataset

    def _api(self, provider: str) -> ProviderAPI:
        return self._apis[self._known(provider)]

    def _known(self, provider: str) -> str:
        if provider not in APIS:
            raise ValueError(f"unknown provider {provider!r}; expected one of {list(PROVIDERS)}")
        return provider
