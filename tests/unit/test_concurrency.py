"""The adaptive window and the rate cap of one provider account."""

import time

from tap_leads.engine.concurrency import AdaptiveWindow, RateLimiter


def test_window_halves_on_throttling_and_grows_back_one_step_at_a_time():
    window = AdaptiveWindow(8)
    window.throttled()
    assert window.size == 4
    window.throttled()
    window.throttled()
    window.throttled()
    assert window.size == 1
    sizes = []
    for _ in range(12):
        window.succeeded()
        sizes.append(window.size)
    assert sizes == [2, 2, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5]
    for _ in range(100):
        window.succeeded()
    assert window.size == 8


def test_rate_limiter_spaces_request_starts():
    limiter = RateLimiter(50)
    started = time.monotonic()
    for _ in range(6):
        limiter.wait()
    # Six starts at 50 per second span at least five intervals of 20 ms.
    assert time.monotonic() - started >= 0.1 - 0.002
    assert RateLimiter(None)._interval == 0
