"""Flextell's OAuth access tokens, refreshed at request time and shared by every request.

Flextell offers only the authorization-code flow, so a headless tap lives on a refresh
token obtained once, outside the tap. Flextell may rotate it on every refresh: the old
one is then dead, and losing the new one would mean authorising again by hand. The
tokens therefore live in a token store (token_store.py), written before a rotated token
is used; providers/flextell.py builds the credentials from the settings.
"""

from __future__ import annotations

import threading
import time
import typing as t
from collections.abc import Callable, Mapping
from urllib.parse import urlsplit

import requests

from tap_leads.auth.token_store import DEFAULT_KEY, Tokens, TokenStore, TokenStoreError
from tap_leads.errors import AuthError, ProviderError, TransientError
from tap_leads.redaction import redact
from tap_leads.values import as_number, is_text

#: Refresh this long before the access token expires ...
DEFAULT_MARGIN_SECONDS = 60.0
#: ... or within the last quarter of its lifetime, for tokens that live only minutes.
_MARGIN_SHARE = 0.25
#: What OAuth servers assume, and Flextell documents as typical, when expires_in is absent.
DEFAULT_LIFETIME_SECONDS = 3600.0
# Quick tries of the token endpoint when the connection fails or it answers 5xx/429. Few,
# because the page fetcher retries the whole request under its own policy anyway.
_TOKEN_TRIES = 3
_TOKEN_PAUSES = (0.3, 1.0)
# A 401 for the token that a refresh after a 401 produced, this soon after it, ends the run:
# a third token would be refused as well. Later, the token may have been revoked meanwhile.
_RECENT_REFRESH_SECONDS = 60.0


class TokenRefusedError(AuthError):
    """The token endpoint refused the refresh: authorising again is the only way on."""


class FlextellOAuth:
    """Bearer access tokens that refresh themselves through Flextell's token endpoint.

    Thread-safe and single-flight: however many threads find the token expired, one
    refresh is made, and a 401 for headers already replaced only asks for a retry. Across
    processes the store's lock does the same: whoever gets it second finds the newer tokens
    in the store and uses them instead of spending the refresh token again.
    """

    def __init__(
        self,
        *,
        token_url: str,
        client_id: str,
        client_secret: str,
        refresh_token: str | None,
        access_token: str | None,
        store: TokenStore,
        key: str = DEFAULT_KEY,
        margin_seconds: float = DEFAULT_MARGIN_SECONDS,
        timeout: float,
        label: str = "Flextell",
        setting: str = "flextell",
        extra_headers: Mapping[str, str] | None = None,
        on_new_secret: Callable[[str], None] | None = None,
    ) -> None:
        self.token_url = token_url
        self.client_id = client_id
        self._client_secret = client_secret
        self._config_refresh_token = refresh_token or None
        self._config_access_token = access_token or None
        self.store = store
        self.key = key
        self.margin_seconds = margin_seconds
        self.timeout = timeout
        self.label = label
        self.setting = setting
        self.extra_headers = dict(extra_headers or {})
        self.on_new_secret = on_new_secret
        self._lock = threading.Lock()
        self._tokens: Tokens | None = None
        self._headers: Mapping[str, str] = {}
        # The access token that a refresh after a 401 produced: a 401 for it ends the run.
        self._refreshed_after_401: str | None = None
        self._refreshed_after_401_at = 0.0
        self._known_secrets: list[str] = [s for s in (client_secret, refresh_token) if s]

    def __repr__(self) -> str:
        return (
            f"FlextellOAuth(setting={self.setting!r}, key={self.key!r}, "
            f"token_url={self.token_url!r}, store={str(self.store.path)!r})"
        )

    # Auth

    def headers(self) -> Mapping[str, str]:
        tokens = self._tokens
        if tokens is not None and not self._due(tokens):
            return self._headers
        with self._lock:
            current = self._current()
            if self._due(current):
                self._renew(stale=current.access_token)
            return self._headers

    def after_unauthorized(self, sent: Mapping[str, str]) -> bool:
        token = _bearer(sent)
        with self._lock:
            current = self._current()
            if token is None or token != current.access_token:
                # Headers from before a refresh that has already happened: retry with the new.
                return True
            if (
                token == self._refreshed_after_401
                and time.monotonic() - self._refreshed_after_401_at < _RECENT_REFRESH_SECONDS
                and not self._due(current)
            ):
                return False
            self._renew(stale=token)
            self._refreshed_after_401 = self._current().access_token
            self._refreshed_after_401_at = time.monotonic()
            return True

    def auth_advice(self) -> str:
        """The message for a 401 that a refresh did not cure."""
        s = self.setting
        return (
            f"{self.label} rejected a freshly refreshed access token. Check {s}.client_id, "
            f"{s}.client_secret and {s}.refresh_token (they must belong to one OAuth client), "
            f"and that the user who authorised the tap may read the tenant in {s}.tenant_id."
        )

    def secret_values(self) -> list[str]:
        """Every token and secret known so far, for the log redaction."""
        return list(self._known_secrets)

    # Internals; the caller holds self._lock.

    def _current(self) -> Tokens:
        if self._tokens is None:
            stored = self.store.read(self.key)
            if stored is not None:
                self._use(stored)
            elif self._config_refresh_token is not None:
                self._use(Tokens(self._config_refresh_token, self._config_access_token))
            else:
                raise TokenRefusedError(self._no_refresh_token_message())
        assert self._tokens is not None
        return self._tokens

    def _due(self, tokens: Tokens) -> bool:
        if tokens.access_token is None:
            return True
        if tokens.expires_at is None:
            return False
        margin = self.margin_seconds
        if tokens.lifetime:
            margin = min(margin, tokens.lifetime * _MARGIN_SHARE)
        return time.time() >= tokens.expires_at - margin

    def _renew(self, stale: str | None) -> None:
        with self.store.locked():
            stored = self.store.read(self.key)
            if (
                stored is not None
                and stored.access_token is not None
                and stored.access_token != stale
                and not self._due(stored)
            ):
                # Another run or process refreshed while this one waited for the lock.
                self._use(stored)
                return
            current = stored or self._current()
            try:
                fresh = self._refresh(current.refresh_token)
            except TokenRefusedError:
                # A refresh token set after authorising again, not yet in the store.
                config_token = self._config_refresh_token
                if config_token is None or config_token == current.refresh_token:
                    raise
                fresh = self._refresh(config_token)
            # Durable before use: if the run dies now, the next one finds the new token.
            try:
                self.store.write(self.key, fresh)
            except TokenStoreError as exc:
                raise TokenStoreError(
                    f"{exc} Flextell has already replaced the refresh token, and the new one "
                    "could not be kept: once the store is fixed, authorise the tap again and "
                    f"set {self.setting}.refresh_token."
                ) from None
            self._use(fresh)

    def _use(self, tokens: Tokens) -> None:
        for value in tokens.secrets():
            if value not in self._known_secrets:
                self._known_secrets.append(value)
                if self.on_new_secret is not None:
                    self.on_new_secret(value)
        self._tokens = tokens
        headers = dict(self.extra_headers)
        if tokens.access_token is not None:
            headers["Authorization"] = f"Bearer {tokens.access_token}"
        self._headers = headers

    def _refresh(self, refresh_token: str) -> Tokens:
        form = {
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": self.client_id,
            "client_secret": self._client_secret,
        }
        host = urlsplit(self.token_url).netloc
        failure = ""
        response: requests.Response | None = None
        for attempt in range(_TOKEN_TRIES):
            if attempt:
                time.sleep(_TOKEN_PAUSES[min(attempt - 1, len(_TOKEN_PAUSES) - 1)])
            try:
                response = requests.post(
                    self.token_url,
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
                    f"{self.label}: the token endpoint {self.token_url} did not answer "
                    f"within {self.timeout:g} s ({type(exc).__name__})."
                ) from None
            if response.status_code >= 500 or response.status_code == 429:
                failure = f"HTTP {response.status_code}"
                continue
            break
        if response is None or response.status_code >= 500 or response.status_code == 429:
            raise TransientError(
                f"{self.label}: the token endpoint {self.token_url} failed {_TOKEN_TRIES} times "
                f"({failure}); the access token could not be refreshed."
            )
        return self._read_grant(response, refresh_token)

    def _read_grant(self, response: requests.Response, spent: str) -> Tokens:
        status = response.status_code
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            body = {}
        error = body.get("error")
        if status in (400, 401, 403) or (error and status != 200):
            raise TokenRefusedError(self._refused_message(status, body))
        access = body.get("access_token")
        if status != 200 or not is_text(access):
            raise ProviderError(
                f"{self.label}: the token endpoint {self.token_url} answered HTTP {status} "
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

    def _refused_message(self, status: int, body: Mapping[str, t.Any]) -> str:
        s = self.setting
        error = str(body.get("error") or f"HTTP {status}")
        described = body.get("error_description") or body.get("message")
        detail = error
        if is_text(described):
            detail = f"{error}: {described}"
        detail = redact(detail, sorted(self._known_secrets, key=len, reverse=True))
        if error == "invalid_client":
            return (
                f"{self.label} refused the OAuth client ({detail}). Check {s}.client_id and "
                f"{s}.client_secret: they must be those of the client that the refresh token "
                "was issued to."
            )
        return (
            f"{self.label} refused the refresh token ({detail}). It has been used already or "
            "was revoked: each refresh returns a new refresh token and the old one stops "
            "working. Authorise the tap again with the one-time authorization-code step, set "
            f"{s}.refresh_token to the new refresh token, and delete the {self.key!r} entry "
            f"of {s}.token_store ({self.store.path}) or the whole file if it holds no other "
            "entry."
        )

    def _no_refresh_token_message(self) -> str:
        s = self.setting
        return (
            f"{self.label}: no refresh token: {s}.token_store ({self.store.path}) has no "
            f"{self.key!r} entry and {s}.refresh_token is not set. Authorise the tap with the "
            f"one-time authorization-code step and set {s}.refresh_token."
        )


def _bearer(headers: Mapping[str, str]) -> str | None:
    for name, value in headers.items():
        if name.lower() == "authorization":
            scheme, _, token = str(value).partition(" ")
            return token.strip() if scheme.lower() == "bearer" and token.strip() else None
    return None
