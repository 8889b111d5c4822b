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

from tap_leads.auth.token_endpoint import TokenEndpoint, TokenRefusedError
from tap_leads.auth.token_store import DEFAULT_KEY, Tokens, TokenStore, TokenStoreError
from tap_leads.redaction import redact
from tap_leads.values import is_text

#: Refresh this long before the access token expires ...
DEFAULT_MARGIN_SECONDS = 60.0
#: ... or within the last quarter of its lifetime, for tokens that live only minutes.
_MARGIN_SHARE = 0.25
# A 401 for the token that a refresh after a 401 produced, this soon after it, ends the run:
# a third token would be refused as well. Later, the token may have been revoked meanwhile.
_RECENT_REFRESH_SECONDS = 60.0


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
        label: str,
        setting: str = "flextell",
        extra_headers: Mapping[str, str] | None = None,
        on_new_secret: Callable[[str], None] | None = None,
    ) -> None:
        self.token_url = token_url
        self.endpoint = TokenEndpoint(token_url, client_id, client_secret, timeout, label, setting)
        self._config_refresh_token = refresh_token or None
        self._config_access_token = access_token or None
        self.store = store
        self.key = key
        self.margin_seconds = margin_seconds
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
                fresh = self.endpoint.refresh(current.refresh_token, self._refused_message)
            except TokenRefusedError:
                # A refresh token set after authorising again, not yet in the store.
                config_token = self._config_refresh_token
                if config_token is None or config_token == current.refresh_token:
                    raise
                fresh = self.endpoint.refresh(config_token, self._refused_message)
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
