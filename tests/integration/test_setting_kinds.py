"""Enumerated filters, numbers given as text and explicit nulls: each settled before the
first request, through the real CLI against the emulator."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from emulator import LeadsEmulator
from tests.conftest import FAST


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


def _account_page_size(emulator: LeadsEmulator, value: str) -> dict:
    """Sela in the accounts form, its one account's page_size set to `value`."""
    config = emulator.accounts_config(["sela"], include_default=True)
    config["sela"]["accounts"][0]["page_size"] = value
    return config


def _teli(**overrides) -> Callable[[LeadsEmulator], dict]:
    return lambda emulator: emulator.tap_config(["teli"], **overrides)


WHOLE = "it must be a whole number, like 10."


@pytest.mark.parametrize(
    ("config", "message"),
    [
        pytest.param(
            lambda emulator: emulator.tap_config(["autocalls"], autocalls={"status": "bogus"}),
            "autocalls.status is 'bogus': Autocalls takes one of created, scheduled, "
            "processing, completed, rescheduled, reached-max-retries, blacklisted.",
            id="unknown autocalls status",
        ),
        pytest.param(
            lambda emulator: emulator.accounts_config(
                ["nexus_erp"], nexus_erp={"status": "qualified"}
            ),
            "nexus_erp.status is 'qualified': Nexus ERP takes one of NOT_CONTACTED, CONTACTED, "
            "QUALIFIED, CONVERTED, LOST.",
            id="nexus_erp status in the wrong case",
        ),
        pytest.param(
            _teli(teli={"page_size": "fifty"}),
            f"teli.page_size is 'fifty': {WHOLE}",
            id="page_size in words",
        ),
        pytest.param(
            _teli(teli={"page_size": "50.5"}),
            f"teli.page_size is '50.5': {WHOLE}",
            id="page_size with a fraction as text",
        ),
        pytest.param(
            _teli(max_tries="eight"), f"max_tries is 'eight': {WHOLE}", id="max_tries in words"
        ),
        pytest.param(
            _teli(max_concurrent_requests=2.5),
            f"max_concurrent_requests is 2.5: {WHOLE}",
            id="max_concurrent_requests with a fraction",
        ),
        pytest.param(
            _teli(teli={"requests_per_second": "fast"}),
            "teli.requests_per_second is 'fast': it must be a number, like 1.5.",
            id="requests_per_second in words",
        ),
        pytest.param(
            lambda emulator: _account_page_size(emulator, "many"),
            f"sela.accounts[default].page_size is 'many': {WHOLE}",
            id="an account's page_size names the account",
        ),
    ],
)
def test_a_value_of_the_wrong_kind_or_outside_its_choices_is_refused_before_any_request(
    emulator, run_tap, config, message
):
    run = run_tap(config(emulator))
    assert run.returncode == 1
    # One line: the problem itself, with no range check or generic line after it.
    assert run.errors == [message]
    assert "1 to 200" not in run.stderr
    assert "Traceback" not in run.stderr
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
