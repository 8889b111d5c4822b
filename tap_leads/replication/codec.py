"""Membership as the state keeps it: "<shape>:<count>:" then base64 of the packed keys,
compressed (zlib; bz2 for narrow gaps, where it saves ~15%) or, when that is no shorter, raw.

Numbered keys (see keys.py) are sorted and delta-coded: the first number, then each gap
as a fixed-width little-endian integer, written byte plane by byte plane (every gap's
lowest byte, then every gap's next byte, ...), so that the high planes, nearly all zeros,
compress to almost nothing and the low ones, random for random ids, cost what they hold.
Keys kept as text ("s2") are their lengths (4 byte planes) and their UTF-8 bytes, sorted.
Every step runs in C (array, bytes slicing, zlib, bz2, base64): no Python frame per key.

The first form (codec_v1.py) is still read.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import operator
import sys
import typing as t
import zlib
from array import array

from tap_leads.replication import codec_v1
from tap_leads.replication.keys import KeyLedger, Keys
from tap_leads.replication.shapes import parse_tag

try:  # CPython builds without libbz2 exist: they write zlib, and cannot read a bz2 packing
    import bz2 as _bz2

    bz2: t.Any = _bz2
except ImportError:  # pragma: no cover
    bz2 = None

_TEXT = "s2"
_NUMBERED = "n2"
_LIMB = 8
_MASK = (1 << 64) - 1
_LITTLE = sys.byteorder == "little"
#: zlib's level: 9 costs up to 10x the CPU on ordered ids (ObjectIds) for under 2% fewer bytes.
_LEVEL = 6
#: Gaps this narrow (bytes) and a payload this long (bytes) are worth trying bz2 on: ordered
#: integer ids, whose gaps are mostly 1 or 2.
_NARROW, _BZ2_FROM = 2, 4096
#: The first byte of each packing: zlib's is always 0x78, bz2's "BZh"; raw ones get "r".
_ZLIB, _BZ2, _RAW = 0x78, ord("B"), b"r"


def encode(keys: Keys | t.Iterable[t.Any]) -> str:
    """Keys in the compact form kept in the state (keys given as text are shaped first)."""
    if not isinstance(keys, Keys):
        ledger = KeyLedger()
        for key in keys:
            ledger.first_time(key)
        keys = ledger.snapshot()
    if keys.shape is None:
        head, payload, narrow = _TEXT, _texts(keys.values), False
    else:
        payload, width = _numbers(keys.values)
        head, narrow = f"{_NUMBERED}:{keys.shape.tag}", width <= _NARROW
    body = base64.b64encode(_pack(payload, narrow=narrow)).decode("ascii")
    return f"{head}:{len(keys)}:{body}"


def _pack(payload: bytes, *, narrow: bool) -> bytes:
    """The shortest of: zlib, bz2 (narrow gaps only), the payload itself."""
    packed = zlib.compress(payload, _LEVEL)
    if narrow and len(payload) >= _BZ2_FROM and bz2 is not None:
        # the smallest block that holds the payload: bz2's memory grows with the block
        level = min(9, len(payload) // 100_000 + 1)
        packed = min(packed, bz2.compress(payload, level), key=len)
    return packed if len(packed) <= len(payload) else _RAW + payload


def _unpack(data: bytes) -> bytes:
    if not data:
        raise ValueError("it is empty")
    if data[0] == _ZLIB:
        return zlib.decompress(data)
    if data[0] == _BZ2 and bz2 is not None:
        return bz2.decompress(data)
    if data[:1] == _RAW:
        return data[1:]
    raise ValueError("its packing is unknown")


def decode(text: str) -> Keys:
    """The keys of a stored membership, of any form written so far; ValueError when it
    cannot be read."""
    head, _, body = text.rpartition(":")
    if head.startswith(codec_v1.TAGS):
        return codec_v1.decode(head, body)
    head, _, count_text = head.rpartition(":")
    try:
        count = int(count_text)
        data = _unpack(base64.b64decode(body, validate=True))
        if head == _TEXT:
            return Keys(None, _read_texts(data, count))
        kind, _, tag = head.partition(":")
        if kind != _NUMBERED:
            raise ValueError(f"unknown membership encoding {head!r}")
        return Keys(parse_tag(tag), _read_numbers(data, count))
    except (ValueError, OSError, EOFError, zlib.error, binascii.Error) as exc:
        raise ValueError(f"unreadable membership: {exc}") from None


def _planes(words: array, width: int) -> list[bytes]:
    """The first `width` byte planes of 8-byte words, lowest byte first."""
    if not _LITTLE:
        words.byteswap()
    raw = words.tobytes()
    return [raw[plane::_LIMB] for plane in range(width)]


def _unplane(data: bytes | memoryview, count: int, width: int) -> array:
    """8-byte words from their first `width` byte planes."""
    raw = bytearray(count * _LIMB)
    for plane in range(width):
        raw[plane::_LIMB] = data[plane * count : (plane + 1) * count]
    words = array("Q")
    words.frombytes(raw)
    if not _LITTLE:
        words.byteswap()
    return words


def _gaps(values: t.Sequence[int]) -> t.Iterator[int]:
    return map(operator.sub, itertools.islice(values, 1, None), values)


def _numbers(values: t.Sequence[int]) -> tuple[bytes, int]:
    """The first number, the gaps' width in bytes, then the gaps' byte planes, 8 bytes
    (one limb) of every gap at a time."""
    first = values[0] if values else 0
    width = (max(_gaps(values), default=0).bit_length() + 7) // 8
    parts = [f"{first:x}:{width}:".encode("ascii")]
    for shift in range(0, width, _LIMB):
        limb = map(operator.rshift, _gaps(values), itertools.repeat(shift * 8))
        words = array("Q", map(operator.and_, limb, itertools.repeat(_MASK)))
        parts += _planes(words, min(_LIMB, width - shift))
    return b"".join(parts), width


def _read_numbers(data: bytes, count: int) -> t.Sequence[int]:
    first_end = data.index(b":")
    width_end = data.index(b":", first_end + 1)
    first, width = int(data[:first_end], 16), int(data[first_end + 1 : width_end])
    gaps_count = max(count - 1, 0)
    view = memoryview(data)[width_end + 1 :]
    if count < 0 or len(view) != gaps_count * width:
        raise ValueError("its length does not match its count")
    if count <= 1:  # no gaps: whatever width the head claims, there is nothing to read
        return [first][:count]
    if width <= _LIMB:  # the gaps are one array: whether the numbers fit one too is known
        words = _unplane(view, gaps_count, width)
        values = itertools.accumulate(words, initial=first)
        return array("Q", values) if first + sum(words) <= _MASK else list(values)
    gaps: t.Iterable[int] = itertools.repeat(0, gaps_count)
    for shift in range(0, width, _LIMB):
        limb = _unplane(view[shift * gaps_count :], gaps_count, min(_LIMB, width - shift))
        gaps = map(operator.or_, gaps, map(operator.lshift, limb, itertools.repeat(shift * 8)))
    return list(itertools.accumulate(gaps, initial=first))


def _texts(values: t.Sequence[str]) -> bytes:
    raw = list(
        map(str.encode, values, itertools.repeat("utf-8"), itertools.repeat("surrogatepass"))
    )
    lengths = array("Q", map(len, raw))
    return b"".join([*_planes(lengths, 4), *raw])


def _read_texts(data: bytes, count: int) -> list[str]:
    if len(data) < 4 * count or count < 0:
        raise ValueError("its length does not match its count")
    lengths = _unplane(data, count, 4)
    ends = list(itertools.accumulate(lengths, initial=4 * count))
    if ends[-1] != len(data):
        raise ValueError("its length does not match its count")
    pieces = map(data.__getitem__, map(slice, ends, ends[1:]))
    return list(
        map(bytes.decode, pieces, itertools.repeat("utf-8"), itertools.repeat("surrogatepass"))
    )
