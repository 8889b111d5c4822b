"""A sharded run's STATE keeps only the accounts the shard takes.

Each shard of a sharded run may start from a state merged from every shard's (the
contract's "Resharding keeps every account's place"), so its input holds the entries of
accounts other shards take. Written back unchanged, those copies go stale while the other
shards move on, and a later merge that takes this shard's state last would let a stale
copy win. The contract allows a run to leave them out of its STATE, so it does: each
shard's state then holds only its own accounts, and shards' states merge in any order.
"""

from __future__ import annotations

import typing as t

from tap_leads.providers.accounts import in_shard, parse_shard
from tap_leads.schemas import ACCOUNT_FIELD


def keep_own_entries(
    state: dict[str, t.Any], config: t.Mapping[str, t.Any], providers: t.Mapping[str, str]
) -> None:
    """Drop, in place, the bookmarks of accounts that the config's shard does not take.

    `providers` maps each stream of the run to its provider key. In the accounts form,
    an account's entry of `bookmarks.<stream>.partitions` goes when its account falls in
    another shard; in the single-block form, the stream's whole bookmark goes when the
    block does. An unsharded run, and streams not in `providers`, keep everything.
    """
    shard = parse_shard(config.get("shard"))
    bookmarks = state.get("bookmarks")
    if shard is None or not isinstance(bookmarks, dict):
        return
    for stream, provider_key in providers.items():
        bookmark = bookmarks.get(stream)
        if not isinstance(bookmark, dict):
            continue
        partitions = bookmark.get("partitions")
        if isinstance(partitions, list):
            partitions[:] = [entry for entry in partitions if _taken(entry, provider_key, shard)]
        elif not in_shard(provider_key, None, shard):
            del bookmarks[stream]


def _taken(entry: t.Any, provider_key: str, shard: tuple[int, int]) -> bool:
    context = entry.get("context") if isinstance(entry, dict) else None
    account = context.get(ACCOUNT_FIELD) if isinstance(context, dict) else None
    if not isinstance(account, str):
        return True  # not an account's entry: nothing to decide, keep it
    return in_shard(provider_key, account, shard)
