"""Which leads an account's list held: the membership a complete, still walk leaves in the
account's state, and the earlier one the next walk compares with.

The keys a walk sees are held by a KeyLedger (keys.py); the stored form is codec.py's.
"""

from __future__ import annotations

import hashlib
import json
import typing as t
from bisect import bisect_left

from tap_leads.replication.codec import decode, encode
from tap_leads.replication.keys import KeyLedger, Keys

__all__ = ["STATE_KEY", "KeyLedger", "Keys", "Membership", "decode", "encode", "fingerprint"]

#: The key of an account's state entry that holds its membership.
STATE_KEY = "membership"


def fingerprint(filters: t.Mapping[str, t.Any]) -> str:
    """A short digest of the settings that narrow a list; equal filters, equal digest."""
    given = {name: value for name, value in filters.items() if value not in (None, "")}
    text = json.dumps(given, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class Membership:
    """The membership an account's state recorded, as the next walk compares with it."""

    def __init__(self, entry: t.Mapping[str, t.Any] | None, filters: str) -> None:
        #: The keys the earlier walk listed, sorted (looked up by bisection, no set).
        self.keys: Keys | None = None
        #: Whether the earlier walk was made with the same narrowing settings.
        self.same_filters = False
        if isinstance(entry, dict) and isinstance(entry.get("ids"), str):
            try:
                self.keys = decode(entry["ids"])
            except ValueError:
                self.keys = None
            self.same_filters = entry.get("filters") == filters
        self.filters = filters
        #: Whether the lead was not listed by the earlier walk (False when none is known).
        self.entered: t.Callable[[t.Any], bool] = (
            _never if self.keys is None else _entered_in(self.keys)
        )

    @property
    def known(self) -> bool:
        return self.keys is not None

    def entry(self, keys: Keys) -> dict[str, t.Any]:
        """The state entry recording these keys."""
        return {"filters": self.filters, "count": len(keys), "ids": encode(keys)}


def _never(key: t.Any) -> bool:
    return False


def _entered_in(keys: Keys) -> t.Callable[[t.Any], bool]:
    """Whether a key is not among these: `not in keys` in one Python frame, as the walk
    asks it of nearly every lead of a list that did not change."""
    number = str if keys.shape is None else keys.shape.number
    values, end = keys.values, len(keys.values)

    def entered(key: t.Any) -> bool:
        value = number(key)
        if value is None:
            return True
        at = bisect_left(values, value)
        return at == end or values[at] != value

    return entered
