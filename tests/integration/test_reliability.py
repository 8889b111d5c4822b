"""Flaky, throttled and misbehaving APIs never cost a lead, and every failure says what to fix."""

from __future__ import annotations

import pytest

from tests.conftest import STREAMS, primary_key

SEQUENTIAL = {"max_concurrent_requests": 1}


def requests_for_page(emulator, provider, page):
    return [
        r
        for r in emulator.requests
        if r.provider == provider and int(dict(r.query).get("page", 1)) == page
    ]


def assert_all_leads_once(run, emulator, provider):
    key = primary_key(provider)
    got = [str(record[key]) for record in run.records(STREAMS[provider])]
    assert len(got) == len(set(got))
    assert sorted(got) == sorted(str(lead[key]) for lead in emulator.leads(provider))


def retry_lines(run):
    return [line for line in run.stderr.splitlines() if "| INFO" in line and "; retry " in line]


@pytest.mark.parametrize(("style", "wait"), [("seconds", 1), ("http-date", 2), ("reset", 2)])
def test_429_waits_as_long_as_the_server_asks(emulator, run_tap, style, wait):
    emulator.faults("flextell").rate_limit(retry_after=wait, style=style, page=2)
    run = run_tap(emulator.tap_config(providers=["flextell"], flextell={"page_size": 30}))
    assert run.returncode == 0, run.stderr
    assert_all_leads_once(run, emulator, "flextell")
    first, retry = requests_for_page(emulator, "flextell", 2)
    assert first.status == 429
    assert retry.status == 200
    # An HTTP date or epoch has one-second resolution: the wait is at least wait - 1 s.
    assert retry.time - first.time >= (wait if style == "seconds" else wait - 1)
    [line] = retry_lines(run)
    assert "Flextell: page 2 failed (HTTP 429" in line
    assert "as the server asked" in line


def test_retry_after_beyond_max_retry_wait_fails_at_once(emulator, run_tap):
    emulator.faults("nexus_erp").rate_limit(retry_after=3600, times=None)
    run = run_tap(emulator.tap_config(providers=["nexus_erp"]))
    assert run.returncode == 1
    assert run.errors[-1] == (
        "1 stream(s) failed (0 other(s) completed): nexus_erp_leads: Nexus ERP asked to wait "
        "3600 s before the next request (HTTP 429), longer than max_retry_wait (300 s). Run the "
        "tap later, or raise max_retry_wait."
    )
    assert len(emulator.requests) == 1


def test_a_burst_of_5xx_is_retried_without_losing_a_lead(emulator, run_tap):
    faults = emulator.faults("sela")
    for status in (500, 502, 503, 504):
        faults.server_error(status, page=2)
    run = run_tap(
        emulator.tap_config(providers=["sela"], sela={"page_size": 50}, max_tries=5, **SEQUENTIAL)
    )
    assert run.returncode == 0, run.stderr
    assert_all_leads_once(run, emulator, "sela")
    assert [r.status for r in requests_for_page(emulator, "sela", 2)] == [500, 502, 503, 504, 200]
    assert len(retry_lines(run)) == 4


def test_5xx_that_never_ends_fails_with_advice(emulator, run_tap):
    emulator.faults("autocalls").server_error(502, times=None)
    run = run_tap(emulator.tap_config(providers=["autocalls"]))
    assert run.returncode == 1
    assert run.errors[-1].startswith(
        "1 stream(s) failed (0 other(s) completed): autocalls_leads: Autocalls still failed on "
        "page 1 after 4 tries: HTTP 502"
    )
    assert run.errors[-1].endswith(
        "The provider looks unavailable: run the tap later, or raise max_tries."
    )
    assert len(emulator.requests) == 4


@pytest.mark.parametrize("close", [False, True])
def test_a_truncated_body_is_fetched_again(emulator, run_tap, close):
    emulator.faults("teli").truncated_body(close=close, page=1)
    run = run_tap(emulator.tap_config(providers=["teli"], teli={"page_size": 50}))
    assert run.returncode == 0, run.stderr
    assert_all_leads_once(run, emulator, "teli")
    assert len(requests_for_page(emulator, "teli", 1)) == 2
    [line] = retry_lines(run)
    expected = "the connection to" if close else "is not valid JSON"
    assert expected in line


def test_a_dropped_connection_is_retried(emulator, run_tap):
    emulator.faults("nexus_erp").disconnect(page=1)
    run = run_tap(emulator.tap_config(providers=["nexus_erp"]))
    assert run.returncode == 0, run.stderr
    assert_all_leads_once(run, emulator, "nexus_erp")


def test_success_false_is_never_data(emulator, run_tap):
    emulator.faults("teli").success_false(times=None)
    run = run_tap(emulator.tap_config(providers=["teli"]))
    assert run.returncode == 1
    assert run.records("teli_leads") == []
    assert run.errors[-1] == (
        "1 stream(s) failed (0 other(s) completed): teli_leads: Teli still failed on page 1 "
        "after 3 tries: Teli answered HTTP 200 with success=false (Temporary failure reading "
        "leads). Check the teli settings: teli.user_id, teli.group_id, teli.phone_number, "
        "teli.page_size."
    )


def test_a_passing_success_false_is_retried(emulator, run_tap):
    emulator.faults("teli").success_false()
    run = run_tap(emulator.tap_config(providers=["teli"]))
    assert run.returncode == 0, run.stderr
    assert_all_leads_once(run, emulator, "teli")


UNAUTHORIZED = {
    "teli": "Teli rejected the credentials (HTTP 401: Invalid API key). "
    "Check teli.api_key and teli.org_id.",
    "nexus_erp": "Nexus ERP rejected the credentials (HTTP 401: Invalid or missing API key). "
    "Check nexus_erp.api_key.",
    "flextell": "Flextell rejected the credentials (HTTP 401: invalid_token: The access token "
    "is invalid or has expired.). Check flextell.access_token and flextell.tenant_id.",
    "sela": "Sela rejected the credentials (HTTP 401: Invalid token.). Check sela.api_key.",
    "autocalls": "Autocalls rejected the credentials (HTTP 401: Unauthenticated.). "
    "Check autocalls.api_key.",
}


@pytest.mark.parametrize("provider", list(STREAMS))
def test_401_fails_at_once_naming_the_setting(emulator, run_tap, provider):
    credential = "access_token" if provider == "flextell" else "api_key"
    run = run_tap(
        emulator.tap_config(providers=[provider], **{provider: {credential: "wrong-key"}})
    )
    assert run.returncode == 1
    assert run.errors[-1] == (
        f"1 stream(s) failed (0 other(s) completed): {STREAMS[provider]}: {UNAUTHORIZED[provider]}"
    )
    assert len(emulator.requests) == 1  # no retry loop
    assert "Traceback" not in run.stderr.splitlines()[-1]


def test_flextell_wrong_tenant_is_403_naming_both_settings(emulator, run_tap):
    run = run_tap(emulator.tap_config(providers=["flextell"], flextell={"tenant_id": "999"}))
    assert run.returncode == 1
    assert run.errors[-1].endswith(
        "Flextell rejected the credentials (HTTP 403: forbidden: You do not have access to this "
        "tenant.). Check flextell.access_token and flextell.tenant_id."
    )


def test_teli_unknown_user_says_so(emulator, run_tap):
    run = run_tap(emulator.tap_config(providers=["teli"], teli={"user_id": "1700000000000x1"}))
    assert run.returncode == 1
    assert run.errors[-1].endswith(
        "Teli does not know the user in teli.user_id (HTTP 404: User '1700000000000x1' not "
        "found). Check teli.user_id: it takes a user's unique_id, like 1762896364768x3891…, "
        "not the UUID id."
    )


def test_one_failing_provider_does_not_hold_back_the_others(emulator, run_tap):
    emulator.faults("sela").unauthorized(times=None)
    run = run_tap(emulator.tap_config())
    assert run.returncode == 1
    for provider in ("teli", "nexus_erp", "flextell", "autocalls"):
        assert_all_leads_once(run, emulator, provider)
        assert run.bookmark(STREAMS[provider]) is not None
    assert "sela_leads" not in run.final_state["bookmarks"] or not run.bookmark("sela_leads")
    assert run.errors[-1].startswith("1 stream(s) failed (4 other(s) completed): sela_leads: Sela")


LOOPS = [
    # Numbered envelopes: page 3 repeats page 2's leads.
    ("teli", "repeat_page", "Teli pagination loops: page 3 holds only leads already read"),
    ("nexus_erp", "repeat_page", "Nexus ERP pagination loops: page 3 holds only leads already"),
    # Next-URL envelopes: page 3's next URL points back to page 1.
    ("flextell", "next_loop", "Flextell pagination loops: after page 3 it points back to a page"),
    ("sela", "next_loop", "Sela pagination loops: after page 3 it points back to a page"),
    ("autocalls", "next_loop", "Autocalls pagination loops: after page 3 it points back to a"),
]


@pytest.mark.parametrize(("provider", "fault", "message"), LOOPS)
@pytest.mark.parametrize("concurrency", [1, 8])
def test_a_pagination_loop_stops_the_stream(
    emulator, run_tap, provider, fault, message, concurrency
):
    getattr(emulator.faults(provider), fault)(page=3, times=None)
    config = emulator.tap_config(
        providers=[provider], max_concurrent_requests=concurrency, **{provider: {"page_size": 20}}
    )
    run = run_tap(config)
    assert run.returncode == 1
    assert message in run.errors[-1]
    assert run.errors[-1].endswith("Stopping so that no lead is loaded twice.")
    # Pages 1 and 2 arrive whole; nothing of the loop is loaded twice.
    keys = [str(r[primary_key(provider)]) for r in run.records(STREAMS[provider])]
    assert len(keys) == len(set(keys)) == (40 if fault == "repeat_page" else 60)


@pytest.mark.parametrize("provider", ["flextell", "sela", "autocalls"])
def test_a_next_url_to_a_foreign_host_is_refused(emulator, run_tap, provider):
    emulator.faults(provider).foreign_next(page=1)
    run = run_tap(
        emulator.tap_config(providers=[provider], **{provider: {"page_size": 50}}, **SEQUENTIAL)
    )
    assert run.returncode == 1
    host = emulator.url.split("//")[1]
    label = {"flextell": "Flextell", "sela": "Sela", "autocalls": "Autocalls"}[provider]
    assert run.errors[-1].endswith(
        f"{label} gave a next-page URL on another host (api.example.org) than {provider}.api_url "
        f"({host}); refusing to follow it, so that credentials never leave the configured host."
    )
    assert all(r.provider == provider for r in emulator.requests)


def test_a_next_url_with_the_other_scheme_is_pinned_to_api_url(emulator, run_tap):
    emulator.faults("sela").scheme_next(times=None)
    run = run_tap(emulator.tap_config(providers=["sela"], sela={"page_size": 25}, **SEQUENTIAL))
    assert run.returncode == 0, run.stderr
    assert_all_leads_once(run, emulator, "sela")


def test_sela_nested_envelope_is_unwrapped(emulator, run_tap):
    emulator.faults("sela").nested_envelope(times=None)
    for concurrency in (1, 8):
        run = run_tap(
            emulator.tap_config(
                providers=["sela"], sela={"page_size": 25}, max_concurrent_requests=concurrency
            )
        )
        assert run.returncode == 0, run.stderr
        assert_all_leads_once(run, emulator, "sela")


@pytest.mark.parametrize("provider", list(STREAMS))
def test_a_lead_repeated_across_pages_arrives_once(emulator, run_tap, provider):
    emulator.faults(provider).duplicate_lead(page=2)
    run = run_tap(emulator.tap_config(providers=[provider], **{provider: {"page_size": 30}}))
    assert run.returncode == 0, run.stderr
    assert_all_leads_once(run, emulator, provider)
    moved = [line for line in run.stderr.splitlines() if "the list moved" in line]
    assert len(moved) == 1
    assert "1 lead(s) appeared on two pages" in moved[0]
    assert moved[0].endswith("the last walk saw a still list, so the bookmark advances.")


def test_teli_legacy_count_and_autocalls_old_shapes(emulator, run_tap):
    emulator.faults("teli").legacy_count(times=None)
    emulator.faults("autocalls").string_ids(times=None)
    emulator.faults("autocalls").variables_list(times=None)
    run = run_tap(emulator.tap_config(providers=["teli", "autocalls"]))
    assert run.returncode == 0, run.stderr
    assert_all_leads_once(run, emulator, "teli")
    assert_all_leads_once(run, emulator, "autocalls")
    assert all(isinstance(r["id"], int) for r in run.records("autocalls_leads"))
    assert all(isinstance(r["variables"], list) for r in run.records("autocalls_leads"))


def test_no_secret_is_ever_printed(emulator, run_tap):
    secrets = [
        value
        for provider in STREAMS
        for name, value in emulator.credentials(provider).items()
        if name in ("api_key", "access_token")
    ]
    emulator.faults("flextell").server_error(503, page=1)
    emulator.faults("sela").unauthorized(times=None)
    debug = {"TAP_LEADS_LOGLEVEL": "DEBUG"}
    config = emulator.tap_config()
    outputs = []
    for args in ([], ["--discover"], ["--about"], ["--about", "--format", "json"]):
        run = run_tap(config, None, *args, env=debug)
        outputs += [run.stdout, run.stderr]
    assert outputs[0].count('"type":"RECORD"') >= 480  # the sync really ran
    for secret in secrets:
        for output in outputs:
            assert secret not in output


def test_requests_per_second_caps_the_request_rate(emulator, run_tap):
    run = run_tap(
        emulator.tap_config(
            providers=["autocalls"], autocalls={"page_size": 10, "requests_per_second": 20}
        )
    )
    assert run.returncode == 0, run.stderr
    starts = sorted(r.time for r in emulator.requests)
    assert len(starts) == 12
    assert starts[-1] - starts[0] >= 11 / 20 - 0.02


def test_a_429_shrinks_the_window_and_loses_nothing(emulator, run_tap):
    emulator.faults("teli").rate_limit(retry_after=1, times=3)
    run = run_tap(emulator.tap_config(providers=["teli"], teli={"page_size": 10}))
    assert run.returncode == 0, run.stderr
    assert_all_leads_once(run, emulator, "teli")
    assert [r.status for r in emulator.requests].count(429) == 3
