"""The shard-state merge of orchestration/: objects deeply, `partitions` by context."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from orchestration.meltano_state import effective, plan_reshard
from orchestration.state_merge import merge_states

REPO = Path(__file__).resolve().parents[2]


def entry(account: str, value: str, **extra) -> dict:
    return {"context": {"account": account}, "replication_key_value": value, **extra}


def test_partitions_concatenate_one_entry_per_context_later_wins():
    first = {"bookmarks": {"a_leads": {"partitions": [entry("x", "1"), entry("y", "1")]}}}
    second = {"bookmarks": {"a_leads": {"partitions": [entry("y", "2"), entry("z", "2")]}}}
    merged = merge_states([first, second])
    expected = [entry("x", "1"), entry("y", "2"), entry("z", "2")]
    assert merged == {"bookmarks": {"a_leads": {"partitions": expected}}}
    # The later state wins, whichever it is.
    assert merge_states([second, first])["bookmarks"]["a_leads"]["partitions"] == [
        entry("y", "1"),
        entry("z", "2"),
        entry("x", "1"),
    ]


def test_objects_merge_deeply_and_other_values_are_replaced():
    first = {
        "bookmarks": {
            "a_leads": {"partitions": [entry("x", "1")]},
            "b_leads": {"replication_key_value": "1", "seen": [1, 2]},
        },
        "extra": {"keep": True},
    }
    second = {"bookmarks": {"b_leads": {"replication_key_value": "2", "seen": [3]}}}
    assert merge_states([first, second]) == {
        "bookmarks": {
            "a_leads": {"partitions": [entry("x", "1")]},
            # Lists other than partitions are values like any other: the later one wins.
            "b_leads": {"replication_key_value": "2", "seen": [3]},
        },
        "extra": {"keep": True},
    }
    # A partition entry is taken whole from the later state, never merged key by key.
    old = {"bookmarks": {"a_leads": {"partitions": [entry("x", "1", members=[1, 2])]}}}
    new = {"bookmarks": {"a_leads": {"partitions": [entry("x", "2")]}}}
    assert merge_states([old, new])["bookmarks"]["a_leads"]["partitions"] == [entry("x", "2")]


def test_contexts_with_several_keys_match_whatever_their_key_order():
    teli = {"account": "p", "org_id": "o1"}
    first = {"bookmarks": {"t": {"partitions": [{"context": teli, "replication_key_value": "1"}]}}}
    flipped = {"org_id": "o1", "account": "p"}
    second = {
        "bookmarks": {"t": {"partitions": [{"context": flipped, "replication_key_value": "2"}]}}
    }
    (only,) = merge_states([first, second])["bookmarks"]["t"]["partitions"]
    assert only["replication_key_value"] == "2"


def test_inputs_are_left_unchanged():
    first = {"bookmarks": {"a": {"partitions": [entry("x", "1")]}}}
    second = {"bookmarks": {"a": {"partitions": [entry("x", "2")]}}}
    before = json.dumps([first, second])
    merge_states([first, second])["bookmarks"]["a"]["partitions"][0]["replication_key_value"] = "9"
    assert json.dumps([first, second]) == before


def test_cli_merges_files_and_keeps_meltanos_form(tmp_path):
    one = tmp_path / "one.json"
    two = tmp_path / "two.json"
    wrapped = {"singer_state": {"bookmarks": {"a": {"partitions": [entry("x", "1")]}}}}
    one.write_text(json.dumps(wrapped))
    two.write_text(json.dumps({"bookmarks": {"a": {"partitions": [entry("y", "2")]}}}))
    done = subprocess.run(
        [sys.executable, "-m", "orchestration.state_merge", str(one), str(two)],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "singer_state": {"bookmarks": {"a": {"partitions": [entry("x", "1"), entry("y", "2")]}}}
    }


def test_cli_names_a_file_that_holds_no_state(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]")
    done = subprocess.run(
        [sys.executable, "-m", "orchestration.state_merge", str(bad)],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr.strip() == f"state_merge: {bad} holds no JSON object"
    assert done.stdout == ""


def test_a_reshard_merges_every_shard_and_gives_each_new_shard_the_result():
    prefix = "dev:tap-leads-to-target-postgres"
    last = {"bookmarks": {"a": {"partitions": [entry("x", "1"), entry("y", "1"), entry("z", "1")]}}}
    states = {
        f"{prefix}:shards": last,
        # Shard 0 ran: its own accounts only, newer.
        f"{prefix}:shard-0-of-2": {"bookmarks": {"a": {"partitions": [entry("x", "2")]}}},
        # Shard 1 committed nothing since the last merge: still the merged copy, whose
        # stale y and z must not win over what other shards wrote.
        f"{prefix}:shard-1-of-2": last,
        f"{prefix}:shard-9-of-9": {"bookmarks": {"a": {"partitions": [entry("z", "3")]}}},
        # Emptied by an earlier reshard: nothing to merge, nothing to clear again.
        f"{prefix}:shard-0-of-5": {},
    }
    plan = plan_reshard(states, prefix, 3)
    assert plan.merged == {
        "bookmarks": {"a": {"partitions": [entry("x", "2"), entry("y", "1"), entry("z", "3")]}}
    }
    assert plan.writes == {
        f"{prefix}:shards": plan.merged,
        f"{prefix}:shard-0-of-3": plan.merged,
        f"{prefix}:shard-1-of-3": plan.merged,
        f"{prefix}:shard-2-of-3": plan.merged,
    }
    assert plan.clears == [
        f"{prefix}:shard-0-of-2",
        f"{prefix}:shard-1-of-2",
        f"{prefix}:shard-9-of-9",
    ]


def test_a_first_run_writes_nothing():
    plan = plan_reshard({}, "dev:tap-leads-to-target-postgres", 4)
    assert (plan.merged, plan.writes, plan.clears) == ({}, {}, [])


def test_a_failed_runs_partial_state_is_laid_over_the_completed_one():
    completed = {"bookmarks": {"a": {"partitions": [entry("x", "1"), entry("y", "1")]}, "b": {}}}
    partial = {"bookmarks": {"a": {"partitions": [entry("x", "2")]}}}
    exported = {"completed": {"singer_state": completed}, "partial": {"singer_state": partial}}
    # As Meltano starts a run: lists replaced, objects merged.
    assert effective(exported) == {"bookmarks": {"a": {"partitions": [entry("x", "2")]}, "b": {}}}
    assert effective({"completed": {}, "partial": {}}) == {}
