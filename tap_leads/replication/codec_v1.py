"""Reading the first stored form of membership ("i1:", "h1:", "d1:", "s1:"), which states in
users' warehouses still carry: the keys as text, sorted and delta-coded (integers as varint
gaps, wide numbers as Rice-coded gaps, other text front-coded), zlib, then base85.

Only read: new memberships are written in the form of `codec.py`.
"""

from __future__ import annotations

import base64
import typing as t
import zlib

from tap_leads.replication.keys import Keys
from tap_leads.replication.shapes import Pair, Shape, Whole, parse_tag, shared

#: The tags of this form, by the first letter of the shape they name.
TAGS = ("i1", "h1", "d1", "s1")
_CHUNK_BITS = 1 << 16
#: base85 decodes whole 5-character chunks apart; chunking bounds the base64 module's lists.
_B85_CHARS = (1 << 16) // 4 * 5


def read_varint(data: bytes, position: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[position]
        position += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, position
        shift += 7


def _unrice(data: bytes) -> t.Iterator[int]:
    """Rice-coded gaps (the gap's low k bits as they are, its high bits in unary), read a
    chunk of bits at a time."""
    total, position = read_varint(data, 0)
    if not total:
        return
    value, position = read_varint(data, position)
    k, position = read_varint(data, position)
    count, position = read_varint(data, position)
    length, position = read_varint(data, position)
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


def _shape(header: str) -> Shape:
    """The shape a numbered header of this form names ("h1:24", "d1:x:18")."""
    kind, _, rest = header.partition(":")
    if kind == "d1":  # its separator may hold anything but digits and ":"
        separator, _, width = rest.rpartition(":")
        return shared(Pair(separator, int(width)))
    return parse_tag(f"{kind[0]}:{rest}")


def decode(header: str, body: str) -> Keys:
    """The keys of a membership in the first form; ValueError when it cannot be read."""
    try:
        step = _B85_CHARS
        packed = b"".join(
            base64.b85decode(body[at : at + step]) for at in range(0, len(body), step)
        )
        data = zlib.decompress(packed)
    except (ValueError, zlib.error) as exc:
        raise ValueError(f"unreadable membership: {exc}") from None
    try:
        if header == "i1":
            return Keys(shared(Whole()), _gaps(data))
        if header == "s1":
            return Keys(None, sorted(_front_coded(data)))
        return Keys(_shape(header), list(_unrice(data)))
    except IndexError:
        raise ValueError("unreadable membership: it ends early") from None


def _gaps(data: bytes) -> list[int]:
    values, value, position = [], 0, 0
    while position < len(data):
        delta, position = read_varint(data, position)
        value += delta
        values.append(value)
    return values


def _front_coded(data: bytes) -> t.Iterator[str]:
    before, position = b"", 0
    while position < len(data):
        shared, position = read_varint(data, position)
        rest, position = read_varint(data, position)
        raw = before[:shared] + data[position : position + rest]
        position += rest
        yield raw.decode()
        before = raw
