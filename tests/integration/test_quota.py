"""An announced quota is kept: the tap holds an account's requests while Flextell's
`X-RateLimit-Remaining` says 0, until `X-RateLimit-Reset`, instead of being answered 429.

Every figure comes from the emulator's request log (what it received and what each answer
announced), never from how long the run took."""

from __future__ import annotations

import pytest
import requests as http

from emulator import LeadsEmulator
from tests.conftest import STREAMS

LEADS = 1010
PAGE_SIZE = 10  # 101 requests


@pytest.fixture
def emu():
    with LeadsEmulator(leads_per_provider=20, leads={"flextell": LEADS}, seed=5) as emulator:
        emulator.set_quota("flextell", "25/s")
        yield emulator


def sent_while_spent(requests) -> list[tuple[int, float]]:
    """(index, arrival) of each request that arrived after an answer announcing
    Remaining 0 was ready, and before that answer's reset. Windows are told apart by
    their reset, which the emulator announces exactly (whole seconds of Unix time): a
    request in an earlier window than a later one's spent answer cannot happen, so a
    request is early exactly when it falls in the same window as a spent answer that was
    ready before it arrived."""
    spent: dict[int, float] = {}  # reset -> when its first spent answer was ready
    for request in requests:
        if request.remaining == 0 and request.answered is not None:
            first = spent.get(request.reset, request.answered)
            spent[request.reset] = min(first, request.answered)
    return [
        (n, request.time)
        for n, request in enumerate(requests)
        if request.reset in spent and request.time > spent[request.reset]
    ]


@pytest.mark.parametrize("concurrency", [1, 8])
def test_a_25_per_second_quota_gets_at_most_2_answers_of_429(emu, run_tap, concurrency):
    config = emu.tap_config(
        providers=["flextell"],
        flextell={"page_size": PAGE_SIZE},
        max_concurrent_requests=concurrency,
    )
    run = run_tap(config)
    assert run.returncode == 0, run.stderr

    got = [record["id"] for record in run.records(STREAMS["flextell"])]
    assert len(got) == len(set(got)) == LEADS
    assert sorted(got) == sorted(lead["id"] for lead in emu.leads("flextell"))

    requests = sorted(emu.requests_for("flextell"), key=lambda r: r.time)
    assert len(requests) >= LEADS // PAGE_SIZE
    statuses = [r.status for r in requests]
    assert set(statuses) <= {200, 429}
    assert statuses.count(429) <= 2
    # Every answer announced the quota, so it was kept from the first answer on.
    assert all(r.remaining is not None and r.reset is not None for r in requests)
    assert max(r.remaining for r in requests) == 24
    # The whole quota of a window is used before the tap holds: answers that arrive out of
    # order do not leave part of it unused.
    assert min(r.remaining for r in requests) == 0
    windows = {r.reset for r in requests}
    assert len(windows) >= 5  # 101 requests at most 25 a window
    assert sent_while_spent(requests) == []
    quota = emu.quota("flextell")
    assert quota.admitted == statuses.count(200)
    assert quota.refused == statuses.count(429)

    # The tap did wait for resets (the quota bit), with one INFO line per window that it
    # waited for, not one per request held.
    waits = [line for line in run.stderr.splitlines() if "quota is used up" in line]
    assert 1 <= len(waits) <= len(windows)
    assert all("| INFO" in line and "Flextell" in line for line in waits)


def test_the_check_finds_a_request_sent_while_the_quota_was_spent(emu):
    """The log check above fails when a client does not wait for the reset."""
    emu.set_quota("flextell", "2/h")
    config = emu.tap_config(providers=["flextell"])["flextell"]
    headers = {
        "Authorization": f"Bearer {config['access_token']}",
        "X-Tenant": str(config["tenant_id"]),
    }
    with http.Session() as session:
        statuses = [
            session.get(config["api_url"] + "/v1/leads", headers=headers).status_code
            for _ in range(3)
        ]
    assert statuses == [200, 200, 429]
    logged = sorted(emu.requests_for("flextell"), key=lambda r: r.time)
    assert [n for n, _ in sent_while_spent(logged)] == [2]
