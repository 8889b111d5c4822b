"""What tap_leads.sdk_hooks relies on in the SDK. An SDK upgrade that changes any of it
fails here, loudly, rather than silently promoting a bookmark that should be held."""

from __future__ import annotations

import inspect
import logging
import re
from pathlib import Path

import singer_sdk
from singer_sdk import Stream, Tap, metrics
from singer_sdk.helpers import _state
from singer_sdk.streams._state import StreamStateManager

from tap_leads import sdk_hooks
from tap_leads.tap import TapLeads

SDK_ROOT = Path(singer_sdk.__file__).parent


def parameters(function) -> list[str]:
    return list(inspect.signature(function).parameters)


def test_unsorted_streams_keep_their_greatest_value_in_progress_markers():
    state: dict = {}
    for value in ("2026-01-02T00:00:00+00:00", "2026-01-03T00:00:00+00:00"):
        _state.increment_state(
            state,
            latest_record={"updated_at": value},
            replication_key="updated_at",
            is_sorted=False,
            check_sorted=False,
        )
    markers = state[sdk_hooks.PROGRESS_MARKERS]
    assert sdk_hooks.PROGRESS_MARKERS == "progress_markers"
    assert markers["replication_key"] == "updated_at"
    assert markers["replication_key_value"] == "2026-01-03T00:00:00+00:00"


def test_finalising_promotes_the_progress_markers_unless_they_were_dropped():
    promoted = {
        "replication_key_value": "2026-01-01T00:00:00+00:00",
        "progress_markers": {
            "replication_key": "updated_at",
            "replication_key_value": "2026-02-01T00:00:00+00:00",
        },
    }
    held = {**promoted, "progress_markers": dict(promoted["progress_markers"])}
    _state.finalize_state_progress_markers(promoted)
    assert promoted["replication_key_value"] == "2026-02-01T00:00:00+00:00"
    assert "progress_markers" not in promoted

    sdk_hooks.drop_progress_bookmark(held)
    _state.finalize_state_progress_markers(held)
    assert held["replication_key_value"] == "2026-01-01T00:00:00+00:00"


def test_the_stream_methods_the_shortcuts_replace_are_still_there():
    assert parameters(Stream._write_record_message) == ["self", "record"]
    assert parameters(Stream._process_record) == [
        "self",
        "record",
        "child_context",
        "partition_context",
    ]
    assert parameters(Stream._increment_stream_state) == ["self", "latest_record", "context"]
    assert hasattr(Stream, "ABORT_AT_RECORD_COUNT")
    assert parameters(Stream._sync_batches) == ["self", "batch_config", "context"]
    assert parameters(Stream._write_batch_message) == ["self", "encoding", "manifest"]


def test_the_tap_still_terminates_where_the_hook_expects():
    assert parameters(Tap._handle_termination) == ["self", "signum", "frame"]


def test_the_sdk_notes_that_are_quietened_still_read_the_same():
    sources = (SDK_ROOT / "helpers" / "_state.py").read_text() + (
        SDK_ROOT / "streams" / "core.py"
    ).read_text()
    assert '"Stream is assumed to be unsorted, progress is not resumable if "' in sources
    assert '"An unhandled error occurred while syncing' in sources


def test_the_quiet_filter_drops_only_those_notes():
    quiet = sdk_hooks._QuietSdkNotes()

    def record(message: str) -> logging.LogRecord:
        return logging.LogRecord("singer_sdk", logging.WARNING, __file__, 1, message, (), None)

    assert not quiet.filter(record("Stream is assumed to be unsorted, progress is not …"))
    assert not quiet.filter(record("An unhandled error occurred while syncing '%s'"))
    assert quiet.filter(record("teli_leads: 3 value(s) of 'email' could not be read"))


def test_the_config_the_tap_reads_is_still_the_private_dict_replace_config_sets():
    tap = TapLeads(config={"teli": {"api_key": "k", "org_id": "o"}})
    assert isinstance(tap._config, dict)
    sdk_hooks.replace_config(tap, {"teli": {"api_key": "k2", "org_id": "o"}})
    assert tap.config == {"teli": {"api_key": "k2", "org_id": "o"}}


def test_the_state_manager_the_memo_wraps_is_still_there():
    assert isinstance(inspect.getattr_static(Stream, "state_manager"), property)
    assert parameters(StreamStateManager.get_context_state) == ["self", "context"]


def manager_of(tap_state: dict) -> StreamStateManager:
    return StreamStateManager(
        tap_name="tap-leads",
        stream_name="autocalls_leads",
        tap_state=tap_state,
        state_partitioning_keys=None,
        is_sorted=False,
        check_sorted=False,
    )


def test_partition_states_are_found_by_index_and_stay_the_live_dicts(monkeypatch):
    scans = []
    scan = _state._find_in_partitions_list
    monkeypatch.setattr(_state, "_find_in_partitions_list", lambda *a: scans.append(a) or scan(*a))
    earlier = {"context": {"account": "b"}, "replication_key_value": "2025-12-31"}
    tap_state: dict = {"bookmarks": {"autocalls_leads": {"partitions": [earlier]}}}
    manager = manager_of(tap_state)
    sdk_hooks.memoize_context_states(manager)
    sdk_hooks.memoize_context_states(manager)  # once is enough
    first = manager.get_context_state({"account": "a"})
    first["replication_key_value"] = "2026-01-01"
    assert manager.get_context_state({"account": "a"}) is first
    assert manager.get_context_state({"account": "b"}) is earlier
    for number in range(2_000):
        manager.get_context_state({"account": f"n{number}"})
    assert scans == []  # no pass over the partitions per look-up
    partitions = tap_state["bookmarks"]["autocalls_leads"]["partitions"]
    assert partitions[:2] == [
        earlier,
        {"context": {"account": "a"}, "replication_key_value": "2026-01-01"},
    ]
    assert len(partitions) == 2_002


def test_partitions_come_out_as_the_sdk_makes_them():
    contexts = [{"account": "a"}, {"account": "b", "org": "1"}, {"account": "a"}, None]
    states = []
    for memoized in (False, True):
        tap_state: dict = {"bookmarks": {}}
        manager = manager_of(tap_state)
        if memoized:
            sdk_hooks.memoize_context_states(manager)
        for context in contexts:
            manager.get_context_state(context)["seen"] = True
        states.append(tap_state)
    assert states[0] == states[1]


def test_a_replaced_partitions_list_is_indexed_again():
    tap_state: dict = {"bookmarks": {}}
    manager = manager_of(tap_state)
    sdk_hooks.memoize_context_states(manager)
    manager.get_context_state({"account": "a"})
    fresh = {"context": {"account": "c"}, "replication_key_value": "x"}
    tap_state["bookmarks"]["autocalls_leads"]["partitions"] = [fresh]
    assert manager.get_context_state({"account": "c"}) is fresh


def test_the_sdk_writes_a_streams_state_through_write_state_message_when_finalising():
    # StreamShortcuts paces STATEs by letting only the finalising write through.
    assert parameters(Stream._write_state_message) == ["self"]
    assert parameters(Stream.finalize_state_progress_markers) == ["self", "state"]
    source = inspect.getsource(Stream.finalize_state_progress_markers)
    assert "self._write_state_message()" in source
    assert "stream.finalize_state_progress_markers()" in inspect.getsource(Tap.sync_all)


def test_the_sdk_loop_the_page_path_replaces_still_has_its_shape():
    # sdk_hooks.page_sync replaces Stream._sync_records step for step; a new step in the
    # SDK's loop (or one moved) must be looked at before the page path is trusted again.
    assert parameters(Stream._sync_records) == ["self", "context", "write_messages"]
    source = inspect.getsource(Stream._sync_records)
    steps = [
        "record_counter = self.get_record_counter()",
        "timer = self.get_sync_timer()",
        "context_list = [context] if context is not None else self.partitions",
        "with record_counter, timer:",
        "for context_element in context_list or [{}]:",
        "record_counter.with_context(context_element)",
        "timer.with_context(context_element)",
        "current_context = context_element or None",
        "self._get_state_partition_context(",
        "self._write_starting_replication_value(current_context)",
        "enumerate(self.get_records(current_context))",
        "self._check_max_record_limit(current_record_index=record_index)",
        "record = self.post_process(record, current_context)",
        "self._process_record(",
        "if selected:",
        "self._write_record_message(record)",
        "self._increment_stream_state(record, context=current_context)",
        "% self.STATE_MSG_FREQUENCY == 0 and write_messages",
        "self._write_state_message()",
        "record_counter.increment()",
        "yield record",
        "if current_context == state_partition_context:",
        "state = self.get_context_state(current_context)",
        "self._finalize_state(state)",
        "if not context:",
        "self._finalize_state(self.stream_state)",
        "if write_messages:",
        "self._write_state_message()",
    ]
    position = 0
    for step in steps:
        found = source.find(step, position)
        assert found >= 0, f"Stream._sync_records no longer does, in this order: {step}"
        position = found + len(step)
    # Only these calls: anything else the loop starts doing is not done by the page path.
    calls = sorted(set(re.findall(r"self\.(\w+)\(", source)))
    assert calls == [
        "_check_max_record_limit",
        "_finalize_state",
        "_get_state_partition_context",
        "_increment_stream_state",
        "_process_record",
        "_write_record_message",
        "_write_starting_replication_value",
        "_write_state_message",
        "get_context_state",
        "get_record_counter",
        "get_records",
        "get_sync_timer",
        "post_process",
    ]
    # The counter counts a page at once; BATCH still reads the loop without writing.
    assert parameters(metrics.Counter.increment) == ["self", "value"]
    assert "self._sync_records(context, write_messages=False)" in inspect.getsource(
        Stream.get_batches
    )
    assert parameters(Stream._check_max_record_limit) == ["self", "current_record_index"]
    assert parameters(Stream._write_starting_replication_value) == ["self", "context"]
    assert parameters(Stream._finalize_state) == ["self", "state"]
