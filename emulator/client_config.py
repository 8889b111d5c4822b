"""ClientConfigs: tap configs that point at a running emulator, in the single-account form or
the contract's accounts form."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from .accounts import DEFAULT_ACCOUNT
from .registry import Registry


class ClientConfigs:
    def __init__(self, registry: Registry, url: Callable[[], str]) -> None:
        self._registry = registry
        self._url = url

    def api_url(self, provider: str) -> str:
        return self._url() + self._registry.api_types[self._registry.known(provider)].api_path

    def credentials(self, provider: str, account: str | None = None) -> dict[str, str]:
        return dict(self._registry.account(provider, account).secrets)

    def tap_config(
        self, providers: Iterable[str] | None = None, *, accounts: bool = False, **overrides: Any
    ) -> dict[str, Any]:
        """A complete tap config for these providers (default all). An override named after
        a provider and holding a dict is merged into that provider's block; others are top-level.
        accounts=True: the accounts form, as accounts_config() builds it."""
        if accounts:
            return self.accounts_config(providers, **overrides)
        config: dict[str, Any] = {
            name: {**self.credentials(name), "api_url": self.api_url(name)}
            for name in (self._registry.names if providers is None else providers)
        }
        return _merged(config, overrides)

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
        for provider in self._registry.names if providers is None else providers:
            router = self._registry.routers[self._registry.known(provider)]
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
        return _merged(config, overrides)

    def flextell_oauth_config(self, token_store: str, **settings: Any) -> dict[str, Any]:
        """A Flextell block that authenticates by refresh token: client credentials, the
        initial refresh token and this token store, without an access token."""
        oauth = self._registry.flextell_oauth
        block = {**self.tap_config(["flextell"])["flextell"], **oauth.credentials()}
        del block["access_token"]
        return {**block, "token_store": token_store, **settings}


def _merged(config: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(config.get(key), dict):
            config[key].update(value)
        else:
            config[key] = value
    return config
