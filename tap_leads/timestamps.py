"""Lenient timestamp normalisation to UTC RFC 3339."""

from __future__ import annotations

from datetime import UTC, datetime


def parse_timestamp(value: object) -> datetime | None:
    """Parse a provider timestamp; naive values are taken as UTC.

    Returns None for anything that is not a parseable timestamp, such as the
    three-digit years some providers emit.
    """
    if not isinstance(value, str) or len(value) < 10:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def format_timestamp(moment: datetime) -> str:
    """Format as fixed-width UTC RFC 3339.

    A fixed width (always microseconds, always +00:00) keeps string order equal to
    time order, which the SDK relies on when it keeps the greatest bookmark.
    """
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def normalize_timestamp(value: object) -> str | None:
    """Return the value as UTC RFC 3339, or None when it cannot be parsed."""
    parsed = parse_timestamp(value)
    return None if parsed is None else format_timestamp(parsed)
