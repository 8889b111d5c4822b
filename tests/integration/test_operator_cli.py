"""What operators, CI jobs and orchestrators lean on: `--test` that fails, missing --state
and --catalog files, and runs that can be followed per account.

Each test runs the real `tap-leads` command against the emulator over HTTP.
"""

from __future__ import annotations

import json
import re
import socket
import time

import pytest

from emulator import LeadsEmulator
from tap_leads.providers.accounts import shard_of
from tests.conftest import STREAMS
from tests.integration.test_cli_errors import assert_clean_failure, run_cli, write_config

TELI_401 = (
    "teli_leads: Teli rejected the credentials (HTTP 401: Invalid API key). "
    "Check teli.api_key and teli.org_id."
)
AUTOCALLS = {"acme": 30, "globex": 20, "initech": 12}
ORGS = {"North": 25, "South": 15}


def info_lines(stderr: str) -> list[str]:
    return [line.split(" | ", 3)[-1] for line in stderr.splitlines() if "| INFO" in line]


def done_lines(stderr: str) -> dict[str, str]:
    """The done line of each listing, by the name it gives (`sela_leads`, `x_leads[acme]`)."""
    found = {}
    for line in info_lines(stderr):
        if " done: " in line:
            where, _, counts = line.partition(" done: ")
            assert where not in found, f"two done lines for {where}"
            found[where] = counts
    return found


def page_and_leads(counts: str) -> tuple[int, int, int]:
    match = re.match(r"(\d+) page\(s\), (\d+) lead\(s\) read, (\d+) emitted, ", counts)
    assert match, counts
    pages, read, emitted = (int(n) for n in match.groups())
    return pages, read, emitted


@pytest.fixture
def emu():
    with LeadsEmulator(
        leads_per_provider=120, seed=9, accounts={"autocalls": AUTOCALLS, "teli": {"partner": ORGS}}
    ) as emulator:
        yield emulator


# ----- --test ------------------------------------------------------------------


def test_test_mode_fails_when_a_stream_cannot_read_its_first_page(emulator, run_tap):
    config = emulator.tap_config(providers=["teli", "sela"], teli={"api_key": "wrong"})
    run = run_tap(config, None, "--test")
    assert run.returncode == 1, run.stderr
    assert run.errors[-1] == f"1 stream(s) failed (1 other(s) completed): {TELI_401}"
    assert len(run.records("sela_leads")) == 1
    assert run.records("teli_leads") == []
    assert "Traceback" not in run.stderr


def test_test_mode_ends_on_the_summary_a_sync_ends_on(emulator, run_tap):
    config = emulator.tap_config(providers=["teli", "sela"], teli={"api_key": "wrong"})
    test, sync = run_tap(config, None, "--test"), run_tap(config)
    assert (test.returncode, sync.returncode) == (1, 1)
    assert test.errors[-1] == sync.errors[-1]


def test_test_mode_reads_the_first_page_of_every_account(emu, run_tap):
    config = emu.accounts_config(["autocalls"], include_default=True)
    config["autocalls"]["page_size"] = 10
    config["autocalls"]["accounts"][2]["api_key"] = "revoked"  # globex
    assert config["autocalls"]["accounts"][2]["name"] == "globex"

    run = run_tap(config, None, "--test")

    assert run.returncode == 1, run.stderr
    assert run.errors[-1].startswith(
        "1 account(s) failed (3 other(s) completed): autocalls_leads[globex]: "
        "Autocalls account globex rejected the credentials (HTTP 401: Unauthenticated.)."
    )
    assert sorted(r["account"] for r in run.records("autocalls_leads")) == [
        "acme",
        "default",
        "initech",
    ]
    # One request per account: the first page, and nothing fetched ahead.
    pages = [dict(r.query).get("page", "1") for r in emu.requests if r.provider == "autocalls"]
    assert pages == ["1"] * 4
    done = done_lines(run.stderr)
    assert {k: page_and_leads(v) for k, v in done.items()} == {
        "autocalls_leads[default]": (1, 10, 1),
        "autocalls_leads[acme]": (1, 10, 1),
        "autocalls_leads[initech]": (1, 10, 1),
    }


def test_a_passing_test_says_so_with_counts_that_agree(emulator, run_tap):
    providers = ["teli", "nexus_erp", "flextell", "sela", "autocalls"]
    run = run_tap(emulator.tap_config(providers=providers), None, "--test")
    assert run.returncode == 0, run.stderr
    assert info_lines(run.stderr)[-1] == "All 5 stream(s) read their first page: 5 lead(s) emitted."
    done = {k: page_and_leads(v) for k, v in done_lines(run.stderr).items()}
    for provider in providers:
        stream = STREAMS[provider]
        assert len(run.records(stream)) == 1
        pages, read, emitted = done[stream]
        assert (pages, emitted) == (1, 1)
        assert 1 <= read <= 200


# ----- missing --state and --catalog files -------------------------------------


@pytest.mark.parametrize(
    ("option", "advice"),
    [
        (
            "--state",
            "For a first run, leave --state out; later, pass the file that holds the last "
            "STATE message of the previous run.",
        ),
        (
            "--catalog",
            "Leave --catalog out to extract every configured stream, or write one with "
            "tap-leads --config … --discover > catalog.json.",
        ),
    ],
)
def test_a_missing_state_or_catalog_file_is_one_line(tmp_path, emulator, option, advice):
    config = write_config(tmp_path / "config.json", emulator.tap_config(providers=["teli"]))
    missing = tmp_path / "nope" / "file.json"

    result = run_cli("--config", str(config), option, str(missing), cwd=tmp_path)

    name = option.strip("-").capitalize()
    assert_clean_failure(result, f"{name} file {missing} does not exist. {advice}")
    assert "Usage:" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert emulator.requests == []


# ----- runs you can follow per account -------------------------------------------


def test_done_lines_name_the_account_and_count_its_own_leads(emu, run_tap):
    config = emu.accounts_config(["autocalls", "teli"])
    config["autocalls"]["page_size"] = 7
    run = run_tap(config)
    assert run.returncode == 0, run.stderr

    done = {k: page_and_leads(v) for k, v in done_lines(run.stderr).items()}
    orgs = sorted(k for k in done if k.startswith("teli_leads["))
    assert {k: v for k, v in done.items() if k.startswith("autocalls")} == {
        f"autocalls_leads[{name}]": (-(-n // 7), n, n) for name, n in AUTOCALLS.items()
    }
    # A Teli partner's organisations: each its own line, named by account and organisation.
    assert len(orgs) == 2
    assert all(k.startswith("teli_leads[partner/") for k in orgs)
    assert sorted(done[k][1:] for k in orgs) == [(15, 15), (25, 25)]
    lines = info_lines(run.stderr)
    for name in AUTOCALLS:
        assert f"autocalls_leads[{name}] started: no bookmark yet, every lead." in lines
    assert not [line for line in lines if line.startswith("Starting incremental sync")]
    assert info_lines(run.stderr)[-1] == "All 5 account(s) completed: 102 lead(s) emitted."
    assert len(run.records("autocalls_leads")) + len(run.records("teli_leads")) == 102


def test_a_shard_says_what_it_took_first(emu, run_tap):
    config = emu.accounts_config(["autocalls", "teli"], shard="1/2")
    run = run_tap(config)
    assert run.returncode == 0, run.stderr

    lines = info_lines(run.stderr)
    taken = sorted(n for n in AUTOCALLS if shard_of("autocalls", n, 2) == 1)
    teli_taken = int(shard_of("teli", "partner", 2) == 1)
    shard_lines = [line for line in lines if ": shard " in line]
    assert shard_lines == [
        f"autocalls_leads: shard 1/2 takes {len(taken)} of 3 account(s).",
        f"teli_leads: shard 1/2 takes {teli_taken} of 1 account(s).",
    ]
    # Before any listing starts.
    first_start = next(i for i, line in enumerate(lines) if " started: " in line)
    assert all(lines.index(line) < first_start for line in shard_lines)
    assert sorted({r["account"] for r in run.records("autocalls_leads")}) == taken


def test_no_sdk_note_about_environment_variables(emulator, run_tap):
    run = run_tap(emulator.tap_config(providers=["sela"]))
    assert run.returncode == 0, run.stderr
    assert "env var" not in run.stderr
    assert json.dumps(run.final_state)  # the run ended on a state


def test_test_mode_fails_fast_on_a_refused_port(tmp_path, emulator):
    """With the default retry settings: a health check must not hang on a dead host."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    config = emulator.tap_config(providers=["teli", "sela"])
    config["sela"]["api_url"] = f"http://127.0.0.1:{closed_port}"
    path = write_config(tmp_path / "config.json", config)

    started = time.monotonic()
    result = run_cli("--config", str(path), "--test", cwd=tmp_path)
    elapsed = time.monotonic() - started

    assert result.returncode == 1, result.stderr
    assert result.last_line.startswith("1 stream(s) failed (1 other(s) completed): sela_leads: ")
    assert f"127.0.0.1:{closed_port} was refused" in result.last_line
    assert "Check sela.api_url" in result.last_line
    # Before: 8 tries with backoff, 93 s. Generous for a shared machine, far below that.
    assert elapsed < 45, elapsed


def test_test_mode_tries_only_the_streams_the_catalog_selects(emulator, run_tap, tmp_path):
    config = emulator.tap_config(providers=["teli", "sela"], teli={"api_key": "wrong"})
    catalog = json.loads(run_tap(config, None, "--discover").stdout)
    for stream in catalog["streams"]:
        for entry in stream["metadata"]:
            if entry["breadcrumb"] == []:
                entry["metadata"]["selected"] = stream["tap_stream_id"] == "sela_leads"
    (tmp_path / "catalog.json").write_text(json.dumps(catalog))

    run = run_tap(config, None, "--test", "--catalog", str(tmp_path / "catalog.json"))

    assert run.returncode == 0, run.stderr
    assert info_lines(run.stderr)[-1] == "All 1 stream(s) read their first page: 1 lead(s) emitted."
    assert {r.provider for r in emulator.requests} == {"sela"}
