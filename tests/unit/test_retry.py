from datetime import UTC, datetime
from email.utils import format_datetime

import pytest

from tap_leads.engine.retry import RetryPolicy, retry_after_seconds
from tap_leads.errors import TransientError, error_detail

NOW = 1_800_000_000.0


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "7"}, 7.0),
        (
            {"Retry-After": format_datetime(datetime.fromtimestamp(NOW + 30, UTC), usegmt=True)},
            30.0,
        ),
        ({"Retry-After": "0"}, None),
        ({"Retry-After": "-5"}, None),
        ({"Retry-After": "soon"}, None),
        ({"X-RateLimit-Reset": str(int(NOW + 12))}, 12.0),
        ({"X-RateLimit-Reset": "5"}, 5.0),
        ({"X-RateLimit-Reset": str(int(NOW - 12))}, None),
        ({}, None),
    ],
)
def test_retry_after_forms(headers, expected):
    assert retry_after_seconds(headers, now=NOW) == expected


def test_backoff_is_capped_exponential_with_jitter():
    policy = RetryPolicy(max_tries=8, base_seconds=1, max_wait_seconds=300, cap_seconds=8)
    for retry, (low, high) in enumerate([(0.5, 1), (1, 2), (2, 4), (4, 8), (4, 8)], start=1):
        waits = [policy.backoff(retry) for _ in range(50)]
        assert all(low <= w <= high for w in waits)
        assert len(set(waits)) > 1


def test_server_hint_is_never_shortened():
    waits = RetryPolicy(max_tries=8, base_seconds=100, max_wait_seconds=300).waits()
    next(waits)
    hinted = waits.send(TransientError("429", retry_after=3.0))
    assert 3.0 <= hinted <= 3.3
    assert waits.send(TransientError("503")) <= 200


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"error": "Invalid API key", "success": False, "powered_by": "Teli"}, "Invalid API key"),
        ({"error": "Invalid or missing API key"}, "Invalid or missing API key"),
        ({"error": "invalid_token", "message": "Expired."}, "invalid_token: Expired."),
        ({"detail": "Invalid token."}, "Invalid token."),
        ({"message": "Unauthenticated."}, "Unauthenticated."),
        ({"message": "Bad.", "errors": {"per_page": ["Too big."]}}, "Bad.: per_page: Too big."),
        (["not", "a", "dict"], None),
    ],
)
def test_error_detail_reads_all_five_shapes(body, expected):
    assert error_detail(body) == expected
