"""An account's announced quota (tap_leads/engine/quota.py): what is left after answers
that arrive out of order, late answers of an earlier window, and how long a request waits."""

from __future__ import annotations

import logging

import pytest

from tap_leads.engine.quota import Quota


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def told(remaining: int, reset_in: float) -> dict[str, str]:
    # Below 1,000,000,000 a reset is seconds to wait.
    return {"X-RateLimit-Remaining": str(remaining), "X-RateLimit-Reset": f"{reset_in:g}"}


def sent(quota: Quota, most: int = 100) -> int:
    """How many requests the quota lets go now, each counted as sent."""
    for count in range(most):
        if quota.delay() > 0:
            return count
    return most


@pytest.fixture
def clock() -> Clock:
    return Clock()


def test_untold_quota_holds_nothing(clock):
    quota = Quota("Flextell", clock=clock)
    assert sent(quota) == 100
    for _ in range(100):
        quota.settle({})
    assert sent(quota) == 100
    assert quota.holds == 0


def test_answers_out_of_order_leave_no_part_of_the_quota_unused(clock):
    quota = Quota("Flextell", clock=clock)
    assert quota.delay() == 0
    quota.settle(told(5, 10))
    assert quota.delay() == quota.delay() == 0  # A, then B: the provider counts A first
    quota.settle(told(3, 10))  # B answers first: 3 left, and A may not be counted yet
    quota.settle(told(4, 10))  # A: it was counted before B, so 3 are left, not 2
    assert sent(quota) == 3
    assert quota.holds == 1


def test_requests_in_flight_hold_the_rest_until_they_are_answered(clock):
    quota = Quota("Flextell", clock=clock)
    quota.delay()
    quota.settle(told(2, 10))
    assert sent(quota) == 2
    # Both left are in flight: the next request looks again soon, not at the reset.
    assert 0 < quota.delay() < 1
    quota.settle(told(1, 10))
    quota.settle(told(0, 10))
    # Used up, nothing in flight: it waits for the reset.
    assert quota.delay() == pytest.approx(10)
    clock.now += 10
    assert sent(quota) == 100


def test_a_late_answer_of_an_earlier_window_does_not_reopen_the_quota(clock):
    quota = Quota("Flextell", clock=clock)
    quota.delay()
    quota.delay()
    quota.settle(told(0, 5))  # this window is used up until 105
    quota.settle(told(7, 0))  # an answer of the window before, whose reset is past
    assert quota.delay() == pytest.approx(5)
    clock.now = 105.0
    assert quota.delay() == 0
    quota.settle(told(1, 1))  # the next window
    assert sent(quota) == 1


def test_a_held_request_is_logged_once_per_window(clock, caplog):
    logger = logging.getLogger("test-quota")
    quota = Quota("Flextell", logger, clock=clock)
    quota.delay()
    quota.settle(told(0, 1))
    with caplog.at_level(logging.INFO, logger="test-quota"):
        for _ in range(5):
            assert quota.delay() > 0
        clock.now += 1
        quota.delay()
        quota.settle(told(0, 1))
        assert quota.delay() > 0
    lines = [r.getMessage() for r in caplog.records]
    assert (
        lines
        == [
            "Flextell: the announced request quota is used up; requests wait 1.0 s for it to reset."
        ]
        * 2
    )
