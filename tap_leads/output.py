"""Singer message output: msgspec encoding into one buffer, written out in large chunks."""

from __future__ import annotations

import os
import signal
import sys
import threading
import typing as t

from singer_sdk.contrib.msgspec import MsgSpecWriter, encoder
from singer_sdk.singerlib import RecordMessage, StateMessage

if t.TYPE_CHECKING:
    from singer_sdk.singerlib.encoding.simple import Message

_CHUNK = 256 * 1024
#: Records queued at most before they are encoded (a page is usually fewer).
_QUEUE = 1000


class OutputClosed(Exception):
    """The reader of stdout went away: nothing the tap reads can arrive anywhere."""

    def __str__(self) -> str:
        return (
            "the output closed: the target (or whatever reads the tap's stdout) stopped "
            "reading, so the run stopped. Check the target's own log for why."
        )


class BufferedMsgSpecWriter(MsgSpecWriter):
    """Encodes messages straight into one buffer and writes it in large chunks.

    The SDK's writers flush after every message, a system call per lead. Here RECORD
    messages accumulate and everything else (SCHEMA, STATE, ...) writes the buffer out
    and flushes, so a target never sees a STATE before the records it covers.

    A page's RECORD lines are encoded in one pass: records of one stream and one
    extraction time are queued, then their JSON is encoded with one call and each line
    framed by the message's fixed head and tail. The queue is encoded before any other
    message and at every flush, so the order of the messages never changes.
    """

    def __init__(self) -> None:
        super().__init__()
        self._buffer = bytearray()
        self.closed = False
        #: Whether the latest message written was a STATE.
        self.ended_on_state = False
        self._queue: list[dict] = []
        self._queued_stream: str | None = None
        self._queued_time: str | None = None

    def write_message(self, message: Message) -> None:
        self._encode_queue()
        self._append(message.to_dict())
        self.ended_on_state = isinstance(message, StateMessage)
        if not isinstance(message, RecordMessage) or len(self._buffer) >= _CHUNK:
            self.flush(force=not isinstance(message, RecordMessage))

    def write_record(self, stream: str, record: dict, time_extracted: str) -> None:
        """A RECORD message, queued until its page's lines are encoded in one pass."""
        if stream is not self._queued_stream or time_extracted is not self._queued_time:
            self._encode_queue()
            self._queued_stream, self._queued_time = stream, time_extracted
        queue = self._queue
        queue.append(record)
        self.ended_on_state = False
        if len(queue) >= _QUEUE:
            self._encode_queue()
            if len(self._buffer) >= _CHUNK:
                self.flush(force=False)

    def write_records(self, stream: str, records: list[dict], time_extracted: str) -> None:
        """A page's RECORD messages, encoded in one pass (the list is not kept)."""
        if not records:
            return
        self._encode_queue()
        self._queue, self._queued_stream, self._queued_time = records, stream, time_extracted
        self._encode_queue()
        self.ended_on_state = False
        if len(self._buffer) >= _CHUNK:
            self.flush(force=False)

    def _encode_queue(self) -> None:
        """Every queued record as a RECORD line: one encoding call for the lot."""
        if not self._queue:
            return
        # A stop signal waits: the queue is written whole or not at all, and only once.
        held = _hold_stop_signals()
        try:
            queue, self._queue = self._queue, []
            head = b'{"type":"RECORD","stream":%b,"record":' % encoder.encode(self._queued_stream)
            tail = b',"time_extracted":%b}\n' % encoder.encode(self._queued_time)
            # Encoded JSON holds no raw newline: each one ends a record, which the
            # message's tail ends and the next message's head follows.
            lines = encoder.encode_lines(queue).replace(b"\n", tail + head)
            buffer = self._buffer
            buffer += head
            buffer += lines
            del buffer[len(buffer) - len(head) :]  # no message follows the last
        finally:
            _release_stop_signals(held)

    def _append(self, message: dict) -> None:
        buffer = self._buffer
        mark = len(buffer)
        try:
            encoder.encode_into(message, buffer, -1)
            buffer.extend(b"\n")
        except BaseException:
            # An interruption (SIGTERM) must not leave half a message behind.
            del buffer[mark:]
            raise

    def flush(self, *, force: bool = True) -> None:
        """Write the buffer out; raises OutputClosed once the reader is gone.

        SIGTERM and SIGINT wait while bytes go out, so that stdout always ends on a
        whole line however the run is stopped.
        """
        if self.closed:
            raise OutputClosed
        self._encode_queue()
        held = _hold_stop_signals()
        try:
            if self._buffer:
                sys.stdout.buffer.write(self._buffer)
                self._buffer.clear()
            if force:
                sys.stdout.flush()
        except (BrokenPipeError, ValueError) as exc:
            self._close()
            raise OutputClosed from exc
        finally:
            _release_stop_signals(held)

    def _close(self) -> None:
        """Point stdout at /dev/null, so that exiting does not hit the broken pipe again."""
        self.closed = True
        self._buffer.clear()
        self._queue.clear()
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)
        except (OSError, ValueError):
            pass


_STOP_SIGNALS = {signal.SIGTERM, signal.SIGINT}


def _hold_stop_signals() -> set[signal.Signals] | None:
    if (
        not hasattr(signal, "pthread_sigmask")
        or threading.current_thread() is not threading.main_thread()
    ):
        return None
    return signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)


def _release_stop_signals(held: set[signal.Signals] | None) -> None:
    if held is not None:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)


class StatePacer:
    """Which lead streams' ends write a STATE, when every STATE holds every account's membership.

    A STATE at each of N streams' ends would write the whole state N+1 times in a run
    (the SDK first repeats the input state). Writing only at the end of the stream that
    completes the first half of the run and at the last one keeps every STATE of a run
    together within about 3x the final one; a run that stops still ends on a final STATE.
    """

    def __init__(self, names: list[str]) -> None:
        n = len(names)
        self._writes = {
            name for i, name in enumerate(names) if i == n - 1 or (i + 1) * 2 // n > i * 2 // n
        }

    def allows(self, name: str) -> bool:
        """Whether the end of this stream writes a STATE."""
        return name in self._writes
