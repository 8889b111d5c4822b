"""Which Flextell OAuth access tokens each account accepts, when one token endpoint serves
every account: the refresh token's subject names the account."""

from __future__ import annotations

import base64
import binascii
from typing import Protocol

import orjson

from .accounts import DEFAULT_ACCOUNT, Account


class TokenIssuer(Protocol):
    def accepts(self, access_token: str | None) -> bool: ...


class AccountTokens:
    """The OAuth access tokens one Flextell account accepts: those issued on a refresh token
    minted for the account's name as subject. The default account also takes every subject
    that names no account, as it took every issued token before there were accounts."""

    def __init__(self, issuer: TokenIssuer, name: str, others: frozenset[str]) -> None:
        self.issuer = issuer
        self.name = name
        self.others = others

    def accepts(self, access_token: str | None) -> bool:
        if not self.issuer.accepts(access_token):
            return False
        subject = token_subject(access_token or "")
        if self.name == DEFAULT_ACCOUNT:
            return subject not in self.others
        return subject == self.name


def token_subject(token: str) -> str | None:
    """The "sub" claim of a JWT, unverified."""
    try:
        claims = token.split(".")[1]
        value = orjson.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))
    except (IndexError, ValueError, binascii.Error, orjson.JSONDecodeError):
        return None
    subject = value.get("sub") if isinstance(value, dict) else None
    return subject if isinstance(subject, str) else None


def share_token_issuer(accounts: dict[str, Account]) -> None:
    """Hand each Flextell account the view of the token endpoint's tokens that it accepts."""
    issuer = getattr(accounts[DEFAULT_ACCOUNT].api, "oauth", None)
    if issuer is None:
        return
    issuer = getattr(issuer, "issuer", issuer)
    named = frozenset(name for name in accounts if name != DEFAULT_ACCOUNT)
    for name, account in accounts.items():
        account.api.oauth = AccountTokens(issuer, name, named)  # type: ignore[attr-defined]
