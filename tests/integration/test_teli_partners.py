"""Teli partner keys over organisations that come and go, and an account that is throttled."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from emulator import LeadsEmulator

AUTOCALLS = {"acme": 30, "globex": 20, "initech": 12}
ORGS = {"North": 25, "South": 15}
THROTTLE_LINE = "Autocalls account {name}: throttled (HTTP 429)"


@pytest.fixture
def emu():
    with LeadsEmulator(
        leads_per_provider=10,
        seed=13,
        accounts={"autocalls": AUTOCALLS, "teli": {"partner": ORGS}},
    ) as emulator:
        yield emulator


def partition_bookmarks(state: dict, stream: str) -> dict[str, str | None]:
    return {
        json.dumps(p["context"], sort_keys=True): p.get("replication_key_value")
        for p in state["bookmarks"][stream]["partitions"]
    }


def org_context(org_id: str) -> str:
    return json.dumps({"account": "partner", "org_id": org_id}, sort_keys=True)


def pairs(run, stream: str, key: str = "id") -> list[tuple[str, object]]:
    return [(record["account"], record[key]) for record in run.records(stream)]


def expected_autocalls(emu) -> list[tuple[str, object]]:
    return sorted(
        (name, key) for name in AUTOCALLS for key in emu.listed_keys("autocalls", account=name)
    )


def test_an_organisation_added_between_runs_is_read_by_the_next_run(emu, run_tap):
    config = emu.accounts_config(["teli"], teli={"page_size": 10})
    first = run_tap(config)
    assert first.returncode == 0, first.stderr
    before = partition_bookmarks(first.final_state, "teli_leads")
    orgs = {org["name"]: org["unique_id"] for org in emu.teli_orgs("partner")}
    assert set(before) == {org_context(orgs[name]) for name in ORGS}

    east = emu.add_teli_org(account="partner", name="East", leads=12)
    east_keys = emu.listed_keys("teli", account="partner", org="East")
    assert len(east_keys) == 12
    second = run_tap(config, first.final_state)
    assert second.returncode == 0, second.stderr

    emitted = [key for _, key in pairs(second, "teli_leads", "unique_id")]
    assert set(east_keys) <= set(emitted)
    # Beside the new organisation, only the leads holding the old bookmarks come again.
    assert len(emitted) - len(east_keys) <= 2 * len(ORGS)
    assert {account for account, _ in pairs(second, "teli_leads", "unique_id")} == {"partner"}

    after = partition_bookmarks(second.final_state, "teli_leads")
    assert set(after) == set(before) | {org_context(east["unique_id"])}
    for context, bookmark in before.items():
        assert after[context] == bookmark
    assert after[org_context(east["unique_id"])] is not None


class _NoOrganisationList(BaseHTTPRequestHandler):
    """A Teli that lists no organisations and refuses every leads request."""

    def do_GET(self) -> None:
        if self.path.split("?")[0] == "/v1/organizations":
            status, body = 200, {"success": True}
        else:
            status, body = 401, {"success": False, "error": "Invalid API key"}
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextlib.contextmanager
def teli_without_organisations() -> Iterator[tuple[str, list[str]]]:
    seen: list[str] = []

    class Handler(_NoOrganisationList):
        def do_GET(self) -> None:
            seen.append(self.path)
            super().do_GET()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def test_organisations_answer_without_a_list_fails_that_account_only(emu, run_tap):
    config = emu.accounts_config(["autocalls"], autocalls={"page_size": 7})
    with teli_without_organisations() as (url, seen):
        config["teli"] = {
            "api_url": url,
            "accounts": [{"name": "partner", "api_key": "partner-key", "org_id": "*"}],
        }
        run = run_tap(config)
    assert run.returncode == 1, run.stderr
    assert "Traceback" not in run.stderr
    assert run.errors[-1].endswith(
        "Teli answered GET /v1/organizations without a list of organisations (each with a "
        'unique_id), so teli.accounts[partner].org_id "*" cannot be expanded. Set '
        "teli.accounts[partner].org_id to one organisation's unique_id."
    )
    assert "teli_leads[partner]" in run.errors[-1]
    # Nothing could be read from a key whose organisations are unknown.
    assert [path.split("?")[0] for path in seen] == ["/v1/organizations"]
    assert run.records("teli_leads") == []

    assert sorted(pairs(run, "autocalls_leads")) == expected_autocalls(emu)
    bookmarks = partition_bookmarks(run.final_state, "autocalls_leads")
    assert set(bookmarks) == {json.dumps({"account": name}) for name in AUTOCALLS}
    assert all(bookmarks.values())


def test_organisations_answer_without_a_list_counts_the_accounts_that_completed(emu, run_tap):
    config = emu.accounts_config(["autocalls"])
    with teli_without_organisations() as (url, _):
        config["teli"] = {
            "api_url": url,
            "accounts": [{"name": "partner", "api_key": "partner-key", "org_id": "*"}],
        }
        run = run_tap(config)
    assert run.returncode == 1, run.stderr
    assert run.errors[-1].startswith(
        f"1 account(s) failed ({len(AUTOCALLS)} other(s) completed): teli_leads[partner]: "
    )


def test_a_throttled_account_backs_off_alone_and_loses_nothing(emu, run_tap):
    limit = emu.set_rate_limit("autocalls", "acme", per_second=4, burst=2)
    config = emu.accounts_config(
        ["autocalls"], autocalls={"page_size": 5}, max_concurrent_requests=8, max_tries=10
    )
    run = run_tap(config)
    assert run.returncode == 0, run.stderr
    assert limit.refused > 0

    info = [line for line in run.stderr.splitlines() if "| INFO" in line]
    assert any(THROTTLE_LINE.format(name="acme") in line for line in info), run.stderr
    for name in AUTOCALLS.keys() - {"acme"}:
        assert not any(f"Autocalls account {name}:" in line for line in info), name
    refused = {r.account for r in emu.requests_for("autocalls") if r.status == 429}
    assert refused == {"acme"}

    emitted = pairs(run, "autocalls_leads")
    assert len(emitted) == len(set(emitted))
    assert sorted(emitted) == expected_autocalls(emu)
