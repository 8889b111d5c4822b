"""Lenient timestamp normalisation to UTC RFC 3339."""

from __future__ import annotations

import re
import typing as t
from collections import deque
from datetime import UTC, datetime

# One field's values over a page, each on a line, all in one form: already normal
# (fixed-width UTC RFC 3339), or naive with microseconds. Whether each is a real date and
# time is left to datetime.fromisoformat, as value by value.
_FORM = "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}[.][0-9]{6}"
_NORMAL_LINES = re.compile(f"(?:{_FORM}[+]00:00\n)*")
_NAIVE_LINES = re.compile(f"(?:{_FORM}\n)*")


def _read(value: object) -> datetime | None:
    """The ISO 8601 value as written (naive or aware), or None if it is not one."""
    if not isinstance(value, str) or len(value) < 10:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def parse_timestamp(value: object) -> datetime | None:
    """Parse a provider timestamp; naive values are taken as UTC.

    Returns None for anything that is not a parseable timestamp, such as the
    three-digit years some providers emit. Aware values keep their zone: they
    compare correctly whatever it is.
    """
    parsed = _read(value)
    if parsed is not None and parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed


def format_timestamp(moment: datetime) -> str:
    """Format as fixed-width UTC RFC 3339.

    A fixed width (always microseconds, always +00:00) keeps string order equal to
    time order, which the SDK relies on when it keeps the greatest bookmark.
    """
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def normalize_timestamp(value: object) -> str | None:
    """Return the value as fixed-width UTC RFC 3339, or None when it cannot be parsed."""
    # Called for every timestamp of every lead: _read is inlined, and no helper is called
    # on the common paths.
    if type(value) is not str or len(value) < 10:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    # Most provider values are already UTC (or naive, taken as UTC) with seconds: the
    # date and time can be kept as written, which is several times cheaper than
    # converting through datetime arithmetic on every timestamp of every lead.
    offset = parsed.utcoffset()
    if (offset is None or not offset) and len(value) >= 19 and value[16] == ":":
        if value[10] == "T" and value[19:20] == ".":
            if len(value) == 32 and value[26:] == "+00:00":
                return value
            if len(value) == 26:
                return value + "+00:00"
        return f"{value[:10]}T{value[11:19]}.{parsed.microsecond:06d}+00:00"
    return format_timestamp(parsed if offset is not None else parsed.replace(tzinfo=UTC))


def normalize_column(rows: t.Sequence[dict[str, t.Any]], key: str) -> bool:
    """Normalise one timestamp field over a page's records in one pass, as
    normalize_timestamp would value by value; False, changing nothing, unless every value
    present is already normal or naive UTC with microseconds (what most providers send).

    A regular expression over the page's values and one C-level pass of
    datetime.fromisoformat cost a fraction of normalising each value in Python.
    """
    values = [row.get(key) for row in rows]
    present = [value for value in values if value is not None] if None in values else values
    if not present:
        return True
    try:
        text = "\n".join(present) + "\n"
    except TypeError:  # a value that is not text
        return False
    normal = _NORMAL_LINES.fullmatch(text) is not None
    if not normal and _NAIVE_LINES.fullmatch(text) is None:
        return False
    try:
        deque(map(datetime.fromisoformat, present), maxlen=0)
    except ValueError:  # not a real date or time: value by value, each reported
        return False
    if not normal:
        for row, value in zip(rows, values, strict=True):
            if value is not None:
                row[key] = value + "+00:00"
    return True
