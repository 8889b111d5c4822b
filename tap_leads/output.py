"""Singer message output: msgspec encoding into one buffer, written out in large chunks."""

from __future__ import annotations

import os
import sys
import typing as t

from singer_sdk.contrib.msgspec import MsgSpecWriter, encoder
from singer_sdk.singerlib import RecordMessage, StateMessage

if t.TYPE_CHECKING:
    from collections.abc import Callable

    from singer_sdk.singerlib.encoding.simple import Message

_CHUNK = 256 * 1024


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
    """

    def __init__(self) -> None:
        super().__init__()
        self._buffer = bytearray()
        #: True while bytes go out, so that a signal never leaves half a line behind.
        self.writing = False
        self._pending_interrupt: Callable[[], BaseException] | None = None
        self.closed = False
        #: Whether the latest message written was a STATE.
        self.ended_on_state = False

    def write_message(self, message: Message) -> None:
        buffer = self._buffer
        encoder.encode_into(message.to_dict(), buffer, -1)
        buffer.extend(b"\n")
        self.ended_on_state = isinstance(message, StateMessage)
        if not isinstance(message, RecordMessage) or len(buffer) >= _CHUNK:
            self.flush(force=not isinstance(message, RecordMessage))

    def write_record(self, stream: str, record: dict, time_extracted: str) -> None:
        """A RECORD message without building the SDK's message object first."""
        buffer = self._buffer
        message = {"type": "RECORD", "stream": stream, "record": record}
        message["time_extracted"] = time_extracted
        encoder.encode_into(message, buffer, -1)
        buffer.extend(b"\n")
        self.ended_on_state = False
        if len(buffer) >= _CHUNK:
            self.flush(force=False)

    def flush(self, *, force: bool = True) -> None:
        """Write the buffer out; raises OutputClosed once the reader is gone."""
        if self.closed:
            raise OutputClosed
        self.writing = True
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
            self.writing = False
        if self._pending_interrupt is not None:
            interrupt, self._pending_interrupt = self._pending_interrupt, None
            raise interrupt()

    def interrupt_after_write(self, make: Callable[[], BaseException]) -> None:
        """Raise `make()` as soon as the write under way has finished."""
        self._pending_interrupt = make

    def drop_partial_line(self) -> None:
        """Forget a message whose encoding an interruption cut short."""
        end = self._buffer.rfind(b"\n") + 1
        del self._buffer[end:]

    def _close(self) -> None:
        """Point stdout at /dev/null, so that exiting does not hit the broken pipe again."""
        self.closed = True
        self._buffer.clear()
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)
        except (OSError, ValueError):
            pass
