"""Flextell: GET {api_url}/v1/leads, a Laravel API resource collection."""

from __future__ import annotations

from typing import Any

from ..oauth import FlextellTokenServer
from ..store import Lead
from ..wire import Request, Response, json_response
from .base import Listing, Page, ProviderAPI, bearer_token
from .laravel import (
    check_per_page,
    current_page,
    last_page,
    link_collection,
    url_with_query,
    validation_error,
)

SORTABLE = ("created_at", "last_name", "first_name", "converted_at", "last_synced_at")
TRUE, FALSE = ("true", "1"), ("false", "0")
ERROR_CODES = {
    400: "bad_request",
    401: "invalid_token",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    429: "too_many_requests",
    500: "server_error",
    502: "bad_gateway",
    503: "service_unavailable",
    504: "gateway_timeout",
}


class FlextellAPI(ProviderAPI):
    name = "flextell"
    api_path = "/flextell/api"
    unauthorized_message = "The access token is invalid or has expired."
    # Documented: X-RateLimit-Limit/Remaining/Reset (Reset a Unix timestamp), 429 + Retry-After.
    announces_quota = True
    # Set by the emulator: access tokens issued by refresh are valid too, until they expire.
    oauth: FlextellTokenServer | None = None

    def route(self, request: Request, path: str) -> dict[str, str] | Response:
        return {} if path == "/api/v1/leads" else self.error(404, "Resource not found.")

    def authenticate(self, request: Request) -> Response | None:
        token = bearer_token(request)
        if token != self.secrets["access_token"] and not (self.oauth and self.oauth.accepts(token)):
            return self.error(401, self.unauthorized_message)
        tenant = request.headers.get("x-tenant", "").strip()
        if not tenant:
            body = {"error": "tenant_required", "message": "The X-Tenant header is required."}
            return json_response(400, body)
        if tenant != self.secrets["tenant_id"]:
            return self.error(403, "You do not have access to this tenant.")
        return None

    def parse(self, request: Request, params: dict[str, str]) -> Listing | Response:
        errors: dict[str, list[str]] = {}
        filters: dict[str, Any] = {}
        for name in ("lead_status_id", "lead_reference_source_id"):
            value = request.param(name) or None
            if value is not None and not value.lstrip("-").isdigit():
                errors[name] = [f"The {name.replace('_', ' ')} field must be an integer."]
            filters[name] = int(value) if value is not None and name not in errors else None
        for name in ("converted", "trashed"):
            value = (request.param(name) or "").lower() or None
            if value is not None and value not in TRUE + FALSE:
                errors[name] = [f"The {name} field must be true or false."]
            filters[name] = None if value is None else value in TRUE
        search = request.param("search") or None
        if search is not None and len(search) > 255:
            errors["search"] = ["The search field must not be greater than 255 characters."]
        sort_by = request.param("sort_by") or None
        if sort_by is not None and sort_by not in SORTABLE:
            errors["sort_by"] = ["The selected sort by is invalid."]
        sort_order = request.param("sort_order") or None
        if sort_order is not None and sort_order not in ("asc", "desc"):
            errors["sort_order"] = ["The selected sort order is invalid."]
        per_page = check_per_page(request, default=15)
        if isinstance(per_page, dict):
            errors.update(per_page)
        if errors:
            return validation_error(errors)
        assert isinstance(per_page, int)
        selection = (
            filters["lead_status_id"],
            filters["lead_reference_source_id"],
            filters["converted"],
            (search or "").lower() or None,
            sort_by or "created_at",
            sort_order or "desc",
            bool(filters["trashed"]),
        )
        return Listing(current_page(request), per_page, selection)

    def select(self, listing: Listing) -> list[Lead]:
        status, source, converted, search, sort_by, order, trashed = listing.selection
        rows = [
            lead
            for lead in (self.dataset.trashed if trashed else self.dataset.live)
            if (status is None or lead["status"]["id"] == status)
            and (source is None or (lead["reference_source"] or {}).get("id") == source)
            and (converted is None or _converted(lead) == converted)
            and (search is None or search in _haystack(lead))
        ]
        if sort_by in ("first_name", "last_name"):
            rows.sort(key=lambda lead: (lead[sort_by].lower(), lead["id"]), reverse=order == "desc")
        else:
            # MySQL puts NULLs first when ascending and last when descending.
            rows.sort(
                key=lambda lead: (lead[sort_by] is not None, lead[sort_by] or "", lead["id"]),
                reverse=order == "desc",
            )
        return rows

    def envelope(self, request: Request, listing: Listing, page: Page) -> dict[str, Any]:
        number = page.number or 1
        last = last_page(page.total, page.size)
        path = request.origin + request.path
        query = request.query

        def url(target: int, origin: str | None = None) -> str:
            base = path if origin is None else origin + request.path
            return url_with_query(base, query, target)

        previous = url(number - 1) if number > 1 else None
        following = url(page.next_page or number + 1, page.next_origin) if page.has_next else None
        first_item = page.start + 1 if page.count else None
        return {
            "data": page.rows,
            "links": {"first": url(1), "last": url(last), "prev": previous, "next": following},
            "meta": {
                "current_page": number,
                "from": first_item,
                "last_page": last,
                "links": link_collection(number, last, url, previous, following),
                "path": path,
                "per_page": page.size,
                "to": page.start + page.count if page.count else None,
                "total": page.total,
            },
        }

    def error_body(self, status: int, message: str) -> dict[str, Any]:
        return {"error": ERROR_CODES.get(status, "error"), "message": message}


def _converted(lead: Lead) -> bool:
    return lead["is_converted"] in (True, "1", "true")


def _haystack(lead: Lead) -> str:
    parts = (lead["full_name"], lead["email"] or "", lead["phone_number"])
    return "\n".join(parts).lower()
