import pytest

from tap_leads.timestamps import normalize_timestamp


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2025-11-11T21:26:54.723257", "2025-11-11T21:26:54.723257+00:00"),
        ("2025-11-11T21:26:54.723257+00:00", "2025-11-11T21:26:54.723257+00:00"),
        ("2026-04-29T13:00:00.000Z", "2026-04-29T13:00:00.000000+00:00"),
        ("2025-02-28T15:09:03.139554-08:00", "2025-02-28T23:09:03.139554+00:00"),
        ("2025-06-30 11:18:04", "2025-06-30T11:18:04.000000+00:00"),
        ("2025-06-02T12:08:17.000000Z", "2025-06-02T12:08:17.000000+00:00"),
        ("2023-11-07T05:31:56Z", "2023-11-07T05:31:56.000000+00:00"),
    ],
)
def test_every_provider_format_becomes_fixed_width_utc(raw, expected):
    assert normalize_timestamp(raw) == expected


@pytest.mark.parametrize(
    "raw", ["025-02-28T15:09:03.122515-08:00", "", "02/28/2025 15:09", {}, 17, None]
)
def test_unreadable_values_become_none(raw):
    assert normalize_timestamp(raw) is None


def test_string_order_equals_time_order():
    a = normalize_timestamp("2025-02-28T15:09:03-08:00")  # 23:09:03 UTC
    b = normalize_timestamp("2025-02-28T23:09:03.5Z")
    assert a < b
