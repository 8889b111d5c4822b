"""Enumerated filters, numbers given as text and explicit nulls: each settled before the
first request, through the real CLI against the emulator."""

from __future__ import annotations

import pytest

from tests.conftest import FAST


def test_an_unknown_autocalls_status_is_refused_before_any_request(emulator, run_tap):
    config = emulator.tap_config(["autocalls"], autocalls={"status": "bogus"})
    run = run_tap(config)
    assert run.returncode == 1
    assert run.errors[-1] == (
        "autocalls.status is 'bogus': Autocalls takes one of created, scheduled, processing, "
        "completed, rescheduled, reached-max-retries, blacklisted."
    )
    assert "Traceback" not in run.stderr
    assert emulator.requests == []


def test_a_nexus_erp_status_in_the_wrong_case_is_refused_before_any_request(emulator, run_tap):
    config = emulator.accounts_config(["nexus_erp"], nexus_erp={"status": "qualified"})
    run = run_tap(config)
    assert run.returncode == 1
    assert run.errors[-1] == (
        "nexus_erp.status is 'qualified': Nexus ERP takes one of NOT_CONTACTED, CONTACTED, "
        "QUALIFIED, CONVERTED, LOST."
    )
    assert emulator.requests == []


def test_a_documented_status_is_sent(emulator, run_tap):
    run = run_tap(emulator.tap_config(["autocalls"], autocalls={"status": "completed"}))
    assert run.returncode == 0, run.stderr
    [first, *_] = emulator.requests_for("autocalls")
    assert ("status", "completed") in first.query
    expected = [lead for lead in emulator.leads("autocalls") if lead["status"] == "completed"]
    assert len(run.records("autocalls_leads")) == len(expected) > 0


def test_numbers_given_as_text_are_those_numbers(emulator, run_tap):
    config = emulator.tap_config(
        ["teli", "sela"],
        teli={"page_size": "50"},
        sela={"page_size": " 40 ", "requests_per_second": "500"},
        max_concurrent_requests="2",
        max_tries="3",
        max_rewalks="0",
        lookback_window_seconds="0",
    )
    run = run_tap(config)
    assert run.returncode == 0, run.stderr
    teli = emulator.requests_for("teli")
    assert {dict(r.query)["page_size"] for r in teli} == {"50"}
    assert len(teli) == 3  # 120 leads, 50 a page
    sela = emulator.requests_for("sela")
    assert {dict(r.query)["page_size"] for r in sela} == {"40"}
    assert len(sela) == 3
    assert len(run.records("teli_leads")) == len(run.records("sela_leads")) == 120


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"teli": {"page_size": "fifty"}},
            "teli.page_size is 'fifty': it must be a whole number, like 10.",
        ),
        (
            {"teli": {"page_size": "50.5"}},
            "teli.page_size is '50.5': it must be a whole number, like 10.",
        ),
        ({"max_tries": "eight"}, "max_tries is 'eight': it must be a whole number, like 10."),
        (
            {"max_concurrent_requests": 2.5},
            "max_concurrent_requests is 2.5: it must be a whole number, like 10.",
        ),
        (
            {"teli": {"requests_per_second": "fast"}},
            "teli.requests_per_second is 'fast': it must be a number, like 1.5.",
        ),
    ],
)
def test_a_value_of_the_wrong_kind_is_a_type_problem_before_any_request(
    emulator, run_tap, overrides, message
):
    run = run_tap(emulator.tap_config(["teli"], **overrides))
    assert run.returncode == 1
    assert run.errors == [message]
    assert "1 to 200" not in run.stderr
    assert emulator.requests == []


def test_an_account_value_of_the_wrong_kind_names_the_account(emulator, run_tap):
    config = emulator.accounts_config(["sela"], include_default=True)
    config["sela"]["accounts"][0]["page_size"] = "many"
    run = run_tap(config)
    assert run.returncode == 1
    assert run.errors == [
        "sela.accounts[default].page_size is 'many': it must be a whole number, like 10."
    ]
    assert emulator.requests == []


def test_an_explicit_null_means_the_default(emulator, run_tap):
    nulls = dict.fromkeys([*FAST, "max_concurrent_requests", "max_rewalks", "max_retry_wait"])
    config = emulator.tap_config(
        ["autocalls"],
        autocalls={"page_size": None, "api_url": emulator.api_url("autocalls")},
        progress_interval_seconds=None,
        lookback_window_seconds=None,
        **nulls,
    )
    run = run_tap(config)
    assert run.returncode == 0, run.stderr
    requests = emulator.requests_for("autocalls")
    # The schema's default page size, 100: 120 leads in two pages.
    assert [dict(r.query)["per_page"] for r in requests] == ["100", "100"]
    assert len(run.records("autocalls_leads")) == 120
