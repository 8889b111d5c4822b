"""A sharded run keeps only its own accounts' bookmarks (tap_leads.shard_state)."""

from __future__ import annotations

from tap_leads.providers.accounts import shard_of
from tap_leads.shard_state import keep_own_entries

NAMES = [f"client-{n:02d}" for n in range(12)]


def partitioned_state() -> dict:
    return {
        "bookmarks": {
            "autocalls_leads": {
                "partitions": [
                    {"context": {"account": name}, "replication_key_value": name} for name in NAMES
                ]
            },
            "other_leads": {"partitions": [{"context": {"account": "client-00"}}]},
        }
    }


def accounts_in(state: dict, stream: str = "autocalls_leads") -> list[str]:
    return [p["context"]["account"] for p in state["bookmarks"][stream]["partitions"]]


def test_a_shard_keeps_exactly_the_entries_of_its_accounts():
    for k in range(3):
        state = partitioned_state()
        keep_own_entries(state, {"shard": f"{k}/3"}, {"autocalls_leads": "autocalls"})
        expected = [n for n in NAMES if shard_of("autocalls", n, 3) == k]
        assert expected  # every shard of 3 takes some of the 12 accounts
        assert accounts_in(state) == expected
        # A stream the run does not name is left alone.
        assert accounts_in(state, "other_leads") == ["client-00"]


def test_an_unsharded_run_keeps_everything():
    for config in ({}, {"shard": None}, {"shard": ""}):
        state = partitioned_state()
        keep_own_entries(state, config, {"autocalls_leads": "autocalls"})
        assert state == partitioned_state()


def test_the_single_block_form_keeps_its_bookmark_only_in_its_shard():
    taken = shard_of("sela", None, 4)
    for k in range(4):
        state = {"bookmarks": {"sela_leads": {"replication_key_value": "2026-01-01"}}}
        keep_own_entries(state, {"shard": f"{k}/4"}, {"sela_leads": "sela"})
        assert ("sela_leads" in state["bookmarks"]) is (k == taken)


def test_entries_without_an_account_are_kept():
    state = {"bookmarks": {"autocalls_leads": {"partitions": [{"context": {"x": 1}}, {"y": 2}]}}}
    keep_own_entries(state, {"shard": "0/7"}, {"autocalls_leads": "autocalls"})
    assert state["bookmarks"]["autocalls_leads"]["partitions"] == [{"context": {"x": 1}}, {"y": 2}]
