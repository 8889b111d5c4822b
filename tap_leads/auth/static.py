"""Fixed credentials: API keys, and a Flextell access token without a refresh token."""

from __future__ import annotations

import typing as t

if t.TYPE_CHECKING:
    from collections.abc import Mapping


class StaticAuth:
    """Fixed headers: API keys, and a Flextell access token without a refresh token."""

    def __init__(self, headers: Mapping[str, str], advice: str = "") -> None:
        self._headers = dict(headers)
        self._advice = advice

    def headers(self) -> Mapping[str, str]:
        return self._headers

    def after_unauthorized(self, sent: Mapping[str, str]) -> bool:
        return False

    def auth_advice(self) -> str:
        """What to check when the provider rejects these credentials; '' for the default."""
        return self._advice

    def __repr__(self) -> str:
        return f"StaticAuth(headers={sorted(self._headers)})"
