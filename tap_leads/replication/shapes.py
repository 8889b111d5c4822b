"""Shapes of primary keys: how a key maps to a number and back, exactly.

`number` accepts only the texts `show` writes (and, for whole numbers, the ints
themselves), so two keys never share a number and every number reads back as the key's
text. Shapes: whole numbers (integer ids, also sent as text), fixed-width lowercase hex
(Nexus ERP's ObjectIds), and a number, a separator and a fixed-width number (Bubble.io's
unique_id "<ms>x<digits>", Teli's). `numbers` reads a page's keys at once.
"""

from __future__ import annotations

import itertools
import re
import typing as t

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

    def numbers(self, keys: list[t.Any]) -> list[int] | None:
        """Every key's number, as `number` gives it, for a page's keys at once (C-level
        passes); None when any key is not of this shape."""
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

    def numbers(self, keys: list[t.Any]) -> list[int] | None:
        kinds = set(map(type, keys))
        if kinds == {int}:
            return keys if min(keys, default=0) >= 0 else None
        if kinds == {str} and _lines(_WHOLE_LINE, keys):
            return list(map(int, keys))
        return None


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
        self._line = re.compile(f"(?:[0-9a-f]{{{width}}}\n)*")
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

    def numbers(self, keys: list[t.Any]) -> list[int] | None:
        if not _lines(self._line, keys):
            return None
        return list(map(int, keys, itertools.repeat(16)))


class Pair(Shape):
    """A whole number, a separator, then a number of a fixed width: "<ms>x<digits>"."""

    def __init__(self, separator: str, width: int) -> None:
        self.separator, self.width = separator, width
        self.tag = f"d:{separator}:{width}"
        self._scale = 10**width
        written = separator.replace("{", "{{").replace("}", "}}")
        self._format = f"{{}}{written}{{:0{width}d}}".format
        # Each key as `number` reads one: a whole number without leading zeros, the
        # separator and `width` digits, within the digits Python reads.
        head = _MAX_DIGITS - width
        self._line = (
            re.compile(
                f"(?:(?:[1-9][0-9]{{0,{head - 1}}}|0){re.escape(separator)}[0-9]{{{width}}}\n)*"
            )
            if head > 0 and "\n" not in separator
            else None
        )

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

    def numbers(self, keys: list[t.Any]) -> list[int] | None:
        if self._line is None or not _lines(self._line, keys):
            return None
        return list(map(int, "\n".join(keys).replace(self.separator, "").split("\n")))


#: Whole numbers' texts, each on a line, as _whole_number reads one.
_WHOLE_LINE = re.compile(f"(?:(?:[1-9][0-9]{{0,{_MAX_DIGITS - 1}}}|0)\n)*")


def _lines(pattern: re.Pattern[str], keys: list[t.Any]) -> bool:
    """Whether the keys, all texts, each on a line, match the pattern (one C-level pass)."""
    if not keys:
        return False
    try:
        text = "\n".join(keys)
    except TypeError:  # not all texts
        return False
    return pattern.fullmatch(text + "\n") is not None


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
