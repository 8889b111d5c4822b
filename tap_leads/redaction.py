"""Keep configured secrets out of every log line, whichever library writes it."""

from __future__ import annotations

import logging

MASK = "****"


class RedactingFormatter(logging.Formatter):
    """Wraps a handler's formatter and masks secrets in the finished line, traceback included."""

    def __init__(self, inner: logging.Formatter | None, secrets: list[str]) -> None:
        super().__init__()
        self.inner = inner or logging.Formatter()
        # Longest first, so that a secret containing another is masked whole.
        self.secrets = sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)

    def format(self, record: logging.LogRecord) -> str:
        return redact(self.inner.format(record), self.secrets)


def redact(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


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
                current.secrets = sorted({*current.secrets, *secrets}, key=len, reverse=True)
                continue
            handler.setFormatter(RedactingFormatter(current, secrets))
