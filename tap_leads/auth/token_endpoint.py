"""The exchange with an OAuth token endpoint: a refresh token in, new tokens out.

Connection failures and 5xx/429 answers get a few quick tries; a refusal (400/401/403 or
an error in the body) raises TokenRefusedError, worded by the caller, who knows where the
tokens are kept.
"""

from __future__ import annotations

import time
import typing as t
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from tap_leads.auth.token_store import Tokens
from tap_leads.errors import AuthError, ProviderError, TransientError
from tap_leads.values import as_number, is_text

if t.TYPE_CHECKING:
    import requests

#: What OAuth servers assume, and Flextell documents as typical, when expires_in is absent.
DEFAULT_LIFETIME_SECONDS = 3600.0
# Quick tries of the token endpoint when the connection fails or it answers 5xx/429. Few,
# because the page fetcher retries the whole request under its own policy anyway.
_TOKEN_TRIES = 3
_TOKEN_PAUSES = (0.3, 1.0)


class TokenRefusedError(AuthError):
    """The token endpoint refused the refresh: authorising again is the only way on."""


@dataclass(frozen=True)
class TokenEndpoint:
    url: str
    client_id: str
    client_secret: str = field(repr=False)
    timeout: float
    #: The provider, as messages name it, and the settings prefix they name.
    label: str
    setting: str

    def refresh(
        self, refresh_token: str, refused: Callable[[int, Mapping[str, t.Any]], str]
    ) -> Tokens:
        """New tokens for this refresh token; refused words a refusal from status and body."""
        form = {
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": self.client_id,
            "client_secret": self.client_secret,
        }
        import requests  # noqa: PLC0415  (only an OAuth refresh needs it: 0.04 s to import)

        host = urlsplit(self.url).netloc
        failure = ""
        response: requests.Response | None = None
        for attempt in range(_TOKEN_TRIES):
            if attempt:
                time.sleep(_TOKEN_PAUSES[min(attempt - 1, len(_TOKEN_PAUSES) - 1)])
            try:
                response = requests.post(
                    self.url,
                    data=form,
                    headers={"Accept": "application/json"},
                    timeout=self.timeout,
                    allow_redirects=False,
                )
            except requests.ConnectionError as exc:
                # Also a connect timeout: nothing reached the server, so trying again is safe.
                failure = f"the connection to {host} failed ({type(exc).__name__})"
                response = None
                continue
            except requests.RequestException as exc:
                # A read timeout is not retried here: the server may have rotated the token.
                raise TransientError(
                    f"{self.label}: the token endpoint {self.url} did not answer "
                    f"within {self.timeout:g} s ({type(exc).__name__})."
                ) from None
            if response.status_code >= 500 or response.status_code == 429:
                failure = f"HTTP {response.status_code}"
                continue
            break
        if response is None or response.status_code >= 500 or response.status_code == 429:
            raise TransientError(
                f"{self.label}: the token endpoint {self.url} failed {_TOKEN_TRIES} times "
                f"({failure}); the access token could not be refreshed."
            )
        return self._read_grant(response, refresh_token, refused)

    def _read_grant(
        self,
        response: requests.Response,
        spent: str,
        refused: Callable[[int, Mapping[str, t.Any]], str],
    ) -> Tokens:
        status = response.status_code
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            body = {}
        error = body.get("error")
        if status in (400, 401, 403) or (error and status != 200):
            raise TokenRefusedError(refused(status, body))
        access = body.get("access_token")
        if status != 200 or not is_text(access):
            raise ProviderError(
                f"{self.label}: the token endpoint {self.url} answered HTTP {status} "
                f"without an access_token. Check {self.setting}.token_url."
            )
        lifetime = as_number(body.get("expires_in"))
        if lifetime is None or lifetime <= 0:
            lifetime = DEFAULT_LIFETIME_SECONDS
        rotated = body.get("refresh_token")
        return Tokens(
            refresh_token=str(rotated) if is_text(rotated) else spent,
            access_token=str(access),
            expires_at=time.time() + lifetime,
            lifetime=lifetime,
        )
