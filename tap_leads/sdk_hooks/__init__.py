"""Every use of a private SDK method or module, each saying what it replaces and why.

tests/unit/test_sdk_hooks.py checks that the SDK still has what these rely on, so an
SDK upgrade that changes them fails loudly instead of silently losing leads.

page_sync.py holds the page-at-a-time replacement of Stream._sync_records. The package
imports only the SDK and `output` (the writer), and nothing of the tap's above it.
"""

from __future__ import annotations

import logging
import signal
import typing as t
from functools import cached_property

from singer_sdk.helpers._state import PROGRESS_MARKERS  # private: the state layout
from singer_sdk.mapper import SameRecordTransform
from singer_sdk.singerlib import StateMessage

from tap_leads.output import BufferedMsgSpecWriter
from tap_leads.sdk_hooks import page_sync

if t.TYPE_CHECKING:
    from collections.abc import Iterator
    from types import FrameType

    from singer_sdk.streams.core import Stream
    from singer_sdk.tap_base import Tap

#: Keys of a stream state's progress markers that the SDK promotes to the bookmark.
PROGRESS_KEYS = ("replication_key", "replication_key_value")


class RunInterrupted(BaseException):
    """SIGTERM or SIGINT arrived; the run stops and must not report success.

    A BaseException, as KeyboardInterrupt is: code that catches Exception (logging's
    handlers, libraries, the SDK) must not swallow the stop or turn it into a failure.
    """

    def __init__(self, signum: int) -> None:
        self.signal_name = signal.Signals(signum).name
        self.exit_code = 128 + signum
        super().__init__(f"received {self.signal_name}")


def replace_config(tap: Tap, config: dict[str, t.Any]) -> None:
    """Give the tap the config it reads from now on, before the SDK validates it.

    Plugin.config is a read-only view of the private `_config`: the SDK offers no hook
    between reading the config files (or the environment) and validating them, which is
    where numbers given as text become numbers.
    """
    tap._config = config


def drop_progress_bookmark(state: dict) -> None:
    """Forget this run's greatest value, so that finalising keeps the previous bookmark.

    For unsorted streams the SDK keeps the greatest value in
    state["progress_markers"] and promotes it to the bookmark when the stream ends
    (Stream.finalize_state_progress_markers); there is no public way to veto that.
    """
    markers = state.get(PROGRESS_MARKERS) or {}
    for key in PROGRESS_KEYS:
        markers.pop(key, None)


def handle_termination(tap: Tap, signum: int, frame: FrameType | None) -> None:
    """Replaces Tap._handle_termination, which writes state and exits 0.

    A run cut short must not report success: the run unwinds with RunInterrupted,
    which the tap turns into a final STATE, one line and a non-zero exit. (The writer
    holds the signal back while bytes go out, so no line is ever cut in half.)
    """
    raise RunInterrupted(signum)


class _QuietSdkNotes(logging.Filter):
    """Drops SDK log lines that say nothing a user can act on.

    - "Stream is assumed to be unsorted…": lead lists have no stable order, and the tap
      handles that (bookmarks are promoted only when a stream completes).
    - "An unhandled error occurred while syncing…": the tap catches the failure and
      logs one line naming the provider and the setting to fix.
    """

    NOTES = (
        "Stream is assumed to be unsorted",
        "An unhandled error occurred while syncing",
        # The tap reads the environment itself, for --config ENV only.
        "Skipping parse of env var settings",
        "Parsing env var for settings config",
        # Names no account; each listing logs its own start line (progress.py).
        "Starting incremental sync of",
    )

    def filter(self, record: logging.LogRecord) -> bool:
        message = str(record.msg)
        return not message.startswith(self.NOTES)


def quiet_sdk_notes(loggers: t.Iterable[logging.Logger]) -> None:
    for logger in loggers:
        if not any(isinstance(f, _QuietSdkNotes) for f in logger.filters):
            logger.addFilter(_QuietSdkNotes())


def memoize_context_states(manager: t.Any) -> None:
    """Finds each partition's state through an index, on the stream's StreamStateManager.

    The SDK finds a partition's state by going through the state's list of partitions,
    several times per partition synced, and goes through the whole list again before it
    adds a partition that is not there: with thousands of accounts that is quadratic. The
    list is indexed once (and again only if it is replaced); a partition not in it is
    added as the SDK adds one, `{"context": ...}` at the end. The dicts are the live ones
    inside the tap's state, so they can be kept.
    """
    if getattr(manager, "_memoized", False):
        return
    lookup = manager.get_context_state
    states: dict[tuple | None, dict] = {}
    index: dict[tuple, dict] = {}
    seen: list[t.Any] = [None, 0]  # the partitions list indexed, and how far

    def partition_state(context: t.Mapping[str, t.Any]) -> dict:
        partitions = manager.stream_state.setdefault("partitions", [])
        if partitions is not seen[0]:
            index.clear()
            seen[:] = [partitions, 0]
        for partition in partitions[seen[1] :]:
            index.setdefault(_context_key(partition.get("context")), partition)
        key = _context_key(context)
        found = index.get(key)
        if found is None:
            found = index[key] = {"context": dict(context)}
            partitions.append(found)
        seen[1] = len(partitions)
        return found

    def get_context_state(context: t.Any) -> dict:
        key = _context_key(context)
        state = states.get(key)
        if state is None:
            partition = manager.get_state_partition_context(context)
            state = partition_state(partition) if partition else lookup(context)
            states[key] = state
        return state

    manager.get_context_state = get_context_state
    manager._memoized = True


def _context_key(context: t.Mapping[str, t.Any] | None) -> t.Any:
    return tuple(sorted(context.items())) if context else None


class StreamShortcuts:
    """Per-record SDK bookkeeping the lead streams do not need, skipped.

    Mixed into the stream class; each override says what it replaces. What a walk
    knows (the extraction time, the greatest value) lives on the stream's `walk`.
    """

    #: Set while the SDK finalises the stream's bookmark at the stream's end.
    _finalizing = False

    def finalize_state_progress_markers(self: t.Any, state: dict | None = None) -> None:
        """Stream.finalize_state_progress_markers, marking the write that ends the stream."""
        self._finalizing = True
        try:
            super().finalize_state_progress_markers(state)  # type: ignore[misc]
        finally:
            self._finalizing = False

    def _write_state_message(self: t.Any) -> None:
        """Replaces Stream._write_state_message while the tap paces its STATEs.

        The SDK writes the whole state when a stream's records end and again when its
        bookmark is finalised; with every account's membership in it, the tap's pacer
        lets only the finalising write of some streams through (the run's last STATE
        is written by the tap in any case).
        """
        pacer = self._tap.state_pacer
        if pacer is not None and not (self._finalizing and pacer.allows(self.name)):
            return
        super()._write_state_message()  # type: ignore[misc]

    def _sync_records(
        self: t.Any, context: t.Any = None, *, write_messages: bool = True
    ) -> Iterator[dict]:
        """Replaces Stream._sync_records with a page at a time where it changes nothing.

        Stream.sync, its only caller that writes messages, discards what it yields, so
        the page path yields nothing; BATCH (write_messages=False) takes the SDK's loop.
        """
        if not page_sync.applies(self, write_messages=write_messages):
            yield from super()._sync_records(context, write_messages=write_messages)  # type: ignore[misc]
            return
        page_sync.sync_pages(self, context)

    def _write_record_message(self: t.Any, record: dict) -> None:
        """Replaces Stream._write_record_message when nothing is deselected.

        The SDK walks every field for deselection and builds a message object per
        record; when no field is deselected and the writer is ours, neither is needed.
        """
        writer = self._tap.message_writer
        if (
            not self.everything_selected
            or self._stream_version is not None
            or not isinstance(writer, BufferedMsgSpecWriter)
        ):
            super()._write_record_message(record)  # type: ignore[misc]
            return
        extracted_at = self.walk.extracted_at if self.walk is not None else ""
        if self.identity_map:
            writer.write_record(self.name, record, extracted_at)
        else:
            for stream_map in self.stream_maps:
                mapped = stream_map.transform(record)
                if mapped is not None:
                    writer.write_record(stream_map.stream_alias, mapped, extracted_at)
        self.state_manager.is_flushed = False

    @property
    def state_manager(self: t.Any) -> t.Any:
        """Stream.state_manager, its partition look-ups memoized (memoize_context_states)."""
        manager = super().state_manager  # type: ignore[misc]
        if not getattr(manager, "_memoized", False):
            memoize_context_states(manager)
        return manager

    @cached_property
    def everything_selected(self: t.Any) -> bool:
        """True when no field of the schema is deselected."""
        mask = self.mask
        return all(mask[("properties", name)] for name in self.schema["properties"]) and all(
            mask.values()
        )

    @cached_property
    def identity_map(self: t.Any) -> bool:
        """True when the only stream map passes records through unchanged."""
        maps = self.stream_maps
        return (
            len(maps) == 1
            and type(maps[0]) is SameRecordTransform
            and maps[0].stream_alias == self.name
            and not maps[0].flattening_enabled
        )

    def _sync_batches(self: t.Any, batch_config: t.Any, context: t.Any = None) -> None:
        """Replaces Stream._sync_batches, so that a STATE follows every BATCH.

        The SDK writes the state through its StateWriter, which drops a state equal to
        the last one written: a batch that does not move the bookmark would get none,
        and a target could not tell which state covers it.
        """
        with self.get_batch_counter() as counter:
            for encoding, manifest in self.get_batches(batch_config, context):
                counter.increment()
                self._write_batch_message(encoding=encoding, manifest=manifest)
                _ = self.stream_state  # the SDK makes sure the stream has an entry first
                self._tap.message_writer.write_message(StateMessage(value=self.tap_state))
                self.state_manager.is_flushed = True

    def _process_record(
        self: t.Any, record: dict, child_context: t.Any = None, partition_context: t.Any = None
    ) -> None:
        """Replaces Stream._process_record: lead streams have no child streams."""
        if self.child_streams:
            super()._process_record(record, child_context, partition_context)  # type: ignore[misc]

    def _increment_stream_state(self: t.Any, latest_record: dict, *, context: t.Any = None) -> None:
        """Replaces Stream._increment_stream_state for records that cannot raise the bookmark.

        The SDK keeps the greatest value anyway, but its bookkeeping per record costs
        as much as shaping the record. Values are fixed-width UTC strings, so comparing
        them orders them in time.
        """
        walk = self.walk
        value = latest_record.get(self.replication_key) if self.replication_key else None
        if value is not None and (walk.greatest_seen is None or value > walk.greatest_seen):
            walk.greatest_seen = value
            super()._increment_stream_state(latest_record, context=context)  # type: ignore[misc]


def write_schema(stream: Stream) -> None:
    """Stream._write_schema_message, for a stream whose records other streams produce.

    deleted_leads is fed by the lead streams as each account's walk settles, so that
    its records precede the STATE that records the membership; the SDK offers no
    public way for one stream to write another's messages.
    """
    stream._write_schema_message()


def write_record(stream: Stream, record: dict) -> None:
    """Stream._write_record_message (with the stream maps), for the same reason."""
    stream._write_record_message(record)


__all__ = ["PROGRESS_MARKERS", "RunInterrupted", "StreamShortcuts"]
