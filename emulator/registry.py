"""Registry: what the emulator serves. Per provider its seeded dataset, its accounts (each with
its own leads, faults and rate limit) and the faults shared by all of them."""

from __future__ import annotations

from typing import Any

from .account_tokens import share_token_issuer
from .accounts import DEFAULT_ACCOUNT, Account, AccountsArg, build_api, parse_accounts
from .faults import FaultChain, ProviderFaults
from .oauth import DEFAULT_LIFETIME, FlextellTokenServer
from .providers import ProviderAPI
from .quota import AnnouncedQuota
from .ratelimit import RateLimit
from .router import ProviderRouter
from .store import Dataset, ScheduledMutation


class Registry:
    def __init__(
        self,
        api_types: dict[str, type[ProviderAPI]],
        sizes: dict[str, int],
        *,
        seed: int,
        latency_ms: float,
        accounts: AccountsArg | None,
        flextell_token_lifetime: float = DEFAULT_LIFETIME,
    ) -> None:
        #: The providers served, by name: the five, and any given to LeadsEmulator.
        self.api_types = api_types
        self.names = tuple(api_types)
        self.seed = seed
        self.latency_ms = self._initial_latency_ms = latency_ms
        self.sizes = sizes
        self.shared_faults = {name: ProviderFaults(name) for name in self.names}
        self._account_specs = parse_accounts(accounts, sizes)
        self._account_faults = {
            (provider, name): ProviderFaults(provider)
            for provider, specs in self._account_specs.items()
            for name in [DEFAULT_ACCOUNT, *(spec.name for spec in specs)]
        }
        self.routers = {
            name: ProviderRouter(
                name, self.shared_faults[name], announces=api_types[name].announces_quota
            )
            for name in self.names
        }
        self.apis: dict[str, ProviderAPI] = {}
        self.mutations: list[ScheduledMutation] = []
        self.flextell_oauth = FlextellTokenServer(seed, flextell_token_lifetime)
        self.reset_data()

    def reset(self) -> None:
        """Back to the state at construction: seeded data, no faults."""
        self.reset_data()
        self.flextell_oauth.reset()
        self.clear_faults()
        self.latency_ms = self._initial_latency_ms
        for router in self.routers.values():
            router.revoked.clear()
            router.limits.clear()
            router.reset_quotas()

    def reset_data(self) -> None:
        """Back to the seeded datasets; scheduled mutations are dropped."""
        self.mutations = []
        for name, api_type in self.api_types.items():
            dataset = Dataset(api_type.new_world(self.seed), self.sizes[name])
            self.apis[name] = api_type(dataset, self.shared_faults[name])
        self.apis["flextell"].oauth = self.flextell_oauth  # type: ignore[attr-defined]
        self._install_accounts()

    def _install_accounts(self) -> None:
        # The default account serves the datasets above; named accounts get their own, and
        # Teli organisations added since construction are dropped.
        for provider, router in self.routers.items():
            shared = self.shared_faults[provider]
            default_faults = self._account_faults[provider, DEFAULT_ACCOUNT]
            api = self.apis[provider]
            api.faults = FaultChain(default_faults, shared)
            accounts = {DEFAULT_ACCOUNT: Account(provider, DEFAULT_ACCOUNT, [api], default_faults)}
            for spec in self._account_specs[provider]:
                own = self._account_faults[provider, spec.name]
                chain = FaultChain(own, shared)
                apis = [
                    build_api(self.api_types[provider], self.seed, spec.name, size, chain, org=org)
                    for org, size in spec.orgs
                ]
                account = Account(provider, spec.name, apis[:1], own)
                for extra in apis[1:]:
                    account.add_api(extra)
                accounts[spec.name] = account
            if provider == "flextell":
                share_token_issuer(accounts)
            router.install(accounts)

    # Lookups

    def api(self, provider: str, account: str | None = None, org: str | None = None) -> ProviderAPI:
        if account is None and org is None:
            return self.apis[self.known(provider)]
        return self.account(provider, account).org_api(org)

    def dataset(self, provider: str, account: str | None = None, org: str | None = None) -> Dataset:
        return self.api(provider, account, org).dataset

    def account(self, provider: str, account: str | None) -> Account:
        return self.routers[self.known(provider)].account(account)

    def account_names(self, provider: str) -> list[str]:
        return list(self.routers[self.known(provider)].accounts)

    def known(self, provider: str) -> str:
        if provider not in self.api_types:
            raise ValueError(f"unknown provider {provider!r}; expected one of {list(self.names)}")
        return provider

    # Accounts: credentials that stop working, Teli organisations, rate limits, faults

    def revoke(self, provider: str, account: str | None = None) -> None:
        router = self.routers[self.known(provider)]
        router.revoked.add(router.account(account).name)

    def reinstate(self, provider: str, account: str | None = None) -> None:
        router = self.routers[self.known(provider)]
        router.revoked.discard(router.account(account).name)

    def teli_orgs(self, account: str | None = None) -> list[dict[str, Any]]:
        return [api.world.organization() for api in self.account("teli", account).apis]  # type: ignore[attr-defined]

    def add_teli_org(
        self, account: str | None = None, name: str | None = None, leads: int | None = None
    ) -> dict[str, Any]:
        target = self.account("teli", account)
        name = name or f"Organization {len(target.apis) + 1}"
        if any(api.world.org["name"] == name for api in target.apis):  # type: ignore[attr-defined]
            raise ValueError(f"teli account {target.name!r} has an organisation named {name!r}")
        tenant = target.api.world.tenant_id  # type: ignore[attr-defined]
        chain = FaultChain(target.faults, self.shared_faults["teli"])
        size = self.sizes["teli"] if leads is None else leads
        target.add_api(
            build_api(
                self.api_types["teli"], self.seed, target.name, size, chain, org=name, tenant=tenant
            )
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
        router = self.routers[self.known(provider)]
        name = router.account(account).name
        if per_second is None and max_concurrent is None:
            router.limits.pop(name, None)
            return None
        limit = router.limits[name] = RateLimit(per_second, burst, max_concurrent)
        return limit

    def rate_limit(self, provider: str, account: str | None = None) -> RateLimit | None:
        router = self.routers[self.known(provider)]
        return router.limits.get(router.account(account).name)

    def clear_rate_limits(self) -> None:
        for router in self.routers.values():
            router.limits.clear()

    def set_quota(
        self,
        provider: str,
        quota: str | None,
        *,
        account: str | None = None,
        enforced: bool = True,
    ) -> None:
        """An announced quota such as "25/s" (quota.py) on every account of the provider, or on
        one account; None goes back to the provider's default (announced, not enforced)."""
        self.routers[self.known(provider)].set_quota(quota, account=account, enforced=enforced)

    def quota(self, provider: str, account: str | None = None) -> AnnouncedQuota | None:
        router = self.routers[self.known(provider)]
        return router.quota(router.account(account).name)

    def describe_accounts(self) -> dict[str, list[dict[str, Any]]]:
        return {name: router.describe() for name, router in self.routers.items()}

    def faults(self, provider: str, account: str | None = None) -> ProviderFaults:
        if account is None:
            return self.shared_faults[self.known(provider)]
        return self.account(provider, account).faults

    def clear_faults(self) -> None:
        for faults in self.shared_faults.values():
            faults.clear()
        for faults in self._account_faults.values():
            faults.clear()
