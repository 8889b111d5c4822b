import random

import pytest

from tap_leads.timestamps import normalize_column, normalize_timestamp


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


# Values of every form a page may mix: those the page-wide pass takes, and those that
# send the page's field back to the value-by-value path (unreal dates, leap seconds,
# other separators, zones, precision, kinds).
_FORMS = [
    "2025-11-11T21:26:54.723257",
    "2024-02-29T00:00:00.000001",
    "2025-11-11T21:26:54.723257+00:00",
    "2024-02-29T23:59:59.999999+00:00",
    None,
    "2023-02-29T10:00:00.000000",
    "2025-04-31T10:00:00.000000+00:00",
    "2025-12-31T23:59:60.000000",
    "0000-01-01T00:00:00.000000",
    "2025-06-30 11:18:04.000000",
    "2025-06-30T11:18:04.000000Z",
    "2025-06-30T11:18:04.000000+01:00",
    "2025-06-30T11:18:04",
    "2025-W26-1T11:18:04.000000",
    "\uff12\uff10\uff12\uff15-06-30T11:18:04.000000",  # full-width digits
    "",
    17,
]


def _by_value(values: list) -> list:
    return [normalize_timestamp(v) if v is not None else None for v in values]


@pytest.mark.parametrize("seed", range(40))
def test_a_page_at_once_equals_value_by_value(seed):
    rng = random.Random(seed)
    # Pages of one clean form (naive, or already normal), as providers send them, and
    # pages with other forms mixed in.
    clean = seed % 4 in (0, 1)
    forms = [_FORMS[0:2], _FORMS[2:4], _FORMS, [_FORMS[0], rng.choice(_FORMS[5:])]][seed % 4]
    values = [rng.choice(forms) for _ in range(rng.randint(1, 30))] + [forms[-1]]
    values += [None] * (seed % 3)
    rows = [{"at": value, "n": i} for i, value in enumerate(values)]
    if seed % 5 == 0:
        rows.append({"n": -1})  # a record without the field at all
    taken = normalize_column(rows, "at")
    if clean:
        assert taken
    if taken:
        assert [row.get("at") for row in rows[: len(values)]] == _by_value(values)
        assert seed % 5 != 0 or rows[-1] == {"n": -1}
    else:  # nothing changed: the value-by-value path takes the field
        assert [row.get("at") for row in rows[: len(values)]] == values
    if seed % 4 == 3:
        assert not taken


def test_the_page_wide_pass_takes_clean_pages_and_leaves_the_rest():
    naive = [{"at": "2025-11-11T21:26:54.723257"}, {"at": None}, {}]
    assert normalize_column(naive, "at")
    assert naive == [{"at": "2025-11-11T21:26:54.723257+00:00"}, {"at": None}, {}]
    normal = [{"at": "2024-02-29T23:59:59.999999+00:00"}]
    assert normalize_column(normal, "at")
    assert normal == [{"at": "2024-02-29T23:59:59.999999+00:00"}]
    # One unreal date, one other form, or a mix of the two clean forms: value by value.
    for odd in ("2023-02-29T10:00:00.000000", "2025-06-30T11:18:04Z", "2025-06-30T11:18:04"):
        rows = [{"at": "2025-11-11T21:26:54.723257"}, {"at": odd}]
        assert not normalize_column(rows, "at")
        assert rows[1] == {"at": odd}
    mixed = [{"at": "2025-11-11T21:26:54.723257"}, {"at": "2025-11-11T21:26:54.723257+00:00"}]
    assert not normalize_column(mixed, "at")
