"""What an answer (or the lack of one) means: the error class, and a message that names
the setting to fix."""

from __future__ import annotations

import threading
import typing as t
from urllib.parse import urlsplit

import orjson
import urllib3

from tap_leads.engine.retry import RETRYABLE_STATUSES, retry_after_seconds
from tap_leads.errors import AuthError, ProviderError, TransientError, error_detail

if t.TYPE_CHECKING:
    from collections.abc import Callable

    from tap_leads.engine.concurrency import AdaptiveWindow
    from tap_leads.engine.endpoint import Auth, Endpoint
    from tap_leads.engine.retry import RetryPolicy
    from tap_leads.engine.transport import Reply

#: Causes that retrying rarely cures get a couple of quick tries, not the full policy.
_QUICK_TRIES = 3
_QUICK_WAIT = 0.5
#: Tries of a refused connection before the provider answered at all in this run.
_REFUSED_TRIES = 2


class ReplyChecker:
    """Classifies one endpoint's answers; a 429 also shrinks the account's window."""

    def __init__(
        self,
        endpoint: Endpoint,
        auth: Auth,
        policy: RetryPolicy,
        window: AdaptiveWindow,
        explain_404: Callable[[str], str | None] | None = None,
        *,
        answered: threading.Event | None = None,
    ) -> None:
        self.endpoint = endpoint
        #: Set once the provider answered in this run.
        self.answered = answered if answered is not None else threading.Event()
        self.auth = auth
        self.policy = policy
        self.window = window
        self._explain_404 = explain_404

    @property
    def label(self) -> str:
        return self.endpoint.label

    def connection_error(self, exc: Exception) -> Exception:
        """The error class and message that fit a request that got no HTTP answer."""
        host = self.endpoint.host
        api_url = f"{self.endpoint.settings}.api_url"
        exceptions = urllib3.exceptions
        # urllib3 2.x makes these subclasses of ConnectTimeoutError: test them first.
        if isinstance(exc, exceptions.NameResolutionError):
            return TransientError(
                f"the host name {urlsplit(self.endpoint.base_url).hostname} does not resolve",
                advice=f"Check {api_url}: the host name, and the network's DNS.",
                max_tries=2,
                retry_after=_QUICK_WAIT,
            )
        if isinstance(exc, exceptions.NewConnectionError) or _refused(exc):
            if not self.answered.is_set():
                # Nothing answered there in this run: most likely a wrong host or port,
                # which backing off for minutes would not cure.
                return TransientError(
                    f"the connection to {host} was refused, and nothing answered there in this run",
                    advice=f"Check {api_url}: the host and port, and that the API is up.",
                    max_tries=_REFUSED_TRIES,
                    retry_after=_QUICK_WAIT,
                )
            return TransientError(
                f"the connection to {host} was refused",
                advice=f"Check {api_url}: the host and port, and that the API is up.",
            )
        if isinstance(exc, exceptions.SSLError):
            return ProviderError(
                f"{self.label}: the TLS handshake with {host} failed ({_short_reason(exc)}). "
                f"Check {api_url}: the scheme and host."
            )
        if isinstance(exc, exceptions.TimeoutError):
            return TransientError(
                f"no answer within request_timeout ({self.endpoint.timeout:g} s)",
                advice="The provider looks unavailable: run the tap later, or raise max_tries.",
            )
        if isinstance(exc, (exceptions.HTTPError, OSError)):
            return TransientError(
                f"the connection to {host} failed ({_short_reason(exc)})",
                advice=f"Check {api_url} and the network.",
            )
        return exc

    def parse(self, reply: Reply, number: int) -> t.Any:
        try:
            body = orjson.loads(reply.body)
        except orjson.JSONDecodeError as exc:
            if reply.body.lstrip()[:1] == b"<":
                raise TransientError(
                    f"page {number} came back as HTML instead of JSON "
                    "(a proxy or maintenance page?)"
                ) from exc
            raise TransientError(
                f"the body of page {number} is not valid JSON "
                f"({len(reply.body)} bytes, probably cut off)"
            ) from exc
        envelope_error = self.endpoint.envelope_error
        said = envelope_error(body) if envelope_error is not None else None
        if said is not None:
            # Almost always a request the API refuses (an unknown user, a bad filter).
            raise TransientError(
                f"{self.label} answered HTTP {reply.status} with {said}",
                advice=f"Check the {self.endpoint.settings} settings: "
                + self._request_settings()
                + ".",
                max_tries=_QUICK_TRIES,
                retry_after=_QUICK_WAIT,
            )
        self.window.succeeded()
        return body

    def check_status(self, reply: Reply) -> None:
        """Raise the error class and message that fit a non-2xx status."""
        status = reply.status
        if status < 400:
            return
        detail = self.error_message(reply.body)
        label, prefix = self.label, self.endpoint.settings
        if status in RETRYABLE_STATUSES:
            if status == 429:
                self.window.throttled()
            hint = retry_after_seconds(reply.headers)
            if hint and hint > self.policy.max_wait_seconds:
                raise ProviderError(
                    f"{label} asked to wait {hint:.0f} s before the next request "
                    f"(HTTP {status}), longer than max_retry_wait "
                    f"({self.policy.max_wait_seconds:g} s). Run the tap later, "
                    "or raise max_retry_wait."
                )
            advice = (
                f"Lower {prefix}.requests_per_second or max_concurrent_requests, "
                "or raise max_tries."
                if status == 429
                else "The provider looks unavailable: run the tap later, or raise max_tries."
            )
            raise TransientError(
                f"HTTP {status}{detail}", status=status, retry_after=hint, advice=advice
            )
        if status in (401, 403):
            advice = getattr(self.auth, "auth_advice", lambda: "")() if status == 401 else ""
            credentials = " and ".join(self.endpoint.credential_settings)
            raise AuthError(
                f"{label} rejected the credentials (HTTP {status}{detail}). "
                + (advice or f"Check {credentials}.")
            )
        if status == 404:
            explained = self._explain_404(detail) if self._explain_404 else None
            raise ProviderError(
                explained
                or f"{label} answered HTTP 404{detail} for {self.endpoint.path}. Check "
                f"{prefix}.api_url: it is the API's base URL, without the endpoint path."
            )
        raise ProviderError(
            f"{label} rejected the request (HTTP {status}{detail}). "
            f"Check the {prefix} settings: {self._request_settings()}."
        )

    def _request_settings(self) -> str:
        prefix = self.endpoint.settings
        return ", ".join(f"{prefix}.{name}" for name in self.endpoint.request_settings)

    @staticmethod
    def error_message(body: bytes) -> str:
        """': <provider message>' from any of the five error body shapes, or ''."""
        try:
            detail = error_detail(orjson.loads(body))
        except orjson.JSONDecodeError:
            detail = None
        return f": {detail[:300]}" if detail else ""

    def give_up_message(
        self, exc: TransientError, number: int, tries: int, what: str | None = None
    ) -> str:
        if what is None:
            head = f"{self.label} still failed on page {number} after {tries} tries"
        else:
            head = f"{self.label} still failed on {what} after {tries} tries"
        return f"{head}: {exc}. " + (exc.advice or "Run the tap later, or raise max_tries.")


def _refused(exc: Exception) -> bool:
    return isinstance(exc, ConnectionRefusedError) or "Connection refused" in str(exc)


def _short_reason(exc: Exception) -> str:
    text = str(exc)
    for marker in ("Connection refused", "Connection reset", "IncompleteRead", "timed out"):
        if marker in text:
            return marker
    return type(exc).__name__
