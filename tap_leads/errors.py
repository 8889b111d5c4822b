"""Failure classes, each with a message that names the provider and what to fix."""

from __future__ import annotations

import typing as t

from singer_sdk.exceptions import FatalAPIError, RetriableAPIError


class TapLeadsError(Exception):
    """A failure whose message is written for the person running the tap."""


class ProviderError(TapLeadsError, FatalAPIError):
    """The provider refused the request or sent something unusable; retrying cannot help."""


class AuthError(ProviderError):
    """401/403: the credentials are wrong or lack access."""


class PaginationError(ProviderError):
    """The pages do not add up: a loop, a foreign next URL, or more pages than reported."""


class TransientError(TapLeadsError, RetriableAPIError):
    """A failure worth retrying: throttling, a server error, a timeout, a broken body."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
        advice: str | None = None,
        max_tries: int | None = None,
        response: t.Any = None,
    ) -> None:
        super().__init__(message, response)
        self.status = status
        self.retry_after = retry_after
        #: What to do when retries run out, naming the setting to check.
        self.advice = advice
        #: Fewer tries than the policy allows, for causes that retrying rarely cures.
        self.max_tries = max_tries


class GaveUpError(ProviderError):
    """Retries ran out."""


def error_detail(body: object) -> str | None:
    """Pull the human message out of any of the providers' five error body shapes.

    Teli `{"error", "success", "powered_by"}`, Nexus ERP `{"error"}`, Flextell
    `{"error", "message"}`, DRF `{"detail"}` and Laravel `{"message", "errors"}`.
    """
    if not isinstance(body, dict):
        return None
    parts = [
        str(body[key])
        for key in ("error", "message", "detail")
        if isinstance(body.get(key), (str, int, float)) and str(body[key]).strip()
    ]
    errors = body.get("errors")
    if isinstance(errors, dict):
        for field, problems in errors.items():
            listed = problems if isinstance(problems, list) else [problems]
            parts.extend(f"{field}: {problem}" for problem in listed)
    return ": ".join(dict.fromkeys(parts)) or None
