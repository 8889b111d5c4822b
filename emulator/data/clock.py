"""Time as integer epoch microseconds, and fast renderings of it in the providers' spellings.

datetime.isoformat and astimezone dominate generation time when called a few times per lead
for 100,000 leads, so the renderings here use a per-day string cache and a seconds-of-day table.
"""

from __future__ import annotations

from bisect import bisect_right
from datetime import UTC, date, datetime, timedelta
from functools import cache

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Every seeded timestamp lies in this window; it ends in the past so that anything stamped "now"
# by touch() or add() is newer than the whole seeded dataset.
DATA_START = datetime(2024, 1, 1, tzinfo=UTC)
DATA_END = datetime(2026, 10, 31, tzinfo=UTC)
SECOND = 1_000_000
DAY = 86_400 * SECOND
HOUR = 3_600 * SECOND


def to_us(moment: datetime) -> int:
    """Epoch microseconds; a naive datetime is taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - EPOCH) // timedelta(microseconds=1)


def from_us(t: int) -> datetime:
    return EPOCH + timedelta(microseconds=t)


DATA_START_US = to_us(DATA_START)
DATA_END_US = to_us(DATA_END)


@cache
def _day(day: int) -> str:
    return (date(1970, 1, 1) + timedelta(days=day)).isoformat()


_HMS: list[str] = []


def _hms_table() -> list[str]:
    if not _HMS:
        _HMS.extend(f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(86_400))
    return _HMS


def parts(t: int) -> tuple[str, str, int]:
    """("YYYY-MM-DD", "HH:MM:SS", microseconds) of a UTC instant."""
    day, rest = divmod(t, DAY)
    second, micro = divmod(rest, SECOND)
    return _day(day), (_HMS or _hms_table())[second], micro


def naive_micro(t: int) -> str:
    """2025-11-11T21:26:54.723257: Python's isoformat of a naive UTC datetime."""
    day, hms, micro = parts(t)
    return f"{day}T{hms}.{micro:06d}"


def _dst_bounds(year: int) -> tuple[int, int]:
    # US rule: from 2am PST on the second Sunday of March to 2am PDT on the first Sunday of
    # November.
    march = datetime(year, 3, 8, 10, tzinfo=UTC)
    november = datetime(year, 11, 1, 9, tzinfo=UTC)
    start = march + timedelta(days=(6 - march.weekday()) % 7)
    end = november + timedelta(days=(6 - november.weekday()) % 7)
    return to_us(start), to_us(end)


_PACIFIC_DST = [bound for year in range(2015, 2041) for bound in _dst_bounds(year)]


def pacific_micro(t: int) -> str:
    """2025-02-28T15:09:03.139554-08:00: Django's rendering in America/Los_Angeles."""
    summer = bisect_right(_PACIFIC_DST, t) % 2 == 1
    day, hms, micro = parts(t - (7 if summer else 8) * HOUR)
    return f"{day}T{hms}.{micro:06d}{'-07:00' if summer else '-08:00'}"


def us_style_minutes(t: int) -> str:
    """02/28/2025 15:09: the US-style local time that Sela's lead forms put in metadata."""
    summer = bisect_right(_PACIFIC_DST, t) % 2 == 1
    day, hms, _ = parts(t - (7 if summer else 8) * HOUR)
    return f"{day[5:7]}/{day[8:10]}/{day[:4]} {hms[:5]}"
