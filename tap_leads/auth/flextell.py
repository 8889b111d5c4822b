"""Flextell's credentials from its settings: an access token, or OAuth refresh tokens."""

from __future__ import annotations

import typing as t
from collections.abc import Callable, Mapping
from urllib.parse import urlsplit

from tap_leads.auth.oauth import DEFAULT_MARGIN_SECONDS, FlextellOAuth
from tap_leads.auth.static import StaticAuth
from tap_leads.auth.token_store import DEFAULT_KEY, TokenStore, TokenStoreError
from tap_leads.auth.token_store import is_text as _text


def default_token_url(api_url: str) -> str:
    """`/oauth/token` on api_url's host, where Flextell serves it beside `/api`."""
    parts = urlsplit(api_url)
    return f"{parts.scheme}://{parts.netloc}/oauth/token"


FLEXTELL_API_URL = "https://dev.flextell.ai/api"


def uses_refresh(block: Mapping[str, t.Any], key: str = DEFAULT_KEY) -> bool:
    """Whether this Flextell block (or account, defaults merged) authenticates by refresh:
    a refresh token is set, or client credentials are and the store holds this key's tokens."""
    if _text(block.get("refresh_token")):
        return True
    path = block.get("token_store")
    if not _text(path) or not (_text(block.get("client_id")) or _text(block.get("client_secret"))):
        return False
    try:
        return TokenStore(str(path).strip()).read(key) is not None
    except TokenStoreError:
        return True  # the validation reports the unreadable store


def flextell_auth(
    block: Mapping[str, t.Any],
    *,
    key: str = DEFAULT_KEY,
    setting: str = "flextell",
    timeout: float = 60.0,
    margin_seconds: float = DEFAULT_MARGIN_SECONDS,
    on_new_secret: Callable[[str], None] | None = None,
) -> StaticAuth | FlextellOAuth:
    """The Auth for a validated Flextell block, or one account with the block's defaults merged.

    key is the account's name, or "default" for the single-block form; setting is what
    messages call the block, e.g. "flextell" or "flextell.accounts[acme]".
    """
    tenant = str(block.get("tenant_id") or "").strip()
    extra = {"X-Tenant": tenant} if tenant else {}
    if not uses_refresh(block, key):
        token = str(block.get("access_token") or "").strip()
        advice = f"Check {setting}.access_token and {setting}.tenant_id."
        return StaticAuth({"Authorization": f"Bearer {token}", **extra}, advice)
    api_url = str(block.get("api_url") or FLEXTELL_API_URL).strip()
    token_store_setting = f"{setting}.token_store"
    if not _text(block.get("token_store")):
        raise TokenStoreError(
            f"{setting}: refresh_token is set but token_store is missing; set "
            f"{token_store_setting}."
        )
    return FlextellOAuth(
        token_url=str(block.get("token_url") or "").strip() or default_token_url(api_url),
        client_id=str(block.get("client_id") or "").strip(),
        client_secret=str(block.get("client_secret") or "").strip(),
        refresh_token=str(block.get("refresh_token") or "").strip() or None,
        access_token=str(block.get("access_token") or "").strip() or None,
        store=TokenStore(str(block["token_store"]).strip(), setting=token_store_setting),
        key=key,
        margin_seconds=margin_seconds,
        timeout=timeout,
        label="Flextell",
        setting=setting,
        extra_headers=extra,
        on_new_secret=on_new_secret,
    )


def flextell_auth_problems(
    block: Mapping[str, t.Any], *, setting: str = "flextell", key: str = DEFAULT_KEY
) -> list[str]:
    """What is missing for the way this Flextell block authenticates, each naming the setting."""
    s = setting
    has = {name: _text(block.get(name)) for name in _AUTH_SETTINGS}
    problems = [
        f"{s}.{name} contains a line break or tab: paste the value alone."
        for name in ("access_token", "refresh_token", "client_id", "client_secret")
        if has[name] and any(ch in str(block[name]).strip() for ch in "\r\n\t")
    ]
    store_entry = False
    if has["token_store"]:
        store = TokenStore(str(block["token_store"]).strip(), setting=f"{s}.token_store")
        unusable = store.check_writable()
        if unusable:
            problems.append(unusable)
        else:
            store_entry = store.read(key) is not None
    refreshing = has["refresh_token"] or (
        store_entry and (has["client_id"] or has["client_secret"])
    )
    if not refreshing:
        if not has["access_token"]:
            problems.append(
                f"{s}: neither access_token nor refresh_token is set; set {s}.access_token, "
                f"or {s}.refresh_token with {s}.client_id, {s}.client_secret and "
                f"{s}.token_store."
            )
        return problems
    why = "refresh_token is set" if has["refresh_token"] else "token_store holds tokens"
    for name in ("client_id", "client_secret"):
        if not has[name]:
            problems.append(f"{s}: {why} but {name} is missing; set {s}.{name}.")
    if not has["token_store"]:
        problems.append(
            f"{s}: refresh_token is set but token_store is missing; set {s}.token_store to "
            "the path of a file where the tap keeps the rotated tokens, on storage that "
            "outlives the run."
        )
    token_url = block.get("token_url")
    if _text(token_url):
        parts = urlsplit(str(token_url).strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            problems.append(f"{s}.token_url {token_url!r} is not an http(s) URL like https://host.")
    return problems


_AUTH_SETTINGS = (
    "access_token",
    "refresh_token",
    "client_id",
    "client_secret",
    "token_store",
    "token_url",
)
