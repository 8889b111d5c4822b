"""Teli: GET {api_url}/v1/organizations/{org_id}/leads."""

from __future__ import annotations

import math
import re
from typing import Any
from urllib.parse import unquote

from ..data import TeliWorld
from ..faults import Fault
from ..store import Lead
from ..wire import Request, Response, json_response
from .base import Listing, Page, ProviderAPI, positive_int

_LEADS = re.compile(r"/v1/organizations/([^/]+)/leads")
ORGANIZATIONS = "/v1/organizations"
MAX_PAGE_SIZE = 200


class TeliAPI(ProviderAPI):
    name = "teli"
    api_path = "/teli"
    unauthorized_message = "Invalid API key"
    world: TeliWorld

    def route(self, request: Request, path: str) -> dict[str, str] | Response:
        if path == ORGANIZATIONS:
            return {"endpoint": "organizations"}
        match = _LEADS.fullmatch(path)
        if match is None:
            return self.error(404, "Not found")
        return {"org_id": unquote(match[1])}

    def authenticate(self, request: Request) -> Response | None:
        key = request.headers.get("x-api-key")
        if not key:
            return self.error(401, "API key is required")
        if key != self.secrets["api_key"]:
            return self.error(401, self.unauthorized_message)
        return None

    def parse(self, request: Request, params: dict[str, str]) -> Listing | Response:
        if params.get("endpoint") == "organizations":
            return self.organizations([self.world.organization()])
        org_id = params["org_id"]
        if org_id != self.world.org["unique_id"]:
            return self.error(404, f"Organization '{org_id}' not found")
        user_id = request.param("user_id") or None
        user = None
        if user_id is not None:
            user = next((u["id"] for u in self.world.users if u["unique_id"] == user_id), None)
            if user is None:
                return self.error(404, f"User '{user_id}' not found")
        elif (request.param("is_admin") or "false").lower() != "true":
            return self.error(400, "user_id is required when is_admin is false")
        page = None
        if request.param("page") is not None:
            page = positive_int(request.param("page"))
            if page is None:
                return self.error(400, "page must be a positive integer")
        size = 50
        if request.param("page_size") is not None:
            asked = positive_int(request.param("page_size"))
            if asked is None:
                return self.error(400, "page_size must be a positive integer")
            size = min(asked, MAX_PAGE_SIZE)
        group = request.param("group_id") or None
        phone = request.param("phone_number") or None
        return Listing(page, size, (user, group, phone))

    def select(self, listing: Listing) -> list[Lead]:
        user, group, phone = listing.selection
        return [
            lead
            for lead in self.dataset.live
            if (user is None or lead["user_id"] == user)
            and (phone is None or lead["phone_number"] == phone)
            and (group is None or self.world.group_of(lead) == group)
        ]

    def organizations(self, organizations: list[dict[str, Any]]) -> Response:
        """GET /v1/organizations: not paginated, count is the number of organisations."""
        return json_response(
            200,
            {
                "success": True,
                "count": len(organizations),
                "organizations": organizations,
                "powered_by": "Teli",
            },
        )

    def envelope(self, request: Request, listing: Listing, page: Page) -> dict[str, Any]:
        count = page.total if "legacy_count" in page.faults else page.sent
        if page.number is None:
            # Unpaged: the documented response has no page fields at all.
            return {
                "success": True,
                "count": count,
                "total": page.total,
                "leads": page.rows,
                "powered_by": "Teli",
            }
        return {
            "success": True,
            "count": count,
            "total": page.total,
            "page": page.number,
            "page_size": page.size,
            "total_pages": math.ceil(page.total / page.size),
            "leads": page.rows,
            "powered_by": "Teli",
        }

    def error_body(self, status: int, message: str) -> dict[str, Any]:
        return {"error": message, "success": False, "powered_by": "Teli"}

    def throttled(self, retry_after: int) -> Response:
        return self.error(429, "Rate limit exceeded")

    def special_fault(self, fault: Fault) -> Response:
        # success_false: a failure reported inside a 200.
        return json_response(200, self.error_body(200, "Temporary failure reading leads"))
