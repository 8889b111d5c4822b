"""The five providers, each described once (tap_leads.providers.<key>.SPEC), the accounts
of a block, and which accounts a shard takes.

A spec holds every fact about its provider: settings, secrets, auth, path, envelope and
keys, and the hooks for what differs (spec.py). It may import the engine's envelopes,
`auth` (to build its credentials) and the leaf modules; never a stream, the config or
replication. A sixth provider is a module here with its SPEC, added to PROVIDERS, and its
stream's JSON Schema in tap_leads/schemas/.
"""

from __future__ import annotations

import typing as t

from tap_leads.providers import accounts, autocalls, flextell, nexus_erp, sela, teli
from tap_leads.providers.accounts import Account
from tap_leads.providers.spec import ProviderSpec

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


def has_accounts(config: t.Mapping[str, t.Any], spec: ProviderSpec) -> bool:
    """Whether the provider's block uses the accounts form: records then carry `account`
    and the key starts with it, whichever accounts this run's shard takes."""
    block = config.get(spec.key)
    return isinstance(block, t.Mapping) and block.get("accounts") is not None


def selected_accounts(config: t.Mapping[str, t.Any], spec: ProviderSpec) -> list[Account]:
    """The provider's accounts that this run takes: those of the config's shard."""
    return accounts.select(config, spec)
