"""Keep configured secrets out of every log line, whichever library writes it.

With thousands of accounts there are thousands of secrets: looking for each one in every
line would cost a run time in proportion to accounts times lines. Secrets are indexed by
their first four characters instead, so a line costs the same whatever their number: its
four-character windows are looked up at once, and only the secrets that start there are
looked for.
"""

from __future__ import annotations

import itertools
import logging
import operator
import typing as t

MASK = "****"
#: The shortest secret masked; also the width of the index's keys.
_SHORTEST = 4


class Secrets:
    """Secrets to mask, indexed by their first characters; longest first where one
    contains another, so that it is masked whole."""

    def __init__(self, secrets: t.Iterable[str]) -> None:
        self.values = sorted({s for s in secrets if len(s) >= _SHORTEST}, key=len, reverse=True)
        self._starting: dict[str, list[str]] = {}
        for secret in self.values:
            self._starting.setdefault(secret[:_SHORTEST], []).append(secret)

    def __len__(self) -> int:
        return len(self.values)

    def redact(self, text: str) -> str:
        if len(text) < _SHORTEST or not self._starting:
            return text
        ends = range(_SHORTEST, len(text) + 1)
        # Every four-character window of the text, in C: text[i:i + 4] for each i.
        windows = set(
            map(
                operator.getitem,
                itertools.repeat(text),
                map(slice, range(len(text) - _SHORTEST + 1), ends),
            )
        )
        found = windows.intersection(self._starting)
        if not found:
            return text
        candidates = sorted(
            itertools.chain.from_iterable(map(self._starting.__getitem__, found)),
            key=len,
            reverse=True,
        )
        for secret in candidates:
            if secret in text:
                text = text.replace(secret, MASK)
        return text


class RedactingFormatter(logging.Formatter):
    """Wraps a handler's formatter and masks secrets in the finished line, traceback included."""

    def __init__(self, inner: logging.Formatter | None, secrets: t.Iterable[str]) -> None:
        super().__init__()
        self.inner = inner or logging.Formatter()
        self.secrets = Secrets(secrets)

    def format(self, record: logging.LogRecord) -> str:
        return self.secrets.redact(self.inner.format(record))


def redact(text: str, secrets: t.Iterable[str]) -> str:
    """The text with each of these secrets masked."""
    return Secrets(secrets).redact(text)


def install(secrets: list[str], loggers: list[logging.Logger]) -> None:
    """Mask the secrets on every handler of these loggers and of the root logger."""
    if not secrets:
        return
    seen: set[int] = set()
    for logger in [logging.getLogger(), *loggers]:
        for handler in logger.handlers:
            if id(handler) in seen:
                continue
            seen.add(id(handler))
            current = handler.formatter
            if isinstance(current, RedactingFormatter):
                current.secrets = Secrets([*current.secrets.values, *secrets])
                continue
            handler.setFormatter(RedactingFormatter(current, secrets))
