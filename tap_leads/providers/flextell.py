"""Flextell: a tenant header, and an access token that may come from OAuth refresh."""

from __future__ import annotations

from singer_sdk import typing as th

from tap_leads.engine.pagination import LaravelResourceEnvelope
from tap_leads.providers.spec import Filter, ProviderSpec, Settings, bearer, text


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
    api_url="https://dev.flextell.ai/api",
    max_page_size=100,
    default_page_size=100,
    path="/v1/leads",
    page_param="page",
    page_size_param="per_page",
    envelope=LaravelResourceEnvelope,
    # With refresh_token the engine authenticates through tap_leads.auth.flextell.flextell_auth.
    auth_headers=bearer("access_token"),
    extra_headers=extra_headers,
    auth_settings=("access_token", "tenant_id"),
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
