"""The stream deleted_leads: leads that left their account's list, each reported once.

Its records come from the lead streams: each account's walk, once it settled, reports
the leads that left, before the STATE that records the account's new membership.
"""

from __future__ import annotations

import typing as t

from singer_sdk.streams.core import Stream

from tap_leads import sdk_hooks
from tap_leads.schemas import DELETED_STREAM, load_schema

if t.TYPE_CHECKING:
    from collections.abc import Iterable

    from singer_sdk.helpers.types import Context
    from singer_sdk.tap_base import Tap


class DeletedLeadsStream(Stream):
    """stream, account, id and deleted_at of every lead found gone."""

    name = DELETED_STREAM
    primary_keys: t.ClassVar[list[str]] = ["stream", "account", "id"]
    replication_key = "deleted_at"
    is_sorted = False

    def __init__(self, tap: Tap) -> None:
        super().__init__(tap=tap, schema=load_schema(DELETED_STREAM))
        self.enabled: bool = tap.run_settings.detect_deletes  # type: ignore[attr-defined]
        self._announced = False

    def announce(self) -> None:
        """Write the stream's SCHEMA once, before its first record."""
        if self.enabled and self.selected and not self._announced:
            self._announced = True
            sdk_hooks.write_schema(self)

    def report(self, stream: str, account: str, departed: Iterable[tuple[str, str]]) -> None:
        if not (self.enabled and self.selected):
            return
        self.announce()
        for key, deleted_at in departed:
            sdk_hooks.write_record(
                self, {"stream": stream, "account": account, "id": key, "deleted_at": deleted_at}
            )

    def sync(self, context: Context | None = None) -> None:
        """Nothing of its own to read: the lead streams report into it as they go."""
        self.announce()

    def finalize_state_progress_markers(self, state: dict | None = None) -> None:
        """It keeps no state: each account's membership lives with its lead stream."""

    def get_records(self, context: Context | None) -> Iterable[dict[str, t.Any]]:
        return ()
