"""Accounts of a provider block, and which of them a sharded run takes."""

from __future__ import annotations

import hashlib
import re
import typing as t
from dataclasses import dataclass, field

from tap_leads.auth.token_store import DEFAULT_KEY
from tap_leads.providers.spec import ProviderSpec

_SHARD = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")

Shard = tuple[int, int]


@dataclass(frozen=True)
class Account:
    """One set of credentials of a provider, with the block's defaults merged in."""

    #: The account's name; None for a block without `accounts`.
    name: str | None
    #: The block's settings, then the account's own over them; without `accounts` and
    #: `name`. Settings with a default (api_url, page_size) are always present.
    settings: dict[str, t.Any] = field(hash=False, compare=True)
    #: How messages name this account's settings: "teli", or "teli.accounts[acme]".
    prefix: str

    @property
    def key(self) -> str:
        """The account's name, or "default" for the single block (e.g. its token store entry)."""
        return DEFAULT_KEY if self.name is None else self.name


def account_entries(block: t.Mapping[str, t.Any]) -> list[t.Any] | None:
    """The block's `accounts` list as written; None for the single-block form."""
    accounts = block.get("accounts")
    return None if accounts is None else accounts


def resolve(config: t.Mapping[str, t.Any], spec: ProviderSpec) -> list[Account]:
    """The provider's accounts, each with the block's settings as defaults.

    An empty or absent block has none; a block without `accounts` is one account named
    None. Entries that are not objects with a name are skipped: validation reports them.
    """
    block = config.get(spec.key)
    if not isinstance(block, t.Mapping) or not block:
        return []
    defaults = {k: v for k, v in block.items() if k != "accounts"}
    entries = account_entries(block)
    if entries is None:
        return [Account(None, _with_defaults(spec, defaults), spec.key)]
    if not isinstance(entries, list):
        return []
    accounts = []
    for entry in entries:
        if not isinstance(entry, t.Mapping) or not account_name_ok(entry.get("name")):
            continue
        own = {k: v for k, v in entry.items() if k != "name"}
        name = entry["name"]
        accounts.append(
            Account(name, _with_defaults(spec, {**defaults, **own}), account_prefix(spec, name))
        )
    return accounts


def account_prefix(spec: ProviderSpec, name: str | int) -> str:
    return f"{spec.key}.accounts[{name}]"


def account_name_ok(name: t.Any) -> bool:
    return isinstance(name, str) and bool(name.strip())


def _with_defaults(spec: ProviderSpec, settings: dict[str, t.Any]) -> dict[str, t.Any]:
    # An explicit null (as Meltano may pass) means the default, as an absent setting does.
    for name, value in spec.defaults().items():
        if settings.get(name) in (None, ""):
            settings[name] = value
    return settings


# ----- shards ----------------------------------------------------------------


def shard_problem(value: t.Any) -> str | None:
    """Why a shard setting is unusable, in one line; None when it is fine or unset."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    head = 'shard must look like "3/8": '
    match = _SHARD.match(value) if isinstance(value, str) else None
    if match is None:
        return (
            f"{head}got {value!r}; write K/N to take shard K of N, with K counted from 0, "
            "in quotes so that it stays text."
        )
    index, count = int(match[1]), int(match[2])
    if count < 1:
        return f"{head}got {value!r}, but N, the number of shards, must be 1 or more."
    if index >= count:
        return (
            f"{head}got {value!r}, but K counts from 0, so with {count} shard(s) it goes "
            f"from 0 to {count - 1}."
        )
    return None


def parse_shard(value: t.Any) -> Shard | None:
    """(K, N) from "K/N"; None when unset. Raises ValueError with shard_problem's message."""
    problem = shard_problem(value)
    if problem is not None:
        raise ValueError(problem)
    if value is None or not value.strip():
        return None
    match = _SHARD.match(value)
    assert match is not None
    return int(match[1]), int(match[2])


def shard_of(provider_key: str, account_name: str | None, count: int) -> int:
    """The shard, of count, that an account falls in; the same on every machine and run.

    The single-block form (name None) hashes under the provider key alone.
    """
    seed = provider_key if account_name is None else f"{provider_key}\0{account_name}"
    digest = hashlib.sha256(seed.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % count


def in_shard(provider_key: str, account_name: str | None, shard: Shard | None) -> bool:
    """Whether a run limited to shard (K, N) takes this account; every account when None."""
    if shard is None:
        return True
    index, count = shard
    return shard_of(provider_key, account_name, count) == index


def select(config: t.Mapping[str, t.Any], spec: ProviderSpec) -> list[Account]:
    """The provider's accounts that this run takes, given the config's shard."""
    shard = parse_shard(config.get("shard"))
    return [a for a in resolve(config, spec) if in_shard(spec.key, a.name, shard)]
