"""Lenient timestamp normalisation to UTC RFC 3339."""

from __future__ import annotations

from datetime import UTC, datetime


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
