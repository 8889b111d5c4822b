"""One small class per provider: path, auth, parameters, paginator and keys."""

from __future__ import annotations

import typing as t
from urllib.parse import quote

from tap_leads.client import LeadsStream
from tap_leads.fetch import Auth, StaticAuth
from tap_leads.oauth import flextell_auth
from tap_leads.pagination import (
    DrfPaginator,
    HasNextPagePaginator,
    LaravelPaginator,
    LaravelResourcePaginator,
    TotalPagesPaginator,
)


class TeliLeadsStream(LeadsStream):
    name = "teli_leads"
    provider = "teli"
    label = "Teli"
    primary_keys = ("unique_id",)
    replication_key = "updated_at"
    credential_settings = ("teli.api_key", "teli.org_id")
    filters = {"user_id": "user_id", "group_id": "group_id", "phone_number": "phone_number"}
    default_page_size = 200
    paginator_class = TotalPagesPaginator

    @property
    def path(self) -> str:  # type: ignore[override]
        return f"/v1/organizations/{quote(str(self.settings['org_id']), safe='')}/leads"

    def auth(self) -> Auth:
        return StaticAuth({"X-API-Key": self.settings["api_key"].strip()})

    def base_params(self) -> dict[str, t.Any]:
        params = super().base_params()
        # Without user_id, Teli needs is_admin=true to list the whole organisation.
        if not self.settings.get("user_id"):
            params["is_admin"] = "true"
        return params

    def explain_404(self, detail: str) -> str | None:
        if self.settings.get("user_id") and "user" in detail.lower():
            return (
                f"Teli does not know the user in teli.user_id (HTTP 404{detail}). "
                "Check teli.user_id: it takes a user's unique_id, like 1762896364768x3891…, "
                "not the UUID id."
            )
        if "organization" in detail.lower():
            return (
                f"Teli does not know the organisation in teli.org_id (HTTP 404{detail}). "
                "Check teli.org_id: it takes the organisation's unique_id."
            )
        return None


class NexusErpLeadsStream(LeadsStream):
    name = "nexus_erp_leads"
    provider = "nexus_erp"
    label = "Nexus ERP"
    path = "/api/v1/leads"
    primary_keys = ("id",)
    replication_key = "updatedAt"
    credential_settings = ("nexus_erp.api_key",)
    filters = {"status": "status", "search": "search", "assigned_to_id": "assignedToId"}
    page_size_param = "pageSize"
    paginator_class = HasNextPagePaginator

    def auth(self) -> Auth:
        return StaticAuth({"Authorization": f"Bearer {self.settings['api_key'].strip()}"})


class FlextellLeadsStream(LeadsStream):
    name = "flextell_leads"
    provider = "flextell"
    label = "Flextell"
    path = "/v1/leads"
    primary_keys = ("id",)
    replication_key = "updated_at"
    credential_settings = ("flextell.access_token", "flextell.tenant_id")
    filters = {
        "lead_status_id": "lead_status_id",
        "lead_reference_source_id": "lead_reference_source_id",
        "converted": "converted",
        "search": "search",
    }
    page_size_param = "per_page"
    paginator_class = LaravelResourcePaginator

    change_keys = ("updated_at", "deleted_at")

    def auth(self) -> Auth:
        # Refreshed tokens reach every page fetch, since the fetcher reads them per request.
        return flextell_auth(
            self.settings,
            timeout=float(self.config.get("request_timeout", 60)),
            on_new_secret=self._tap.mask_secret,
        )

    def extra_headers(self) -> dict[str, str]:
        return {"X-Tenant": str(self.settings["tenant_id"]).strip()}

    def base_params(self) -> dict[str, t.Any]:
        # Creation order is the only stable order Flextell offers, so offset pages
        # do not shift while leads are edited.
        return {**super().base_params(), "sort_by": "created_at", "sort_order": "asc"}

    def passes(self) -> list[dict[str, str]]:
        # Soft-deleted leads are listed only with trashed=true, in a pass of their own.
        if self.settings.get("include_deleted"):
            return [{}, {"trashed": "true"}]
        return [{}]


class SelaLeadsStream(LeadsStream):
    name = "sela_leads"
    provider = "sela"
    label = "Sela"
    # DRF needs the trailing slash; without it the API redirects or answers 404.
    path = "/api/leads/"
    primary_keys = ("id",)
    replication_key = "modified_time"
    credential_settings = ("sela.api_key",)
    filters = {
        "email": "email",
        "external_id": "external_id",
        "phone_number": "phone_number",
        "user": "user",
    }
    paginator_class = DrfPaginator

    def auth(self) -> Auth:
        key = self.settings["api_key"].strip()
        # Users paste the key with or without the prefix; send it exactly once.
        if key[:6].lower() == "token ":
            key = key[6:].strip()
        return StaticAuth({"Authorization": f"Token {key}"})


class AutocallsLeadsStream(LeadsStream):
    name = "autocalls_leads"
    provider = "autocalls"
    label = "Autocalls"
    path = "/user/leads"
    primary_keys = ("id",)
    replication_key = "updated_at"
    credential_settings = ("autocalls.api_key",)
    filters = {
        "status": "status",
        "campaign_id": "campaign_id",
        "phone_number": "phone_number",
        "date_from": "date_from",
        "date_to": "date_to",
    }
    page_size_param = "per_page"
    paginator_class = LaravelPaginator

    def auth(self) -> Auth:
        return StaticAuth({"Authorization": f"Bearer {self.settings['api_key'].strip()}"})


STREAM_TYPES: tuple[type[LeadsStream], ...] = (
    TeliLeadsStream,
    NexusErpLeadsStream,
    FlextellLeadsStream,
    SelaLeadsStream,
    AutocallsLeadsStream,
)
