"""Several accounts per provider, told apart by the credential each request carries.

Every provider has the account "default": the credential and the seeded leads the emulator has
always served. Named accounts come on top, each with its own credential, its own leads (their
integer ids numbered from the same start as the default account's, so they collide as two real
accounts' ids do), its own faults and, optionally, its own rate limit. A Teli account is an API
key that sees one or more organisations, each with leads of its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .data import SelaWorld, TeliWorld
from .faults import FaultChain, ProviderFaults
from .providers import ProviderAPI
from .store import Dataset

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
    """Per provider (each one in sizes), its named accounts."""
    specs: dict[str, list[AccountSpec]] = {name: [] for name in sizes}
    for provider, value in (accounts or {}).items():
        if provider not in specs:
            raise ValueError(f"unknown provider {provider!r}; expected one of {list(sizes)}")
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
    api: type[ProviderAPI],
    seed: int,
    account: str,
    size: int,
    faults: FaultChain,
    *,
    org: str | None = None,
    tenant: str | None = None,
) -> ProviderAPI:
    """The API over a fresh dataset for a named account (or an added Teli organisation)."""
    world = api.new_world(f"{seed}:{account}" if org is None else f"{seed}:{account}:{org}")
    if isinstance(world, SelaWorld):
        base = api.new_world(seed)
        assert isinstance(base, SelaWorld)
        world.start_ids_at(base.next_id)
    if isinstance(world, TeliWorld):
        world.org["name"] = org or account
        world.tenant_id = tenant or account
    return api(Dataset(world, size), faults)
