"""When no deletion may be reported: a failed account, an interrupted run, a list that
moved; and the accounts form, Teli's org_id "*" and resharding, over real HTTP."""

from __future__ import annotations

import json
import signal
import subprocess
import sys

import pytest

from emulator import LeadsEmulator
from orchestration.state_merge import merge_states
from tap_leads.providers.accounts import shard_of
from tests.conftest import FAST, STREAMS, parse_messages, primary_key
from tests.integration.test_lifecycle import read_until_records, start_tap

PROVIDERS = list(STREAMS)


def deleted(messages_or_run) -> list[tuple[str, str, str]]:
    messages = getattr(messages_or_run, "messages", messages_or_run)
    return [
        (m["record"]["stream"], m["record"]["account"], m["record"]["id"])
        for m in messages
        if m["type"] == "RECORD" and m["stream"] == "deleted_leads"
    ]


def ok(run):
    assert run.returncode == 0, run.stderr[-3000:]
    return run


def test_the_right_account_is_reported_when_ids_overlap(run_tap):
    with LeadsEmulator(
        leads_per_provider=5, seed=9, accounts={"autocalls": {"acme": 30, "globex": 20}}
    ) as emu:
        config = emu.accounts_config(["autocalls"])
        first = ok(run_tap(config))
        shared = sorted(
            set(emu.listed_keys("autocalls", account="acme"))
            & set(emu.listed_keys("autocalls", account="globex"))
        )[:2]
        emu.delete_leads("autocalls", ids=shared, account="acme")
        second = ok(run_tap(config, first.final_state))
        assert sorted(deleted(second)) == [("autocalls_leads", "acme", str(k)) for k in shared]
        assert set(shared) <= set(emu.listed_keys("autocalls", account="globex"))


def test_teli_every_organisation_reports_its_deletions_under_the_account(run_tap):
    orgs = {"North": 25, "South": 15}
    with LeadsEmulator(leads_per_provider=5, seed=9, accounts={"teli": {"partner": orgs}}) as emu:
        config = emu.accounts_config(["teli"])
        first = ok(run_tap(config))
        north = emu.listed_keys("teli", account="partner", org="North")[3:5]
        south = emu.listed_keys("teli", account="partner", org="South")[:1]
        emu.delete_leads("teli", ids=north, account="partner", org="North")
        emu.delete_leads("teli", ids=south, account="partner", org="South")
        second = ok(run_tap(config, first.final_state))
        assert sorted(deleted(second)) == sorted(
            ("teli_leads", "partner", key) for key in [*north, *south]
        )
        assert deleted(ok(run_tap(config, second.final_state))) == []


def test_a_failed_account_reports_nothing_until_it_completes(run_tap):
    accounts = {"autocalls": {"acme": 30, "globex": 20, "initech": 12}}
    with LeadsEmulator(leads_per_provider=5, seed=9, accounts=accounts) as emu:
        config = emu.accounts_config(["autocalls"])
        first = ok(run_tap(config))
        gone = {name: emu.listed_keys("autocalls", account=name)[:1] for name in ("acme", "globex")}
        for name, keys in gone.items():
            emu.delete_leads("autocalls", ids=keys, account=name)
        emu.revoke("autocalls", "globex")
        second = run_tap(config, first.final_state)
        assert second.returncode == 1
        assert deleted(second) == [("autocalls_leads", "acme", str(gone["acme"][0]))]
        emu.reinstate("autocalls", "globex")
        third = ok(run_tap(config, second.final_state))
        assert deleted(third) == [("autocalls_leads", "globex", str(gone["globex"][0]))]


def test_sigterm_mid_walk_reports_only_accounts_that_completed(tmp_path):
    accounts = {"autocalls": {"acme": 30, "globex": 3000}}
    with LeadsEmulator(leads_per_provider=5, seed=3, latency_ms=20, accounts=accounts) as emu:
        config = {**emu.accounts_config(["autocalls"]), "max_concurrent_requests": 2}
        first = subprocess.run(
            [sys.executable, "-m", "tap_leads", "--config", str(write(tmp_path, config))],
            capture_output=True,
            text=True,
            timeout=180,
            check=True,
        )
        state = [m for m in parse_messages(first.stdout) if m["type"] == "STATE"][-1]["value"]
        acme = emu.listed_keys("autocalls", account="acme")[:2]
        globex = emu.listed_keys("autocalls", account="globex")[:3]
        emu.delete_leads("autocalls", ids=acme, account="acme")
        emu.delete_leads("autocalls", ids=globex, account="globex")
        # Every globex lead changes, so the run is busy emitting when the signal comes.
        emu.touch("autocalls", emu.listed_keys("autocalls", account="globex"), account="globex")
        with (tmp_path / "stderr.log").open("wb") as log:
            tap = start_tap(config, tmp_path, state, stderr=log)
            try:
                head = read_until_records(tap, 400)
                tap.send_signal(signal.SIGTERM)
                rest = tap.stdout.read()
                tap.wait(timeout=30)
            finally:
                if tap.poll() is None:
                    tap.kill()
                tap.stdout.close()
        assert tap.returncode == 128 + signal.SIGTERM, (tmp_path / "stderr.log").read_text()[-3000:]
        messages = parse_messages((b"".join(head) + rest).decode())
        assert deleted(messages) == [("autocalls_leads", "acme", str(k)) for k in sorted(acme)]
        resumed = [m for m in messages if m["type"] == "STATE"][-1]["value"]
        third = subprocess.run(
            [
                sys.executable,
                "-m",
                "tap_leads",
                "--config",
                str(write(tmp_path, config)),
                "--state",
                str(write(tmp_path, resumed, "state.json")),
            ],
            capture_output=True,
            text=True,
            timeout=180,
            check=True,
        )
        assert deleted(parse_messages(third.stdout)) == [
            ("autocalls_leads", "globex", str(k)) for k in sorted(globex)
        ]


def write(tmp_path, value: dict, name: str = "config.json"):
    """A config (with the fast retries) or a state file, as start_tap writes them."""
    path = tmp_path / name
    path.write_text(json.dumps({**FAST, **value} if name == "config.json" else value))
    return path


@pytest.mark.parametrize("rewalks", [0, 1])
@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_list_moving_mid_run_reports_nothing_still_listed(run_tap, provider, rewalks):
    with LeadsEmulator(leads_per_provider=100, seed=11) as emu:
        config = emu.tap_config(
            providers=[provider], **{provider: {"page_size": 20}}, max_rewalks=rewalks
        )
        first = ok(run_tap(config))
        doomed = emu.listed_keys(provider)[2:5]
        emu.schedule_mutation(provider, "delete", ids=doomed, after_page=2)
        second = ok(run_tap(config, first.final_state))
        third = ok(run_tap(config, second.final_state))
        fourth = ok(run_tap(config, third.final_state))
        listed = {str(k) for k in emu.listed_keys(provider)}
        reported = [key for run in (second, third, fourth) for (_, _, key) in deleted(run)]
        assert not set(reported) & listed
        assert sorted(reported) == sorted(str(k) for k in doomed)
        # What went is reported by the run after the move at the latest.
        assert deleted(fourth) == []
        if rewalks == 0:  # the moved walk was not still: nothing until the next run
            assert deleted(second) == []


def test_merged_shard_states_let_shards_of_another_n_report_each_deletion_once(run_tap):
    names = [f"client-{n:02d}" for n in range(9)]
    accounts = {"autocalls": dict.fromkeys(names, 8)}
    with LeadsEmulator(leads_per_provider=5, seed=2, accounts=accounts) as emu:
        config = emu.accounts_config(["autocalls"])
        finals = [ok(run_tap({**config, "shard": f"{k}/2"})).final_state for k in range(2)]
        merged = merge_states(finals)
        expected = set()
        for name in names[::2]:
            key = emu.listed_keys("autocalls", account=name)[1]
            emu.delete_leads("autocalls", ids=[key], account=name)
            expected.add(("autocalls_leads", name, str(key)))
        reported = []
        later = []
        for k in range(3):
            run = ok(run_tap({**config, "shard": f"{k}/3"}, merged))
            reported += deleted(run)
            assert {a for (_, a, _) in deleted(run)} <= {
                n for n in names if shard_of("autocalls", n, 3) == k
            }
            later.append(run.final_state)
        assert sorted(reported) == sorted(expected)
        # Merged again, the next unsharded run has nothing left to report.
        assert deleted(ok(run_tap(config, merge_states(later)))) == []


def test_the_states_of_a_run_with_many_accounts_stay_within_4x_the_final_one(run_tap):
    names = {f"client-{n:03d}": 6 for n in range(200)}
    with LeadsEmulator(leads_per_provider=5, seed=4, accounts={"autocalls": names}) as emu:
        config = emu.accounts_config(["autocalls"])
        state = None
        for _ in range(2):
            run = ok(run_tap(config, state))
            sizes = [len(json.dumps(s, separators=(",", ":"))) for s in run.states]
            assert sum(sizes) <= 4 * sizes[-1]
            state = run.final_state
        partitions = state["bookmarks"]["autocalls_leads"]["partitions"]
        assert len(partitions) == 200
        assert all(p["membership"]["count"] == 6 for p in partitions)


def test_the_states_of_a_run_of_every_provider_stay_within_4x_the_final_one(run_tap):
    # Each STATE holds every provider's membership: one per stream end would be 6x here.
    with LeadsEmulator(leads_per_provider=400, seed=5) as emu:
        config = emu.tap_config(PROVIDERS)
        first = ok(run_tap(config))
        added = {p: {lead[primary_key(p)] for lead in emu.add(p, 2)} for p in PROVIDERS}
        second = ok(run_tap(config, first.final_state))
        for provider in PROVIDERS:
            emitted = {r[primary_key(provider)] for r in second.records(STREAMS[provider])}
            assert added[provider] <= emitted
        for run in (first, second):
            sizes = [len(json.dumps(s, separators=(",", ":"))) for s in run.states]
            assert sum(sizes) <= 4 * sizes[-1], sizes
        # The input state, the STATE at the end of the third of five streams, the final one.
        assert len(second.states) == 3
        bookmarks = second.final_state["bookmarks"]
        assert {p: bookmarks[STREAMS[p]]["membership"]["count"] for p in PROVIDERS} == {
            p: 402 for p in PROVIDERS
        }
