"""Teli: leads of one organisation, or of every organisation the key can list."""

from __future__ import annotations

from singer_sdk import typing as th

from tap_leads.engine.pagination import TotalPagesEnvelope
from tap_leads.providers.spec import Filter, ProviderSpec, Settings, text


def auth_headers(settings: Settings) -> dict[str, str]:
    return {"X-API-Key": text(settings, "api_key")}


def fixed_params(settings: Settings) -> dict[str, str]:
    # Without user_id, Teli needs is_admin=true to list the whole organisation.
    if settings.get("user_id"):
        return {}
    return {"is_admin": "true"}


def explain_404(settings: Settings, prefix: str, detail: str) -> str | None:
    if settings.get("user_id") and "user" in detail.lower():
        return (
            f"Teli does not know the user in {prefix}.user_id (HTTP 404{detail}). "
            f"Check {prefix}.user_id: it takes a user's unique_id, like 1762896364768x3891…, "
            "not the UUID id."
        )
    if "organization" in detail.lower():
        return (
            f"Teli does not know the organisation in {prefix}.org_id (HTTP 404{detail}). "
            f"Check {prefix}.org_id: it takes the organisation's unique_id."
        )
    return None


SPEC = ProviderSpec(
    key="teli",
    label="Teli",
    stream_name="teli_leads",
    primary_keys=("unique_id",),
    replication_key="updated_at",
    credentials={
        "api_key": "Teli API key, sent as X-API-Key.",
        "org_id": (
            "The organisation's unique_id (like 1762896364768x389173798861431550), "
            'or "*" for every organisation the key can list.'
        ),
    },
    secrets=("api_key",),
    api_url="https://api.teli.ai",
    max_page_size=200,
    default_page_size=200,
    path="/v1/organizations/{org_id}/leads",
    # Teli is always paged: without `page` it returns every lead in one response.
    page_param="page",
    page_size_param="page_size",
    envelope=TotalPagesEnvelope,
    auth_headers=auth_headers,
    auth_settings=("api_key", "org_id"),
    filters=(
        Filter("user_id", th.StringType, "Only leads uploaded by this user (unique_id)."),
        Filter("group_id", th.StringType, "Only leads in this contact group (unique_id)."),
        Filter("phone_number", th.StringType, "Only leads with this exact E.164 number."),
    ),
    fixed_params=fixed_params,
    explain_404=explain_404,
    organizations_path="/v1/organizations",
    wildcards=("org_id",),
)
