"""The keys a walk sees, held compactly: each key becomes a number as it arrives, where the
ids allow it (see `shapes`), so a walk of 100,000 leads holds small ints rather than their
texts. Keys that fit no shape are kept as text.
"""

from __future__ import annotations

import itertools
import operator
import typing as t
from bisect import bisect_left

from tap_leads.replication.shapes import Shape, learn


class Keys:
    """A sorted, frozen set of keys: numbers of one shape, or texts (shape None)."""

    def __init__(self, shape: Shape | None, values: t.Sequence[t.Any]) -> None:
        self.shape, self.values = shape, values

    def __len__(self) -> int:
        return len(self.values)

    def _value(self, key: t.Any) -> t.Any:
        return str(key) if self.shape is None else self.shape.number(key)

    def __contains__(self, key: t.Any) -> bool:
        value = self._value(key)
        if value is None:
            return False
        values = self.values
        at = bisect_left(values, value)
        return at < len(values) and values[at] == value

    def texts(self) -> t.Iterator[str]:
        """The keys as text, in order."""
        return iter(self.values) if self.shape is None else self.shape.shows(self.values)

    def difference(self, other: Keys) -> list[str]:
        """The keys (as text) held here and not in other, without a set of either."""
        if self.shape != other.shape:
            theirs = set(other.texts())
            return [text for text in self.texts() if text not in theirs]
        mine, values = self.values, other.values
        if not values:
            return list(self.texts())
        # bisect's place of each key, kept inside the list: the value there equals the key
        # exactly when the key is held (C-level maps, no Python frame per key)
        last = itertools.repeat(len(values) - 1)
        places = map(min, map(bisect_left, itertools.repeat(values), mine), last)
        found = map(operator.getitem, itertools.repeat(values), places)
        gone = list(itertools.compress(mine, map(operator.ne, mine, found)))
        return gone if self.shape is None else list(self.shape.shows(gone))


def _unknown(key: t.Any) -> None:
    """No shape learned yet: every first key takes the slow path once."""
    return


class KeyLedger:
    """Primary keys seen in one walk or run, to drop repeats; keys only, so memory stays small.

    Keys are held as numbers of one shape, learned from the first key; a key that does not
    fit makes the ledger find a shape that fits every key so far (at most a few times), or
    keep texts from then on.
    """

    def __init__(self) -> None:
        self._seen: set[t.Any] = set()
        self.repeats = 0
        self._shape: Shape | None = None
        self._number: t.Callable[[t.Any], t.Any] = _unknown
        self._reshapes = 0

    @property
    def count(self) -> int:
        return len(self._seen)

    def first_time(self, key: t.Any) -> bool:
        """Record the key; False when it was already seen."""
        value = self._number(key)
        if value is None:
            value = self._refit(key)
        seen = self._seen
        if value in seen:
            self.repeats += 1
            return False
        seen.add(value)
        return True

    def first_times(self, keys: list[t.Any]) -> list[bool]:
        """first_time for each of a page's keys, in order: their numbers found at once."""
        numbers = self._shape.numbers(keys) if self._shape is not None else None
        if numbers is None:
            return list(map(self.first_time, keys))
        seen = self._seen
        add = seen.add
        # set.add returns None: a key not seen yet is added, and counts as new.
        new = [number not in seen and not add(number) for number in numbers]
        self.repeats += len(new) - sum(new)
        return new

    def _refit(self, key: t.Any) -> t.Any:
        """A shape for every key so far and this one, or texts; the key's value in it."""
        old = self._shape
        shape = learn(key) if self._reshapes < 3 and self._number is not str else None
        self._reshapes += 1
        if shape is not None and old is not None:
            numbers = set(map(shape.number, old.shows(self._seen)))
            if None in numbers:
                shape = None
            else:
                self._seen = numbers
        if shape is None:
            if old is not None:
                self._seen = set(old.shows(self._seen))
            self._shape, self._number = None, str
            return str(key)
        self._shape, self._number = shape, shape.number
        return shape.number(key)

    def snapshot(self) -> Keys:
        """The keys seen so far, sorted: a list of the held values, not a copy of them."""
        return Keys(self._shape, sorted(self._seen))

    def texts(self) -> set[str]:
        """The keys as text, as membership keeps them."""
        return set(self.snapshot().texts())
