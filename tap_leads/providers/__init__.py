"""The five providers, each described once (tap_leads.providers.<key>.SPEC), the accounts
of a block, and which accounts a shard takes.

A spec holds every fact about its provider: settings, secrets, auth, path, envelope and
keys. It may import the engine's envelopes, `auth` (to build its credentials) and the
leaf modules; never a stream, the config or replication.
"""

from __future__ import annotations

import typing as t

from tap_leads.providers import accounts, autocalls, flextell, nexus_erp, sela, teli
from tap_leads.providers.accounts import Account, Shard, in_shard, parse_shard, shard_of
from tap_leads.providers.spec import ACCOUNT_FIELD, Filter, ProviderSpec

PROVIDERS: tuple[ProviderSpec, ...] = (
    teli.SPEC,
    nexus_erp.SPEC,
    flextell.SPEC,
    sela.SPEC,
    autocalls.SPEC,
)
_BY_KEY = {spec.key: spec for spec in PROVIDERS}


def provider(key: str) -> ProviderSpec:
    """The provider with this config key, e.g. "teli"."""
    try:
        return _BY_KEY[key]
    except KeyError:
        raise KeyError(f"no provider {key!r}; the providers are {', '.join(_BY_KEY)}") from None


def resolve_accounts(config: t.Mapping[str, t.Any], provider_key: str) -> list[Account]:
    """The provider's accounts, each with the block's settings as defaults; a block
    without `accounts` is one account named None, and an absent block none."""
    return accounts.resolve(config, provider(provider_key))


def has_accounts(config: t.Mapping[str, t.Any], provider_key: str) -> bool:
    """Whether the provider's block uses the accounts form: records then carry `account`
    and the key starts with it, whichever accounts this run's shard takes."""
    block = config.get(provider(provider_key).key)
    return isinstance(block, t.Mapping) and block.get("accounts") is not None


def selected_accounts(config: t.Mapping[str, t.Any], provider_key: str) -> list[Account]:
    """The provider's accounts that this run takes: those of the config's shard."""
    return accounts.select(config, provider(provider_key))


__all__ = [
    "ACCOUNT_FIELD",
    "PROVIDERS",
    "Account",
    "Filter",
    "ProviderSpec",
    "Shard",
    "has_accounts",
    "in_shard",
    "parse_shard",
    "provider",
    "resolve_accounts",
    "selected_accounts",
    "shard_of",
]
