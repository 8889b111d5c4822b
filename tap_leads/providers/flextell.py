"""Flextell: a tenant header, and an access token that may come from OAuth refresh.

Flextell offers only the authorization-code flow, so a headless tap lives on a refresh
token obtained once, outside the tap; auth/oauth.py refreshes it, auth/token_store.py keeps
the rotated tokens. This module says which way an account authenticates, and what its
settings lack for that way.
"""

from __future__ import annotations

import typing as t
from urllib.parse import urlsplit

import singer_sdk.typing as th

from tap_leads.auth.oauth import FlextellOAuth
from tap_leads.auth.static import StaticAuth
from tap_leads.auth.token_store import DEFAULT_KEY, TokenStore, TokenStoreError
from tap_leads.engine.pagination import LaravelResourceEnvelope
from tap_leads.providers.spec import (
    AuthContext,
    CheckedSettings,
    Filter,
    ProviderSpec,
    Settings,
    bearer,
    text,
)
from tap_leads.values import has_line_break, is_http_url, is_text

API_URL = "https://dev.flextell.ai/api"
_AUTH_SETTINGS = (
    "access_token",
    "refresh_token",
    "client_id",
    "client_secret",
    "token_store",
    "token_url",
)


def extra_headers(settings: Settings) -> dict[str, str]:
    return {"X-Tenant": text(settings, "tenant_id")}


def fixed_params(settings: Settings) -> dict[str, str]:
    # Creation order is the only stable order Flextell offers, so offset pages
    # do not shift while leads are edited.
    return {"sort_by": "created_at", "sort_order": "asc"}


def passes(settings: Settings) -> list[dict[str, str]]:
    # Soft-deleted leads are listed only with trashed=true, in a pass of their own.
    if settings.get("include_deleted"):
        return [{}, {"trashed": "true"}]
    return [{}]


def default_token_url(api_url: str) -> str:
    """`/oauth/token` on api_url's host, where Flextell serves it beside `/api`."""
    parts = urlsplit(api_url)
    return f"{parts.scheme}://{parts.netloc}/oauth/token"


def uses_refresh(block: Settings, key: str = DEFAULT_KEY) -> bool:
    """Whether this Flextell block (or account, defaults merged) authenticates by refresh:
    a refresh token is set, or client credentials are and the store holds this key's tokens."""
    if is_text(block.get("refresh_token")):
        return True
    path = block.get("token_store")
    if not is_text(path) or not (
        is_text(block.get("client_id")) or is_text(block.get("client_secret"))
    ):
        return False
    try:
        return TokenStore(str(path).strip()).read(key) is not None
    except TokenStoreError:
        return True  # the validation reports the unreadable store


def flextell_auth(
    block: Settings,
    *,
    key: str = DEFAULT_KEY,
    setting: str = "flextell",
    timeout: float,
    on_new_secret: t.Callable[[str], None] | None = None,
) -> StaticAuth | FlextellOAuth:
    """The Auth for a validated Flextell block, or one account with the block's defaults merged.

    key is the account's name, or "default" for the single-block form; setting is what
    messages call the block, e.g. "flextell" or "flextell.accounts[acme]".
    """
    if not uses_refresh(block, key):
        advice = f"Check {setting}.access_token and {setting}.tenant_id."
        return StaticAuth(SPEC.headers(block), advice)
    token_store_setting = f"{setting}.token_store"
    if not is_text(block.get("token_store")):
        raise TokenStoreError(
            f"{setting}: refresh_token is set but token_store is missing; set "
            f"{token_store_setting}."
        )
    return FlextellOAuth(
        token_url=text(block, "token_url") or default_token_url(SPEC.base_url(block)),
        client_id=text(block, "client_id"),
        client_secret=text(block, "client_secret"),
        refresh_token=text(block, "refresh_token") or None,
        access_token=text(block, "access_token") or None,
        store=TokenStore(text(block, "token_store"), setting=token_store_setting),
        key=key,
        timeout=timeout,
        label=SPEC.label,
        setting=setting,
        extra_headers=extra_headers(block),
        on_new_secret=on_new_secret,
    )


def auth_problems(checked: CheckedSettings) -> list[str]:
    """What a complete block or account lacks for the way it authenticates."""
    if not checked.complete:
        return []
    return flextell_auth_problems(checked.merged, setting=checked.where, key=checked.account)


def flextell_auth_problems(
    block: Settings, *, setting: str = "flextell", key: str = DEFAULT_KEY
) -> list[str]:
    """What is missing for the way this Flextell block authenticates, each naming the setting."""
    s = setting
    has = {name: is_text(block.get(name)) for name in _AUTH_SETTINGS}
    problems = [
        f"{s}.{name} contains a line break or tab: paste the value alone."
        for name in ("access_token", "refresh_token", "client_id", "client_secret")
        if has[name] and has_line_break(block[name])
    ]
    store_entry = False
    if has["token_store"]:
        store = TokenStore(text(block, "token_store"), setting=f"{s}.token_store")
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
    if is_text(token_url) and not is_http_url(token_url):
        problems.append(f"{s}.token_url {token_url!r} is not an http(s) URL like https://host.")
    return problems


def build_auth(settings: Settings, context: AuthContext) -> StaticAuth | FlextellOAuth:
    return flextell_auth(
        settings,
        key=context.account,
        setting=context.setting,
        timeout=context.timeout,
        on_new_secret=context.on_new_secret,
    )


SPEC = ProviderSpec(
    key="flextell",
    label="Flextell",
    stream_name="flextell_leads",
    primary_keys=("id",),
    replication_key="updated_at",
    change_keys=("updated_at", "deleted_at"),
    # access_token is optional once a refresh token is set; flextell_auth_problems
    # says what is missing for the way the block authenticates.
    credentials={"tenant_id": "Tenant id, sent as the X-Tenant header."},
    # Tenant ids are numbers that configs write either way.
    string_or_integer=("tenant_id",),
    secrets=("access_token", "client_secret", "refresh_token"),
    api_url=API_URL,
    max_page_size=100,
    default_page_size=100,
    path="/v1/leads",
    page_param="page",
    page_size_param="per_page",
    envelope=LaravelResourceEnvelope,
    # With refresh_token, build_auth refreshes the access token (auth/oauth.py).
    auth_headers=bearer("access_token"),
    extra_headers=extra_headers,
    auth_settings=("access_token", "tenant_id"),
    build_auth=build_auth,
    checks=auth_problems,
    filters=(
        Filter("lead_status_id", th.IntegerType, "Only leads with this status id."),
        Filter("lead_reference_source_id", th.IntegerType, "Only leads from this source id."),
        Filter("converted", th.BooleanType, "Only converted (true) or unconverted (false)."),
        Filter("search", th.StringType, "Search query, up to 255 characters."),
    ),
    fixed_params=fixed_params,
    passes=passes,
    extras=(
        th.Property(
            "access_token",
            th.StringType(nullable=True),
            secret=True,
            description=(
                "OAuth 2.0 access token, sent as a Bearer token. Enough on its own; with "
                "refresh_token it is optional and replaced before it expires."
            ),
        ),
        th.Property("client_id", th.StringType(nullable=True), description="OAuth client id."),
        th.Property(
            "client_secret",
            th.StringType(nullable=True),
            secret=True,
            description="OAuth client secret.",
        ),
        th.Property(
            "refresh_token",
            th.StringType(nullable=True),
            secret=True,
            description=(
                "Refresh token from the one-time authorization-code step. Flextell may "
                "replace it on every refresh; the tap keeps the latest in token_store."
            ),
        ),
        th.Property(
            "token_url",
            th.StringType(nullable=True),
            description="Token endpoint. Default: /oauth/token on api_url's host.",
        ),
        th.Property(
            "token_store",
            th.StringType(nullable=True),
            description=(
                "Path of the file (mode 0600) where the tap keeps the latest tokens. Its "
                "tokens win over the config's. Keep it outside the project, on storage "
                "that outlives the run."
            ),
        ),
        th.Property(
            "include_deleted",
            th.BooleanType(nullable=True),
            description=(
                "Also list soft-deleted leads (a second pass with trashed=true), "
                "emitted with their deleted_at so that a target can remove them."
            ),
        ),
    ),
)
