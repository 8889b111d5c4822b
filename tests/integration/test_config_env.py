"""`tap-leads --config ENV`: settings from TAP_LEADS_* variables, as Docker and cron set them."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from tests.conftest import REPO, parse_messages
from tests.integration.test_cli_errors import TAP, Failed, assert_clean_failure


def run_env(variables: dict[str, str], *args: str, cwd=REPO) -> Failed:
    """The tap with only these TAP_LEADS_* variables set (none inherited)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAP_LEADS_")}
    result = subprocess.run(
        [str(TAP), "--config", "ENV", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=cwd,
        env={**env, **variables},
    )
    return Failed(result.returncode, result.stdout, result.stderr)


def records(result: Failed, stream: str) -> list[dict]:
    return [
        m["record"]
        for m in parse_messages(result.stdout)
        if m["type"] == "RECORD" and m["stream"] == stream
    ]


def pages_requested(emulator, provider: str) -> int:
    return len([r for r in emulator.requests if r.provider == provider])


def test_a_provider_block_as_json(emulator):
    block = emulator.tap_config(providers=["sela"])["sela"]
    result = run_env({"TAP_LEADS_SELA": json.dumps(block)})
    assert result.returncode == 0, result.stderr
    assert len(records(result, "sela_leads")) == 120
    assert "Traceback" not in result.stderr


def test_flat_names_as_meltano_spells_them(emulator):
    sela = emulator.tap_config(providers=["sela"])["sela"]
    autocalls = emulator.accounts_config(["autocalls"])["autocalls"]
    result = run_env(
        {
            "TAP_LEADS_SELA_API_KEY": sela["api_key"],
            "TAP_LEADS_SELA_API_URL": sela["api_url"],
            "TAP_LEADS_SELA_PAGE_SIZE": "50",
            "TAP_LEADS_AUTOCALLS_API_URL": autocalls["api_url"],
            "TAP_LEADS_AUTOCALLS_ACCOUNTS": json.dumps(autocalls["accounts"]),
            "TAP_LEADS_START_DATE": "2000-01-01T00:00:00Z",
            "TAP_LEADS_MAX_CONCURRENT_REQUESTS": "2",
        }
    )
    assert result.returncode == 0, result.stderr
    assert len(records(result, "sela_leads")) == 120
    assert pages_requested(emulator, "sela") == 3  # 120 leads, 50 a page
    autocalls_records = records(result, "autocalls_leads")
    assert len(autocalls_records) == 120
    assert {r["account"] for r in autocalls_records} == {"default"}


def test_flat_names_override_the_json_block(emulator):
    block = emulator.tap_config(providers=["sela"])["sela"]
    result = run_env({"TAP_LEADS_SELA": json.dumps(block), "TAP_LEADS_SELA_PAGE_SIZE": "40"})
    assert result.returncode == 0, result.stderr
    assert pages_requested(emulator, "sela") == 3


def test_the_environment_wins_over_a_config_file(emulator, tmp_path):
    config = tmp_path / "config.json"
    config.write_text(json.dumps(emulator.tap_config(providers=["sela"])))
    result = run_env({"TAP_LEADS_SELA_PAGE_SIZE": "60"}, "--config", str(config))
    assert result.returncode == 0, result.stderr
    assert pages_requested(emulator, "sela") == 2


@pytest.mark.parametrize(
    ("variables", "last_line"),
    [
        (
            {"TAP_LEADS_TELI": '{"api_key": "s3cret-value", '},
            "TAP_LEADS_TELI is not valid JSON: line 1, column 29: Expecting property name "
            "enclosed in double quotes. Set it to an object in JSON, e.g. "
            """TAP_LEADS_TELI='{"api_key": "…"}'.""",
        ),
        (
            {"TAP_LEADS_TELI": '["s3cret-value"]'},
            'TAP_LEADS_TELI must hold an object in JSON for teli, e.g. \'{"api_key": "…"}\'.',
        ),
        (
            {"TAP_LEADS_SELA_PAGE_SIZE": "lots"},
            "TAP_LEADS_SELA_PAGE_SIZE must be a whole number for sela.page_size, not 'lots'.",
        ),
        (
            {"TAP_LEADS_FLEXTELL_INCLUDE_DELETED": "maybe"},
            "TAP_LEADS_FLEXTELL_INCLUDE_DELETED must be true or false for "
            "flextell.include_deleted, not 'maybe'.",
        ),
        (
            {"TAP_LEADS_AUTOCALLS_ACCOUNTS": '{"name": "acme", "api_key": "s3cret-value"}'},
            "TAP_LEADS_AUTOCALLS_ACCOUNTS must hold a list in JSON for autocalls.accounts, "
            """e.g. '[{"name": "acme", "api_key": "…"}]'.""",
        ),
        (
            {"TAP_LEADS_TELI_APIKEY": "s3cret-value"},
            "TAP_LEADS_TELI_APIKEY is not a tap-leads setting. "
            "Did you mean TAP_LEADS_TELI_API_KEY?",
        ),
        (
            {"TAP_LEADS_TELI_API_KEY": "s3cret-value"},
            "teli.org_id is missing. Set it: The organisation's unique_id "
            '(like 1762896364768x389173798861431550), or "*" for every organisation the key '
            "can list.",
        ),
    ],
)
def test_a_variable_that_cannot_be_used_is_one_line(emulator, tmp_path, variables, last_line):
    result = run_env(variables, cwd=tmp_path)
    assert_clean_failure(result, last_line)
    assert "s3cret-value" not in result.stderr + result.stdout
    assert emulator.requests == []


def test_every_problem_is_reported_at_once(tmp_path):
    result = run_env(
        {"TAP_LEADS_SELA_PAGE_SIZE": "x", "TAP_LEADS_MAX_TRIES": "y", "TAP_LEADS_TELI": "{"},
        cwd=tmp_path,
    )
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if "| ERROR" in line]
    assert len(errors) == 3, result.stderr


def test_without_any_variable_no_provider_is_configured(tmp_path):
    result = run_env({}, cwd=tmp_path)
    assert result.returncode == 1
    assert result.last_line.startswith("No provider is configured.")


def test_the_environment_is_not_read_without_config_env(emulator, tmp_path):
    config = tmp_path / "config.json"
    config.write_text(json.dumps(emulator.tap_config(providers=["sela"])))
    result = subprocess.run(
        [str(TAP), "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=tmp_path,
        env={**os.environ, "TAP_LEADS_SELA_PAGE_SIZE": "lots"},
    )
    assert result.returncode == 0, result.stderr
    assert pages_requested(emulator, "sela") == 2  # the default page size, 100


def test_discovery_reads_the_environment_too(emulator, tmp_path):
    block = emulator.tap_config(providers=["sela"])["sela"]
    result = run_env({"TAP_LEADS_SELA": json.dumps(block)}, "--discover", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    streams = sorted(s["tap_stream_id"] for s in json.loads(result.stdout)["streams"])
    assert streams == ["deleted_leads", "sela_leads"]
