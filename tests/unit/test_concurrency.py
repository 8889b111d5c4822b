"""The page window: in-order hand-back, bounded in-flight pages, backing off on throttling."""

import random
import threading
import time

from tap_leads.concurrency import AdaptiveWindow, PagePrefetcher, RateLimiter
from tap_leads.pagination import Page


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


def test_prefetcher_hands_pages_back_in_order_with_bounded_flight():
    in_flight = 0
    peak = 0
    lock = threading.Lock()

    def fetch(number):
        nonlocal in_flight, peak
        with lock:
            in_flight += 1
            peak = max(peak, in_flight)
        time.sleep(random.uniform(0, 0.01))
        with lock:
            in_flight -= 1
        return Page(number, f"u{number}", {"n": number})

    window = AdaptiveWindow(4)
    prefetcher = PagePrefetcher(fetch, window)
    try:
        got = [prefetcher.take(n, 40).number for n in range(2, 41)]
    finally:
        prefetcher.close()
    assert got == list(range(2, 41))
    assert peak <= 4


def test_prefetcher_fetches_nothing_past_the_plan():
    asked = []

    def fetch(number):
        asked.append(number)
        return Page(number, "u", {})

    prefetcher = PagePrefetcher(fetch, AdaptiveWindow(8))
    try:
        prefetcher.take(2, 3)
        prefetcher.take(3, 3)
        prefetcher.take(4, 3)  # past the plan: fetched alone, on demand
    finally:
        prefetcher.close()
    assert sorted(asked) == [2, 3, 4]


def test_rate_limiter_spaces_request_starts():
    limiter = RateLimiter(50)
    started = time.monotonic()
    for _ in range(6):
        limiter.wait()
    # Six starts at 50 per second span at least five intervals of 20 ms.
    assert time.monotonic() - started >= 0.1 - 0.002
    assert RateLimiter(None)._interval == 0
