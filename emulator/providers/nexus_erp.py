"""Nexus ERP: GET {api_url}/api/v1/leads."""

from __future__ import annotations

import math
from typing import Any

from ..data.nexus_erp import STATUSES
from ..store import Lead
from ..wire import Request, Response
from .base import Listing, Page, ProviderAPI, bearer_token, positive_int

MAX_PAGE_SIZE = 100


class NexusErpAPI(ProviderAPI):
    name = "nexus_erp"
    api_path = "/nexus_erp"
    unauthorized_message = "Invalid or missing API key"

    def route(self, request: Request, path: str) -> dict[str, str] | Response:
        return {} if path == "/api/v1/leads" else self.error(404, "Not found")

    def authenticate(self, request: Request) -> Response | None:
        if bearer_token(request) != self.secrets["api_key"]:
            return self.error(401, self.unauthorized_message)
        return None

    def parse(self, request: Request, params: dict[str, str]) -> Listing | Response:
        status = request.param("status") or None
        if status is not None and status not in STATUSES:
            return self.error(400, f"Invalid status. Expected one of: {', '.join(STATUSES)}")
        page = positive_int(request.param("page") or "1")
        if page is None:
            return self.error(400, "page must be a positive integer")
        size = positive_int(request.param("pageSize") or "50")
        if size is None:
            return self.error(400, "pageSize must be between 1 and 100")
        search = (request.param("search") or "").strip().lower() or None
        assigned = request.param("assignedToId") or None
        return Listing(page, min(size, MAX_PAGE_SIZE), (status, search, assigned))

    def select(self, listing: Listing) -> list[Lead]:
        status, search, assigned = listing.selection
        owner = None if assigned == "unassigned" else assigned
        rows = [
            lead
            for lead in self.dataset.live
            if (status is None or lead["status"] == status)
            and (assigned is None or lead["assignedToId"] == owner)
            and (search is None or search in _haystack(lead))
        ]
        # Next call ascending with unscheduled leads last, then newest first: two stable sorts.
        rows.sort(key=lambda lead: lead["createdAt"], reverse=True)
        rows.sort(key=lambda lead: (lead["nextCallAt"] is None, lead["nextCallAt"] or ""))
        return rows

    def envelope(self, request: Request, listing: Listing, page: Page) -> dict[str, Any]:
        number = page.number or 1
        total_pages = math.ceil(page.total / page.size)
        return {
            "data": page.rows,
            "pagination": {
                "page": number,
                "pageSize": page.size,
                "total": page.total,
                "totalPages": total_pages,
                "hasNextPage": number < total_pages,
                "hasPrevPage": number > 1,
            },
        }

    def error_body(self, status: int, message: str) -> dict[str, Any]:
        return {"error": message}


def _haystack(lead: Lead) -> str:
    parts = [lead["name"], lead["company"] or "", *lead["phones"], *lead["emails"]]
    return "\n".join(parts).lower()
