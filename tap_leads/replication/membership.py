"""Which leads an account's list held: the keys one walk saw, and the membership a
complete, still walk leaves in the account's state.

Membership is stored compactly: the keys as text, sorted and delta-coded, compressed
with zlib and written as base85. Integer ids are varint gaps (100,000 of them take well
under a byte each); ids that read as wide numbers (hex ObjectIds, Teli's "<ms>x<digits>"
unique_ids) are Rice-coded gaps (12-13 bytes each at 100,000); other text is front-coded.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import re
import typing as t
import zlib

#: The key of an account's state entry that holds its membership.
STATE_KEY = "membership"
_STRINGS = "s1:"


class KeyLedger:
    """Primary keys seen in one walk or run, to drop repeats; keys only, so memory stays small."""

    def __init__(self) -> None:
        self._seen: set[t.Any] = set()
        self.repeats = 0

    @property
    def count(self) -> int:
        return len(self._seen)

    def first_time(self, key: t.Any) -> bool:
        """Record the key; False when it was already seen."""
        if key in self._seen:
            self.repeats += 1
            return False
        self._seen.add(key)
        return True

    def texts(self) -> set[str]:
        """The keys as text, as membership keeps them."""
        return {str(key) for key in self._seen}


def fingerprint(filters: t.Mapping[str, t.Any]) -> str:
    """A short digest of the settings that narrow a list; equal filters, equal digest."""
    given = {name: value for name, value in filters.items() if value not in (None, "")}
    text = json.dumps(given, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _varint(value: int, out: bytearray) -> None:
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)


def _read_varint(data: bytes, position: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[position]
        position += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, position
        shift += 7


def _rice(values: list[int]) -> bytes:
    """Sorted wide numbers as Rice-coded gaps: the gap's low k bits as they are, its high
    bits in unary. Random ids leave little else to compress; this spends ~2 bits per id
    over their information, where a length byte and whole bytes spend ~12.

    The bits are turned into bytes a chunk at a time (left-padded to whole bytes, as one
    big number would be), so no bit string of every id is held at once."""
    first = values[0] if values else 0
    last = values[-1] if values else 0
    count = max(len(values) - 1, 0)
    k = max(((last - first) // max(count, 1)).bit_length() - 1, 0)
    mask = (1 << k) - 1
    length = sum((b - a) >> k for a, b in itertools.pairwise(values)) + count * (1 + k)
    head = bytearray()
    _varint(len(values), head)
    _varint(first, head)
    _varint(k, head)
    _varint(count, head)
    _varint(length, head)
    pending = ["0" * (-length % 8)]
    size = len(pending[0])
    for a, b in itertools.pairwise(values):
        gap = b - a
        piece = "1" * (gap >> k) + "0" + (format(gap & mask, f"0{k}b") if k else "")
        pending.append(piece)
        size += len(piece)
        if size >= _CHUNK_BITS:
            text = "".join(pending)
            cut = size - size % 8
            head += int(text[:cut], 2).to_bytes(cut // 8, "big")
            pending, size = [text[cut:]], size - cut
    text = "".join(pending)
    if text:
        head += int(text, 2).to_bytes(len(text) // 8, "big")
    return bytes(head)


_CHUNK_BITS = 1 << 16


def _unrice(data: bytes) -> t.Iterator[int]:
    """The numbers of _rice, one at a time, reading its bits a chunk at a time."""
    total, position = _read_varint(data, 0)
    if not total:
        return
    value, position = _read_varint(data, position)
    k, position = _read_varint(data, position)
    count, position = _read_varint(data, position)
    length, position = _read_varint(data, position)
    yield value
    view = memoryview(data)[position:]
    bits, at, taken, skip = "", 0, 0, -length % 8
    step = _CHUNK_BITS // 8
    for _ in range(count):
        stop = bits.find("0", at)
        while stop < 0 or stop + 1 + k > len(bits):
            part = view[taken : taken + step]
            if not part:
                raise ValueError("unreadable membership: its bits end early")
            taken += len(part)
            bits = bits[at:] + format(int.from_bytes(part, "big"), f"0{len(part) * 8}b")
            at, skip = skip, 0
            stop = bits.find("0", at)
        gap = (stop - at) << k
        at = stop + 1
        if k:
            gap |= int(bits[at : at + k], 2)
            at += k
        value += gap
        yield value


def _is_count(text: str) -> bool:
    return text.isdigit() and text.isascii() and (text == "0" or not text.startswith("0"))


_HEX = frozenset("0123456789abcdef")
#: A number, a separator, a fixed-width number: Bubble.io's unique_id ("1762…x3891…").
_PAIR = re.compile(r"([1-9][0-9]*|0)([^0-9:]+)([0-9]+)")


def _numbering(texts: set[str]) -> tuple[str, t.Callable[[str], int]] | None:
    """How every key maps to a number and back (a header naming the way), if one does."""
    if all(_is_count(text) for text in texts):
        return "i1:", int
    widths = {len(text) for text in texts}
    if len(widths) == 1 and all(_HEX.issuperset(text) for text in texts):
        return f"h1:{widths.pop()}:", lambda text: int(text, 16)
    shape: tuple[str, int] | None = None
    for text in texts:  # one match at a time: no list of match objects per key
        match = _PAIR.fullmatch(text)
        if match is None:
            return None
        if shape is None:
            shape = (match[2], len(match[3]))
        elif shape != (match[2], len(match[3])):
            return None
    if shape is None:
        return None
    separator, width = shape
    scale = 10**width
    return f"d1:{separator}:{width}:", lambda text: _pair_number(text, separator, scale)


def _pair_number(text: str, separator: str, scale: int) -> int:
    head, _, tail = text.partition(separator)
    return int(head) * scale + int(tail)


def _unnumber(header: str) -> t.Callable[[int], str]:
    kind, *params = header.split(":")
    if kind == "i1":
        return str
    if kind == "h1":
        width = int(params[0])
        return lambda number: f"{number:0{width}x}"
    if kind == "d1":
        separator, width = params[0], int(params[1])
        return lambda number: f"{number // 10**width}{separator}{number % 10**width:0{width}d}"
    raise ValueError(f"unknown membership encoding {header!r}")


def encode(keys: t.Iterable[str]) -> str:
    """Keys (as text) in the compact form kept in the state."""
    texts = keys if isinstance(keys, (set, frozenset)) else set(keys)  # no second copy
    out = bytearray()
    numbering = _numbering(texts) if texts else ("i1:", int)
    if numbering is not None:
        header, number = numbering
        values = sorted(number(text) for text in texts)
        if header == "i1:":
            previous = 0
            for value in values:
                _varint(value - previous, out)
                previous = value
        else:
            out += _rice(values)
    else:
        header = _STRINGS
        before = b""
        for text in sorted(texts):
            raw = text.encode()
            shared = 0
            limit = min(len(raw), len(before))
            while shared < limit and raw[shared] == before[shared]:
                shared += 1
            _varint(shared, out)
            _varint(len(raw) - shared, out)
            out += raw[shared:]
            before = raw
    return header + _b85encode(zlib.compress(bytes(out), 9))


#: base85 turns each 4 bytes into 5 characters on their own, so whole 4-byte chunks
#: encode (and whole 5-character chunks decode) apart; chunking bounds the memory the
#: base64 module's per-word lists take.
_B85_BYTES = 1 << 16


def _b85encode(data: bytes) -> str:
    step = _B85_BYTES
    return "".join(
        base64.b85encode(data[at : at + step]).decode("ascii") for at in range(0, len(data), step)
    )


def _b85decode(text: str) -> bytes:
    step = _B85_BYTES // 4 * 5
    return b"".join(base64.b85decode(text[at : at + step]) for at in range(0, len(text), step))


def decode(text: str) -> set[str]:
    """The keys (as text) of a compact membership; ValueError when it cannot be read."""
    header, _, body = text.rpartition(":")
    header += ":"
    try:
        data = zlib.decompress(_b85decode(body))
    except (ValueError, zlib.error) as exc:
        raise ValueError(f"unreadable membership: {exc}") from None
    keys: set[str] = set()
    position = 0
    if header == "i1:":
        value = 0
        while position < len(data):
            delta, position = _read_varint(data, position)
            value += delta
            keys.add(str(value))
        return keys
    if header != _STRINGS:
        show = _unnumber(header[:-1])
        return {show(value) for value in _unrice(data)}
    before = b""
    while position < len(data):
        shared, position = _read_varint(data, position)
        rest, position = _read_varint(data, position)
        raw = before[:shared] + data[position : position + rest]
        position += rest
        keys.add(raw.decode())
        before = raw
    return keys


class Membership:
    """The membership an account's state recorded, as the next walk compares with it."""

    def __init__(self, entry: t.Mapping[str, t.Any] | None, filters: str) -> None:
        self.keys: set[str] | None = None
        #: Whether the earlier walk was made with the same narrowing settings.
        self.same_filters = False
        if isinstance(entry, dict) and isinstance(entry.get("ids"), str):
            try:
                self.keys = decode(entry["ids"])
            except ValueError:
                self.keys = None
            self.same_filters = entry.get("filters") == filters
        self.filters = filters

    @property
    def known(self) -> bool:
        return self.keys is not None

    def entered(self, key: t.Any) -> bool:
        """Whether the lead was not listed by the earlier walk (False when none is known)."""
        return self.keys is not None and str(key) not in self.keys

    def entry(self, keys: set[str]) -> dict[str, t.Any]:
        """The state entry recording these keys."""
        return {"filters": self.filters, "count": len(keys), "ids": encode(keys)}
