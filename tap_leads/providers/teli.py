"""Teli: leads of one organisation, or of every organisation the key can list."""

from __future__ import annotations

import typing as t

import singer_sdk.typing as th

from tap_leads.engine.pagination import TotalPagesEnvelope
from tap_leads.errors import ProviderError, error_detail
from tap_leads.providers.spec import Filter, GetJson, ProviderSpec, Settings, text

#: Where Teli lists the organisations a key can read.
ORGANIZATIONS_PATH = "/v1/organizations"


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


def organizations(settings: Settings, get_json: GetJson, prefix: str) -> list[str] | None:
    """For org_id "*", the unique_ids of the organisations the key can list, read leniently."""
    if text(settings, "org_id") != "*":
        return None
    body = get_json(ORGANIZATIONS_PATH)
    items = body
    if isinstance(body, dict):
        items = next(
            (
                body[key]
                for key in ("organizations", "organisations", "data", "results")
                if isinstance(body.get(key), list)
            ),
            None,
        )
    ids = (
        [str(item.get("unique_id") or item.get("id") or "") for item in items]
        if isinstance(items, list) and all(isinstance(item, dict) for item in items)
        else None
    )
    if ids is None or not all(ids):
        raise ProviderError(
            f"Teli answered GET {ORGANIZATIONS_PATH} without a list of organisations "
            f'(each with a unique_id), so {prefix}.org_id "*" cannot be expanded. '
            f"Set {prefix}.org_id to one organisation's unique_id."
        )
    return list(dict.fromkeys(ids))


def envelope_error(body: t.Any) -> str | None:
    """Teli may answer 200 with success: false and the reason beside it."""
    if isinstance(body, dict) and body.get("success") is False:
        return f"success=false ({error_detail(body) or 'no error given'})"
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
    path=ORGANIZATIONS_PATH + "/{org_id}/leads",
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
    organizations=organizations,
    envelope_error=envelope_error,
)
