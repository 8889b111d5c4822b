"""The request and response values passed between the HTTP layer and the provider handlers."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any
from urllib.parse import parse_qsl

import orjson


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    raw_query: str
    headers: dict[str, str]

    @cached_property
    def query(self) -> list[tuple[str, str]]:
        return parse_qsl(self.raw_query, keep_blank_values=True)

    @cached_property
    def _last_values(self) -> dict[str, str]:
        # A repeated parameter takes its last value, as PHP, Django and Express all do.
        return dict(self.query)

    def param(self, name: str) -> str | None:
        return self._last_values.get(name)

    @property
    def origin(self) -> str:
        # Absolute links are built from the Host the client used, as the real frameworks do.
        return "http://" + self.headers.get("host", "127.0.0.1")


@dataclass(slots=True)
class Response:
    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    content_type: str = "application/json"
    # Bytes of the body actually sent before the connection is closed; None sends it whole.
    cut_at: int | None = None
    # Close the connection without answering at all.
    drop: bool = False


def json_response(
    status: int, payload: Any, headers: list[tuple[str, str]] | None = None
) -> Response:
    return Response(status, orjson.dumps(payload), headers or [])
