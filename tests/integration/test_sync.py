"""Full syncs of all five streams against the emulator over real HTTP."""

from __future__ import annotations

from datetime import UTC, datetime

import jsonschema
import pytest

from tests.conftest import STREAMS, primary_key


def query(request) -> list[tuple[str, str]]:
    return list(request.query)


def requests_of(emulator, provider):
    return [r for r in emulator.requests if r.provider == provider]


def test_every_lead_of_every_provider_arrives_exactly_once(emulator, run_tap):
    run = run_tap(emulator.tap_config())
    assert run.returncode == 0, run.stderr
    for provider, stream in STREAMS.items():
        key = primary_key(provider)
        got = [record[key] for record in run.records(stream)]
        expected = [
            int(lead[key])
            if key == "id" and provider in ("flextell", "sela", "autocalls")
            else lead[key]
            for lead in emulator.leads(provider)
        ]
        assert len(got) == len(set(got)) == len(expected) == 120, stream
        assert set(got) == set(expected), stream


def test_every_record_validates_against_its_schema(emulator, run_tap):
    run = run_tap(emulator.tap_config())
    assert run.returncode == 0, run.stderr
    checker = jsonschema.Draft202012Validator.FORMAT_CHECKER
    for stream in STREAMS.values():
        schema = run.schema(stream)["schema"]
        validator = jsonschema.Draft202012Validator(schema, format_checker=checker)
        records = run.records(stream)
        assert records, stream
        for record in records:
            errors = [e.message for e in validator.iter_errors(record)]
            assert not errors, (stream, record, errors)


def test_timestamps_are_emitted_in_utc(emulator, run_tap):
    run = run_tap(emulator.tap_config(providers=["sela", "autocalls", "teli"]))
    sela = {lead["id"]: lead for lead in emulator.leads("sela")}
    offsets = set()
    for record in run.records("sela_leads"):
        raw = sela[record["id"]]["modified_time"]
        offsets.add(raw[-6:])
        expected = datetime.fromisoformat(raw).astimezone(UTC).isoformat(timespec="microseconds")
        assert record["modified_time"] == expected
    assert offsets == {"-08:00", "-07:00"}
    for record in run.records("autocalls_leads") + run.records("teli_leads"):
        assert record["updated_at"].endswith("+00:00")


@pytest.mark.parametrize("provider", list(STREAMS))
def test_small_pages_walk_every_page_once(emulator, run_tap, provider):
    run = run_tap(emulator.tap_config(providers=[provider], **{provider: {"page_size": 7}}))
    assert run.returncode == 0, run.stderr
    records = run.records(STREAMS[provider])
    assert len(records) == 120
    pages = sorted(int(dict(query(r)).get("page", 1)) for r in requests_of(emulator, provider))
    assert pages == list(range(1, 19))  # ceil(120 / 7) pages, each once


def test_teli_always_sends_page_and_is_admin(emulator, run_tap):
    run_tap(emulator.tap_config(providers=["teli"]))
    for request in requests_of(emulator, "teli"):
        params = dict(query(request))
        assert params["is_admin"] == "true"
        assert "page" in params
        assert params["page_size"] == "200"
        assert request.headers["x-api-key"] == emulator.credentials("teli")["api_key"]


def test_teli_user_filter_replaces_is_admin(emulator, run_tap):
    user = emulator.leads("teli")[0]
    user_unique_id = emulator.teli_user_unique_id(user["user_id"])
    run = run_tap(emulator.tap_config(providers=["teli"], teli={"user_id": user_unique_id}))
    assert run.returncode == 0, run.stderr
    expected = [lead for lead in emulator.leads("teli") if lead["user_id"] == user["user_id"]]
    assert len(run.records("teli_leads")) == len(expected) > 0
    for request in requests_of(emulator, "teli"):
        params = dict(query(request))
        assert params["user_id"] == user_unique_id
        assert "is_admin" not in params


def test_sela_sends_the_token_prefix_exactly_once(emulator, run_tap):
    key = emulator.credentials("sela")["api_key"]
    for configured in (key, f"Token {key}"):
        emulator.clear_requests()
        run = run_tap(emulator.tap_config(providers=["sela"], sela={"api_key": configured}))
        assert run.returncode == 0, run.stderr
        assert {r.headers["authorization"] for r in requests_of(emulator, "sela")} == {
            f"Token {key}"
        }
        assert all(r.path.endswith("/api/leads/") for r in requests_of(emulator, "sela"))


def test_flextell_sends_bearer_and_tenant(emulator, run_tap):
    creds = emulator.credentials("flextell")
    run_tap(emulator.tap_config(providers=["flextell"]))
    for request in requests_of(emulator, "flextell"):
        assert request.headers["authorization"] == f"Bearer {creds['access_token']}"
        assert request.headers["x-tenant"] == str(creds["tenant_id"])


@pytest.mark.parametrize(
    ("provider", "filters", "expected_params"),
    [
        (
            "nexus_erp",
            {"status": "QUALIFIED", "assigned_to_id": "unassigned", "search": "a"},
            {"status": "QUALIFIED", "assignedToId": "unassigned", "search": "a"},
        ),
        (
            "flextell",
            {"converted": True, "lead_status_id": 2, "search": "x"},
            {"converted": "true", "lead_status_id": "2", "search": "x"},
        ),
        (
            "sela",
            {"email": "a@b.c", "external_id": "e1", "phone_number": "+1", "user": 3},
            {"email": "a@b.c", "external_id": "e1", "phone_number": "+1", "user": "3"},
        ),
        (
            "autocalls",
            {
                "status": "completed",
                "campaign_id": 2,
                "date_from": "2025-01-01",
                "date_to": "2025-12-31",
                "phone_number": "555",
            },
            {
                "status": "completed",
                "campaign_id": "2",
                "date_from": "2025-01-01",
                "date_to": "2025-12-31",
                "phone_number": "555",
            },
        ),
        (
            "teli",
            {"group_id": "g1", "phone_number": "+15551234567"},
            {"group_id": "g1", "phone_number": "+15551234567"},
        ),
    ],
)
def test_filters_pass_through_under_the_api_names(
    emulator, run_tap, provider, filters, expected_params
):
    run = run_tap(emulator.tap_config(providers=[provider], **{provider: filters}))
    assert run.returncode == 0, run.stderr
    sent = requests_of(emulator, provider)
    assert sent
    for request in sent:
        params = dict(query(request))
        assert {k: params.get(k) for k in expected_params} == expected_params


# Filters that match many leads, so that several pages are followed.
WIDE_FILTERS = {
    "flextell": {"search": "a"},
    "sela": {"user": 8},
    "autocalls": {"phone_number": "5"},
}


@pytest.mark.parametrize("provider", ["flextell", "sela", "autocalls"])
def test_following_next_urls_never_duplicates_a_parameter(emulator, run_tap, provider):
    config = emulator.tap_config(
        providers=[provider],
        max_concurrent_requests=1,
        **{provider: {"page_size": 5, **WIDE_FILTERS[provider]}},
    )
    run = run_tap(config)
    assert run.returncode == 0, run.stderr
    sent = requests_of(emulator, provider)
    assert len(sent) > 2
    for request in sent:
        names = [name for name, _ in query(request)]
        assert len(names) == len(set(names)), names
        assert set(WIDE_FILTERS[provider]) <= set(names)


def test_bad_config_sends_no_request(emulator, run_tap):
    config = emulator.tap_config(providers=["teli", "sela"])
    config["sela"]["page_size"] = 5000
    run = run_tap(config)
    assert run.returncode == 1
    assert run.errors[-1:] == ["sela.page_size is 5000: Sela takes 1 to 1000 leads per page."]
    assert emulator.requests == []


def test_progress_lines_while_running_and_a_summary_per_stream(emulator, run_tap):
    emulator.faults("sela").latency_ms = 60
    emulator.faults("sela").server_error(503, page=2)
    run = run_tap(
        emulator.tap_config(
            providers=["sela", "teli"],
            progress_interval_seconds=0.2,
            max_concurrent_requests=1,
            sela={"page_size": 10},
        )
    )
    assert run.returncode == 0, run.stderr
    lines = [line.split("| ")[-1] for line in run.stderr.splitlines() if "| INFO" in line]
    progress = [line for line in lines if line.startswith("sela_leads progress:")]
    assert len(progress) >= 2
    [done] = [line for line in lines if line.startswith("sela_leads done:")]
    assert done.startswith("sela_leads done: 12 page(s), 120 lead(s) read, 120 emitted, ")
    assert ", 1 retry, 0 repeat(s) dropped, " in done
    [teli_done] = [line for line in lines if line.startswith("teli_leads done:")]
    assert teli_done.startswith("teli_leads done: 1 page(s), 120 lead(s) read, 120 emitted, ")


def test_pages_fetched_ahead_report_their_retries_and_shaping(emulator, run_tap):
    # Pages after the first are fetched (and shaped) ahead of the record loop; what
    # happened there must still reach the summary and the warnings.
    emulator.faults("sela").server_error(503, page=4)
    emulator.faults("sela").malformed_next_call_time(times=None)
    run = run_tap(emulator.tap_config(providers=["sela"], sela={"page_size": 10}))
    assert run.returncode == 0, run.stderr
    assert len(run.records("sela_leads")) == 120
    lines = [line.split("| ")[-1] for line in run.stderr.splitlines() if "| INFO" in line]
    [done] = [line for line in lines if line.startswith("sela_leads done:")]
    assert ", 1 retry, " in done
    leads = emulator.leads("sela")
    bad = sum(1 for lead in leads if lead["next_call_time"] and lead["id"] % 10 == 0)
    assert bad > 0
    assert (
        f"sela_leads: {bad} value(s) of 'next_call_time' could not be read as the schema's "
        "type and were emitted as null."
    ) in run.stderr
