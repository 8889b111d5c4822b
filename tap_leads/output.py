"""Singer message output: msgspec encoding into one buffer, flushed per STATE."""

from __future__ import annotations

import atexit
import sys
import typing as t

from singer_sdk.contrib.msgspec import MsgSpecWriter, encoder
from singer_sdk.singerlib import RecordMessage

if t.TYPE_CHECKING:
    from singer_sdk.singerlib.encoding.simple import Message

_CHUNK = 256 * 1024


class BufferedMsgSpecWriter(MsgSpecWriter):
    """Encodes messages straight into one buffer and writes it in large chunks.

    The SDK's writers flush after every message, a system call per lead. Here RECORD
    messages accumulate and everything else (SCHEMA, STATE, ...) writes the buffer out
    and flushes, so a target never sees a STATE before the records it covers.
    """

    def __init__(self) -> None:
        super().__init__()
        self._buffer = bytearray()
        atexit.register(self.flush)

    def write_message(self, message: Message) -> None:
        buffer = self._buffer
        encoder.encode_into(message.to_dict(), buffer, -1)
        buffer.extend(b"\n")
        if not isinstance(message, RecordMessage) or len(buffer) >= _CHUNK:
            self.flush(force=not isinstance(message, RecordMessage))

    def write_record(self, stream: str, record: dict, time_extracted: str) -> None:
        """A RECORD message without building the SDK's message object first."""
        buffer = self._buffer
        message = {"type": "RECORD", "stream": stream, "record": record}
        message["time_extracted"] = time_extracted
        encoder.encode_into(message, buffer, -1)
        buffer.extend(b"\n")
        if len(buffer) >= _CHUNK:
            self.flush(force=False)

    def flush(self, *, force: bool = True) -> None:
        try:
            if self._buffer:
                sys.stdout.buffer.write(self._buffer)
                self._buffer.clear()
            if force:
                sys.stdout.flush()
        except (BrokenPipeError, ValueError):
            # The reader went away (or stdout is closed); nothing is left to write to.
            self._buffer.clear()
