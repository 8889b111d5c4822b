"""Stream._sync_records a page at a time, where its per-record work does nothing a lead
stream needs.

The SDK's loop calls, for every record, the record limit check, post_process,
_process_record (child streams), _write_record_message (selection, stream maps, a
message object), _increment_stream_state, the STATE frequency check and the record
counter, and the record passes through two generators. With everything selected, the
identity stream map, no stream version, no child streams, post_process not overridden,
this tap's writer and RECORD messages (not BATCH), none of that changes a record: here a
page's records are written in one call, the greatest value is raised once per page and
the page is counted at once. The limit, the STATE frequency, partition finalisation and
the final STATE behave as in the SDK's loop, which tests/unit/test_sdk_hooks.py pins.
Anything else takes the SDK's loop, unchanged.
"""

from __future__ import annotations

import typing as t

from singer_sdk.streams.core import Stream

from tap_leads.output import BufferedMsgSpecWriter

if t.TYPE_CHECKING:
    from singer_sdk.metrics import Counter


def applies(stream: t.Any, *, write_messages: bool) -> bool:
    """Whether the page path writes exactly what the SDK's per-record loop would."""
    return (
        write_messages  # False: BATCH, which collects the records themselves
        and hasattr(stream, "get_record_pages")
        and stream.selected
        and not stream.child_streams
        and type(stream).post_process is Stream.post_process
        and stream._stream_version is None
        and isinstance(stream._tap.message_writer, BufferedMsgSpecWriter)
        and stream.everything_selected
        and stream.identity_map
    )


def sync_pages(stream: t.Any, context: t.Any) -> None:
    """Stream._sync_records (write_messages=True), a page at a time."""
    counter = stream.get_record_counter()
    timer = stream.get_sync_timer()
    index = 0
    contexts = [context] if context is not None else stream.partitions
    with counter, timer:
        for element in contexts or [{}]:
            counter.with_context(element)
            timer.with_context(element)
            current = element or None
            partition = stream._get_state_partition_context(current)
            stream._write_starting_replication_value(current)
            for rows in stream.get_record_pages(current):
                index = _write_page(stream, rows, current, index, counter)
            if current == partition:
                stream._finalize_state(stream.get_context_state(current))
    if not context:
        stream._finalize_state(stream.stream_state)
    stream._write_state_message()


def _write_page(
    stream: t.Any, rows: list[dict], context: t.Any, index: int, counter: Counter
) -> int:
    """One page's records, split where the SDK would write a STATE or stop at the limit.

    Returns the index of the next record over the run of the stream, as the SDK counts.
    """
    limit = stream.ABORT_AT_RECORD_COUNT
    every = stream.STATE_MSG_FREQUENCY
    writer = stream._tap.message_writer
    walk = stream.walk
    extracted_at = walk.extracted_at if walk is not None else ""
    start, count = 0, len(rows)
    while start < count:
        if limit is not None:
            # Raises once `index` records were written, as the SDK does on the next one.
            stream._check_max_record_limit(current_record_index=index)
        end = min(count, start + every - index % every)
        if limit is not None:
            end = min(end, start + limit - index)
        chunk = rows if start == 0 and end == count else rows[start:end]
        writer.write_records(stream.name, chunk, extracted_at)
        stream.state_manager.is_flushed = False
        _raise_greatest(stream, chunk, context)
        index += len(chunk)
        if index % every == 0:
            stream._write_state_message()
        counter.increment(len(chunk))
        start = end
    return index


def _raise_greatest(stream: t.Any, chunk: list[dict], context: t.Any) -> None:
    """_increment_stream_state with the chunk's record of the greatest value, once."""
    key = stream.replication_key
    if not key:
        return
    values = [row.get(key) for row in chunk]
    greatest = max((value for value in values if value is not None), default=None)
    if greatest is not None:
        stream._increment_stream_state(chunk[values.index(greatest)], context=context)
