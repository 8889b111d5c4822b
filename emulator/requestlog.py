"""The log of every request the emulator read, with the account whose credential it carried."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RecordedRequest:
    provider: str | None  # None for paths outside every provider's prefix
    method: str
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]  # lower-case names
    time: float  # time.monotonic() when the request was read
    status: int  # 0 when the connection was dropped without an answer
    account: str | None = None  # whose credential was accepted; None when none was
    answered: float | None = None  # time.monotonic() when the answer was ready to send
    remaining: int | None = None  # the X-RateLimit-Remaining the answer announced
    reset: int | None = None  # the X-RateLimit-Reset (Unix time) the answer announced

    def as_json(self) -> dict[str, Any]:
        return {**self.__dict__, "query": [list(pair) for pair in self.query]}


def announced(headers: list[tuple[str, str]]) -> tuple[int | None, int | None]:
    """(X-RateLimit-Remaining, X-RateLimit-Reset) as an answer's headers give them."""
    remaining = reset = None
    for name, value in headers:
        lowered = name.lower()
        if lowered == "x-ratelimit-remaining":
            remaining = int(value)
        elif lowered == "x-ratelimit-reset":
            reset = int(value)
    return remaining, reset


class RequestLog:
    def __init__(self) -> None:
        self._records: list[RecordedRequest] = []
        self._lock = threading.Lock()

    def append(self, record: RecordedRequest) -> None:
        with self._lock:
            self._records.append(record)

    def all(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._records)

    def clear(self) -> None:
        with self._lock:
            self._records.clear()

    def of(self, provider: str | None = None, account: str | None = None) -> list[RecordedRequest]:
        """The logged requests of this provider and account (None: any)."""
        return [
            record
            for record in self.all()
            if (provider is None or record.provider == provider)
            and (account is None or record.account == account)
        ]
