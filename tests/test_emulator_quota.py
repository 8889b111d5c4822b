"""Announced quotas in the emulator (emulator/quota.py): Flextell's X-RateLimit-* headers on
every answer, and an enforced quota's 429s, over real HTTP."""

from __future__ import annotations

import itertools
import signal
import subprocess
import sys
import time

import orjson
import pytest
import requests

from emulator import LeadsEmulator
from emulator.quota import AnnouncedQuota, parse_quota
from tests.conftest import REPO
from tests.test_emulator import get


@pytest.fixture(scope="module")
def emu():
    with LeadsEmulator(leads_per_provider=120, seed=11) as emulator:
        yield emulator


@pytest.fixture(autouse=True)
def _clean(emu):
    emu.clear_requests()
    emu.set_quota("flextell", None)
    yield
    emu.set_quota("flextell", None)


@pytest.fixture(scope="module")
def http():
    with requests.Session() as session:
        yield session


def told(response) -> tuple[int, int, int]:
    headers = response.headers
    return (
        int(headers["X-RateLimit-Limit"]),
        int(headers["X-RateLimit-Remaining"]),
        int(headers["X-RateLimit-Reset"]),
    )


def test_flextell_announces_its_quota_on_every_answer_and_the_others_do_not(http, emu):
    emu.set_quota("flextell", None)  # a fresh window of the default quota
    before = int(time.time())
    answers = [get(http, emu, "flextell", {"per_page": 10}) for _ in range(4)]
    answers.append(get(http, emu, "flextell", {"per_page": 1000}))  # a 422 tells it too
    assert [a.status_code for a in answers] == [200, 200, 200, 200, 422]
    announced = [told(a) for a in answers]
    assert {limit for limit, _, _ in announced} == {1000}
    # Remaining counts down within a window; the default window is one second.
    assert announced[0][1] == 999
    for (_, left, reset), (_, next_left, next_reset) in itertools.pairwise(announced):
        assert next_left == (left - 1 if next_reset == reset else 999)
    assert before < announced[0][2] <= int(time.time()) + 2
    assert [(r.remaining, r.reset) for r in emu.requests] == [t[1:] for t in announced]
    for provider in ("teli", "nexus_erp", "sela", "autocalls"):
        headers = get(http, emu, provider).headers
        assert [h for h in headers if h.lower().startswith("x-ratelimit")] == []
        assert emu.requests[-1].remaining is None


def test_an_enforced_quota_answers_429_until_its_window_resets(http, emu):
    emu.set_quota("flextell", "3/h")
    try:
        answers = [get(http, emu, "flextell", {"per_page": 5}) for _ in range(5)]
        assert [a.status_code for a in answers] == [200, 200, 200, 429, 429]
        announced = [told(a) for a in answers]
        reset = announced[0][2]
        assert announced == [(3, 2, reset), (3, 1, reset), (3, 0, reset)] + [(3, 0, reset)] * 2
        # The hour's windows start on whole hours of Unix time.
        assert reset % 3600 == 0
        assert 0 < reset - time.time() <= 3600
        refused = answers[3]
        assert refused.json() == {"error": "too_many_requests", "message": "Too many requests."}
        assert 0 <= int(refused.headers["Retry-After"]) - (reset - time.time()) < 60
        assert "Retry-After" not in answers[2].headers
        quota = emu.quota("flextell")
        assert (quota.admitted, quota.refused, quota.enforced) == (3, 2, True)
        assert [r.status for r in emu.requests] == [200, 200, 200, 429, 429]
        # Another provider's answers are not counted.
        assert get(http, emu, "sela").status_code == 200
    finally:
        emu.set_quota("flextell", None)
    assert told(get(http, emu, "flextell"))[:2] == (1000, 999)


def test_a_quota_window_is_a_fixed_span_of_unix_time():
    clock = [100.2]
    quota = AnnouncedQuota(*parse_quota("2/s"), clock=lambda: clock[0])
    seen = []
    for now in (100.2, 100.5, 100.9, 101.1, 101.25, 101.3, 103.5):
        clock[0] = now
        answer = quota.count()
        seen.append((answer.remaining, answer.reset, answer.refused, answer.retry_after))
    assert seen == [
        (1, 101, False, 1),
        (0, 101, False, 1),
        (0, 101, True, 1),
        (1, 102, False, 1),
        (0, 102, False, 1),
        (0, 102, True, 1),
        (1, 104, False, 1),
    ]
    assert (quota.admitted, quota.refused) == (5, 2)
    slow = AnnouncedQuota(*parse_quota("1/10s"), clock=lambda: clock[0])
    clock[0] = 1_700_000_003.5
    first, second = slow.count(), slow.count()
    assert (first.remaining, first.reset) == (0, 1_700_000_010)
    assert (second.refused, second.retry_after) == (True, 7)
    announced = AnnouncedQuota(1, 60, enforced=False, clock=lambda: 0.0)
    assert [announced.count().remaining for _ in range(3)] == [0, 0, 0]
    assert (announced.admitted, announced.refused) == (3, 0)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("25/s", (25, 1.0)), ("100/10s", (100, 10.0)), ("60/min", (60, 60.0)), ("5/h", (5, 3600.0))],
)
def test_quota_specs(text, expected):
    assert parse_quota(text) == expected


@pytest.mark.parametrize("text", ["25", "0/s", "25/day", "x/s", "25/0s"])
def test_bad_quota_specs_are_refused(text):
    with pytest.raises(ValueError, match="quota"):
        parse_quota(text)


def test_quotas_through_the_control_surface(http, emu):
    control = f"{emu.url}/_control/quotas"
    try:
        set_ = http.post(control, json={"provider": "flextell", "quota": "2/h"})
        assert set_.status_code == 200
        assert set_.json()["flextell"]["default"]["limit"] == 2
        assert [get(http, emu, "flextell").status_code for _ in range(3)] == [200, 200, 429]
        refused = http.post(control, json={"provider": "teli", "quota": "2/s"})
        assert refused.status_code == 400
        assert "teli documents no quota headers" in refused.json()["error"]
        back = http.post(control, json={"provider": "flextell", "quota": None})
        assert back.json()["flextell"]["default"] == {
            "limit": 1000,
            "window": 1.0,
            "enforced": False,
            "admitted": 0,
            "refused": 0,
        }
    finally:
        emu.set_quota("flextell", None)


def test_the_quota_flag_enforces_a_quota(tmp_path, http):
    config_path = tmp_path / "config.json"
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "emulator", "--port", "0", "--leads", "20"),
            *("--quota", "flextell=2/h", "--write-config", str(config_path)),
        ],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while not config_path.exists():
            assert process.poll() is None
            assert time.monotonic() < deadline
            time.sleep(0.05)
        flextell = orjson.loads(config_path.read_bytes())["flextell"]
        headers = {
            "Authorization": f"Bearer {flextell['access_token']}",
            "X-Tenant": str(flextell["tenant_id"]),
        }
        url = flextell["api_url"] + "/v1/leads"
        answers = [http.get(url, headers=headers) for _ in range(3)]
        assert [(a.status_code, a.headers["X-RateLimit-Remaining"]) for a in answers] == [
            (200, "1"),
            (200, "0"),
            (429, "0"),
        ]
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)
    refused = subprocess.run(
        [sys.executable, "-m", "emulator", "--port", "0", "--quota", "sela=5/s"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
        check=False,
    )
    assert refused.returncode == 2
    assert "--quota wants PROVIDER=N/WINDOW with PROVIDER in ['flextell']: 'sela=5/s'" in (
        refused.stderr
    )
