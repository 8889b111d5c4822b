"""The keys a walk sees, held compactly: each key becomes a number as it arrives, where the
ids allow it, so a walk of 100,000 leads holds small ints rather than their texts.

A shape maps a key to a number and back, exactly: `number` accepts only the texts `show`
writes (and, for whole numbers, the ints themselves), so two keys never share a number and
every number reads back as the key's text. Shapes: whole numbers (integer ids, also sent as
text), fixed-width lowercase hex (Nexus ERP's ObjectIds), and a number, a separator and a
fixed-width number (Bubble.io's unique_id "<ms>x<digits>", Teli's). Keys that fit no shape
are kept as text.
"""

from __future__ import annotations

import itertools
import operator
import re
import typing as t
from bisect import bisect_left

_HEX = re.compile("[0-9a-f]+")
#: A number, a separator, a fixed-width number: Bubble.io's unique_id ("1762…x3891…").
_PAIR = re.compile(r"([1-9][0-9]*|0)([^0-9:]+)([0-9]+)")
#: Longer decimal texts than Python converts by default stay text.
_MAX_DIGITS = 4000


class Shape:
    """How keys map to numbers and back; `tag` names it in the stored form."""

    tag = ""
    #: The key's number, or None when the key is not of this shape (a plain function, set
    #: per instance: the walk calls it once per lead).
    number: t.Callable[[t.Any], int | None]

    def shows(self, numbers: t.Iterable[int]) -> t.Iterator[str]:
        """The keys' texts, in the numbers' order (C-level maps, no Python frame per key)."""
        raise NotImplementedError

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Shape) and other.tag == self.tag

    def __hash__(self) -> int:
        return hash(self.tag)


class Whole(Shape):
    """Non-negative integers, as ints or as their decimal text."""

    tag = "i"

    def __init__(self) -> None:
        self.number = _whole_number

    def shows(self, numbers: t.Iterable[int]) -> t.Iterator[str]:
        return map(str, numbers)


def _whole_number(key: t.Any) -> int | None:
    if type(key) is int:
        return key if key >= 0 else None
    if (
        type(key) is str
        and key.isascii()
        and key.isdigit()
        and (key[0] != "0" or len(key) == 1)
        and len(key) <= _MAX_DIGITS
    ):
        return int(key)
    return None


class Hex(Shape):
    """Lowercase hex texts of one width (ObjectIds: 24)."""

    def __init__(self, width: int) -> None:
        self.width = width
        self.tag = f"h:{width}"
        self._format = f"0{width}x"
        fits = re.compile(f"[0-9a-f]{{{width}}}").fullmatch
        last: tuple[t.Any, int | None] = (None, None)

        def number(key: t.Any) -> int | None:
            nonlocal last
            held, value = last  # one tuple: read and written whole, safe across threads
            if held is key:
                return value
            value = int(key, 16) if type(key) is str and fits(key) else None
            last = (key, value)
            return value

        self.number = number

    def shows(self, numbers: t.Iterable[int]) -> t.Iterator[str]:
        return map(format, numbers, itertools.repeat(self._format))


class Pair(Shape):
    """A whole number, a separator, then a number of a fixed width: "<ms>x<digits>"."""

    def __init__(self, separator: str, width: int) -> None:
        self.separator, self.width = separator, width
        self.tag = f"d:{separator}:{width}"
        self._scale = 10**width
        written = separator.replace("{", "{{").replace("}", "}}")
        self._format = f"{{}}{written}{{:0{width}d}}".format

        last: tuple[t.Any, int | None] = (None, None)

        def number(key: t.Any) -> int | None:
            nonlocal last
            held, value = last  # see Hex
            if held is key:
                return value
            value = None
            if type(key) is str:
                head, found, tail = key.rpartition(separator)
                if found and len(tail) == width and head and (head[0] != "0" or len(head) == 1):
                    digits = head + tail  # the tail's width is fixed: head * 10**width + tail
                    if digits.isascii() and digits.isdigit() and len(digits) <= _MAX_DIGITS:
                        value = int(digits)
            last = (key, value)
            return value

        self.number = number

    def shows(self, numbers: t.Iterable[int]) -> t.Iterator[str]:
        return itertools.starmap(self._format, map(divmod, numbers, itertools.repeat(self._scale)))


_SHARED: dict[str, Shape] = {}


def shared(shape: Shape) -> Shape:
    """One instance per shape (of the first few dozen), so that a walk's ledger and the
    earlier membership share the memory of the last key each shape's `number` converted:
    the walk asks both about each key, one after the other."""
    if len(_SHARED) < 64:
        return _SHARED.setdefault(shape.tag, shape)
    return _SHARED.get(shape.tag, shape)


def learn(key: t.Any) -> Shape | None:
    """The shape of one key, if it has one."""
    if Whole().number(key) is not None:
        return shared(Whole())
    if type(key) is not str or not key:
        return None
    if len(key) <= 64 and _HEX.fullmatch(key):
        return shared(Hex(len(key)))
    match = _PAIR.fullmatch(key)
    if match is None:
        return None
    shape = shared(Pair(match[2], len(match[3])))
    return shape if shape.number(key) is not None else None


def parse_tag(tag: str) -> Shape:
    """The shape a stored form names; ValueError when it names none."""
    kind, _, rest = tag.partition(":")
    try:
        if kind == "i" and not rest:
            return shared(Whole())
        if kind == "h":
            return shared(Hex(int(rest)))
        if kind == "d":
            separator, _, width = rest.rpartition(":")
            if separator:
                return shared(Pair(separator, int(width)))
    except ValueError:
        pass
    raise ValueError(f"unknown membership encoding {tag!r}")


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
