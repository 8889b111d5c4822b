"""Bad config fails before any request, with a message naming the provider and setting."""

import json
import subprocess
import sys

import pytest

from tap_leads.config import checks as settings
from tap_leads.tap import TapLeads

TELI = {"api_key": "k-123456", "org_id": "o1"}


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        (
            {},
            [
                "No provider is configured. Set at least one provider block: teli, nexus_erp, "
                "flextell, sela, autocalls (in Meltano, for example teli.api_key and teli.org_id)."
            ],
        ),
        ({"teli": {}}, None),  # an empty block counts as not configured
        (
            {"teli": {"org_id": "o1"}},
            ["teli.api_key is missing. Set it: Teli API key, sent as X-API-Key."],
        ),
        (
            {"flextell": {"access_token": "t-123456"}},
            ["flextell.tenant_id is missing. Set it: Tenant id, sent as the X-Tenant header."],
        ),
        (
            {"teli": TELI, "max_deleted_fraction": 1.5},
            ["max_deleted_fraction is 1.5: it must be a number from 0 to 1."],
        ),
        ({"teli": TELI, "max_deleted_fraction": 0, "detect_deletes": False}, []),
        (
            {"teli": {**TELI, "page_size": 500}},
            ["teli.page_size is 500: Teli takes 1 to 200 leads per page."],
        ),
        (
            {"sela": {"api_key": "s-123456", "page_size": 0}},
            ["sela.page_size is 0: Sela takes 1 to 1000 leads per page."],
        ),
        (
            {"nexus_erp": {"api_key": "sk_123456"}},
            [
                "nexus_erp.api_url is missing: Nexus ERP has no public host, so set the base URL "
                "of your instance, for example https://your-host."
            ],
        ),
        (
            {"autocalls": {"api_key": "a-123456", "date_from": "01/02/2025"}},
            ["autocalls.date_from is '01/02/2025': use the YYYY-MM-DD format."],
        ),
        (
            {"teli": {**TELI, "page_sise": 10}},
            [
                "teli.page_sise is not a Teli setting. Known settings: accounts, api_key, api_url, "
                "group_id, org_id, page_size, phone_number, requests_per_second, user_id."
            ],
        ),
        (
            {"teli": TELI, "start_date": "yesterday"},
            [
                "start_date 'yesterday' is not a date-time. Use RFC 3339, for example "
                "2025-01-01T00:00:00Z."
            ],
        ),
        (
            {"teli": TELI, "max_concurrent_requests": 0},
            ["max_concurrent_requests is 0: it must be a whole number from 1 to 64."],
        ),
    ],
)
def test_validation_messages(config, expected):
    if expected is None:
        expected = settings.validate({})
    assert settings.validate(config) == expected


def test_good_config_has_no_errors():
    assert settings.validate({"teli": TELI, "sela": {"api_key": "Token abc"}}) == []


def test_only_configured_providers_are_discovered():
    tap = TapLeads(config={"sela": {"api_key": "abc123"}, "autocalls": {"api_key": "1|xyz"}})
    assert sorted(tap.streams) == ["autocalls_leads", "deleted_leads", "sela_leads"]


def test_secrets_are_marked_secret_in_the_config_schema():
    props = TapLeads.config_jsonschema["properties"]
    secret = sorted(
        f"{block}.{name}"
        for block, spec in props.items()
        if spec.get("properties")
        for name, prop in spec["properties"].items()
        if prop.get("secret")
    )
    assert secret == [
        "autocalls.api_key",
        "flextell.access_token",
        "flextell.client_secret",
        "flextell.refresh_token",
        "nexus_erp.api_key",
        "sela.api_key",
        "teli.api_key",
    ]


def test_cli_fails_before_any_request_with_the_message_last(tmp_path):
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"nexus_erp": {"api_key": "sk_live_secret", "page_size": 101}}))
    result = subprocess.run(
        [sys.executable, "-m", "tap_leads", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert result.stdout == ""
    errors = [line.split("| ")[-1] for line in result.stderr.splitlines() if "ERROR" in line]
    assert errors == [
        "nexus_erp.api_url is missing: Nexus ERP has no public host, so set the base URL of "
        "your instance, for example https://your-host.",
        "nexus_erp.page_size is 101: Nexus ERP takes 1 to 100 leads per page.",
    ]
    assert "sk_live_secret" not in result.stderr


def test_decimal_settings_accept_numeric_text_as_meltano_sends_it():
    config = {
        "teli": {**TELI, "requests_per_second": "2.5"},
        "backoff_base_seconds": "0.5",
        "progress_interval_seconds": "2",
    }
    assert settings.validate(config) == []
    assert settings.validate({"teli": TELI, "backoff_base_seconds": "fast"}) == [
        "backoff_base_seconds is 'fast': it must be a number, like 1.5."
    ]
    tap = TapLeads(config=config)
    assert tap.streams["teli_leads"].fetcher.limiter._interval == 0.4
