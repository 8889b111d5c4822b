"""Singer message output: msgspec encoding, flushed per STATE rather than per message."""

from __future__ import annotations

import sys
import typing as t

from singer_sdk.contrib.msgspec import MsgSpecWriter
from singer_sdk.singerlib import StateMessage

if t.TYPE_CHECKING:
    from singer_sdk.singerlib.encoding.simple import Message


class BufferedMsgSpecWriter(MsgSpecWriter):
    """Writes through Python's stdout buffer and flushes only after a STATE message.

    A flush per RECORD costs a system call per lead. Flushing at each STATE keeps the
    guarantee that matters: a target never sees a STATE before the records it covers.
    """

    def write_message(self, message: Message) -> None:
        sys.stdout.buffer.write(self.format_message(message))
        if isinstance(message, StateMessage):
            sys.stdout.flush()
