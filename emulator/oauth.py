"""Flextell's OAuth token endpoint: refresh grants with single-use, rotating refresh tokens.

POST /oauth/token on the Flextell host (beside /api), form-encoded, as Laravel Passport
serves it. Client authentication by client_id and client_secret in the form or by HTTP
Basic. Every refresh returns a new refresh token and kills the one presented; presenting
a dead one answers 400 invalid_grant. Access tokens it issues are accepted by the leads
endpoint until they expire; the static access token of the dataset keeps working forever.

Control (GET/POST /_control/flextell_oauth):
  GET                              client_id, client_secret, refresh_token, token_lifetime,
                                   and the grants answered so far
  POST {"token_lifetime": 2.0}     lifetime of the access tokens issued from now on
  POST {"mint_refresh_token": "x"} a further valid refresh token (for another account)
  POST {"revoke": true}            every refresh and issued access token dies
"""

from __future__ import annotations

import base64
import binascii
import random
import secrets
import threading
import time
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote

import orjson

from .wire import Request, Response, json_response

TOKEN_PATH = "/oauth/token"
CONTROL_PATH = "/_control/flextell_oauth"
DEFAULT_LIFETIME = 3600.0
_NO_STORE = [("Cache-Control", "no-store"), ("Pragma", "no-cache")]


@dataclass(frozen=True)
class Grant:
    """One answered token request."""

    time: float  # time.monotonic()
    status: int
    error: str | None
    refresh_token: str | None  # the one presented
    issued_refresh_token: str | None
    issued_access_token: str | None
    subject: str | None


class FlextellTokenServer:
    """The token endpoint and the registry of live tokens it issued."""

    def __init__(self, seed: int, lifetime: float = DEFAULT_LIFETIME) -> None:
        self.seed = seed
        self._initial_lifetime = lifetime
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        rng = random.Random(f"oauth:flextell:{self.seed}")
        with self._lock:
            self.lifetime = self._initial_lifetime
            self.client_id = str(rng.randrange(3, 99))
            self.client_secret = _token(rng, 40)
            self.initial_refresh_token = "def50200" + _token(rng, 120)
            # live refresh token -> subject; spent ones stay listed so reuse is visible.
            self._refresh: dict[str, str] = {self.initial_refresh_token: "default"}
            self._spent: set[str] = set()
            # issued access token -> time.monotonic() at which it expires
            self._access: dict[str, float] = {}
            self.grants: list[Grant] = []

    # What tests and the leads endpoint use

    @property
    def lifetime(self) -> float:
        return self._lifetime

    @lifetime.setter
    def lifetime(self, seconds: float) -> None:
        if not seconds > 0:
            raise ValueError("the token lifetime must be above 0 seconds")
        self._lifetime = float(seconds)

    def accepts(self, access_token: str | None) -> bool:
        """Whether an access token from a refresh is still valid."""
        if access_token is None:
            return False
        with self._lock:
            expires = self._access.get(access_token)
        return expires is not None and time.monotonic() < expires

    def mint_refresh_token(self, subject: str = "default") -> str:
        """A further valid refresh token, as another authorization-code step would give."""
        token = "def50200" + secrets.token_hex(60)
        with self._lock:
            self._refresh[token] = subject
        return token

    def revoke(self) -> None:
        with self._lock:
            self._spent |= set(self._refresh)
            self._refresh.clear()
            self._access.clear()

    def spent(self) -> list[str]:
        """Every refresh token presented successfully, in order (a token twice: spent twice)."""
        with self._lock:
            return [g.refresh_token for g in self.grants if g.status == 200 and g.refresh_token]

    def credentials(self) -> dict[str, str]:
        return {
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "refresh_token": self.initial_refresh_token,
        }

    # HTTP

    def handle(self, request: Request, body: bytes) -> Response:
        if request.method != "POST":
            return json_response(
                405, {"error": "method_not_allowed", "message": "The method is not supported."}
            )
        form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        client_id, client_secret = _basic(request) or (
            form.get("client_id", ""),
            form.get("client_secret", ""),
        )
        grant_type = form.get("grant_type", "")
        presented = form.get("refresh_token") or None
        with self._lock:
            if grant_type != "refresh_token":
                return self._refuse(
                    400,
                    "unsupported_grant_type",
                    "The authorization grant type is not supported by the authorization server.",
                    presented,
                )
            if client_id != self.client_id or client_secret != self.client_secret:
                response = self._refuse(401, "invalid_client", "Client authentication failed", None)
                response.headers.append(("WWW-Authenticate", 'Basic realm="OAuth"'))
                return response
            if presented is None:
                return self._refuse(
                    400,
                    "invalid_request",
                    'The request is missing a required parameter: "refresh_token".',
                    None,
                )
            subject = self._refresh.pop(presented, None)
            if subject is None:
                return self._refuse(
                    400, "invalid_grant", "The refresh token is invalid.", presented
                )
            self._spent.add(presented)
            access = _jwt(subject)
            rotated = "def50200" + secrets.token_hex(60)
            self._refresh[rotated] = subject
            self._access[access] = time.monotonic() + self._lifetime
            self.grants.append(
                Grant(time.monotonic(), 200, None, presented, rotated, access, subject)
            )
            lifetime = self._lifetime
        expires_in: int | float = int(lifetime) if lifetime == int(lifetime) else lifetime
        payload = {
            "token_type": "Bearer",
            "expires_in": expires_in,
            "access_token": access,
            "refresh_token": rotated,
        }
        return json_response(200, payload, list(_NO_STORE))

    def _refuse(self, status: int, error: str, description: str, presented: str | None) -> Response:
        self.grants.append(Grant(time.monotonic(), status, error, presented, None, None, None))
        body = {"error": error, "error_description": description, "message": description}
        return json_response(status, body, list(_NO_STORE))

    def control(self, request: Request, body: bytes) -> Response:
        try:
            payload = orjson.loads(body) if body else {}
            if request.method == "POST":
                if "token_lifetime" in payload:
                    self.lifetime = float(payload["token_lifetime"])
                if payload.get("revoke"):
                    self.revoke()
                if "mint_refresh_token" in payload:
                    subject = str(payload["mint_refresh_token"] or "default")
                    return json_response(200, {"refresh_token": self.mint_refresh_token(subject)})
            with self._lock:
                grants = [asdict(grant) for grant in self.grants]
            return json_response(
                200, {**self.credentials(), "token_lifetime": self.lifetime, "grants": grants}
            )
        except (ValueError, TypeError, AttributeError) as exc:
            return json_response(400, {"error": str(exc)})


def _basic(request: Request) -> tuple[str, str] | None:
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, _, client_secret = decoded.partition(":")
    return unquote(client_id), unquote(client_secret)


def _token(rng: random.Random, length: int) -> str:
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    return "".join(rng.choice(alphabet) for _ in range(length))


def _jwt(subject: str) -> str:
    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(orjson.dumps(value)).rstrip(b"=").decode()

    claims = {"aud": "9", "jti": secrets.token_hex(20), "sub": subject, "scopes": ["read"]}
    signature = base64.urlsafe_b64encode(secrets.token_bytes(64)).rstrip(b"=").decode()
    return f"{part({'typ': 'JWT', 'alg': 'RS256'})}.{part(claims)}.{signature}"
