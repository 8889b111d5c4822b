"""Autocalls: GET {api_url}/user/leads, Laravel's default LengthAwarePaginator."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from ..data.autocalls import STATUSES
from ..store import Lead
from ..wire import Request, Response
from .base import Listing, Page, ProviderAPI, bearer_token
from .laravel import check_per_page, current_page, last_page, link_collection, validation_error

_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


class AutocallsAPI(ProviderAPI):
    name = "autocalls"
    api_path = "/autocalls/api"
    unauthorized_message = "Unauthenticated."
    row_faults = frozenset({"string_ids", "variables_list"})

    def route(self, request: Request, path: str) -> dict[str, str] | Response:
        if path == "/api/user/leads":
            return {}
        return self.error(404, f"The route {path.lstrip('/')} could not be found.")

    def authenticate(self, request: Request) -> Response | None:
        if bearer_token(request) != self.secrets["api_key"]:
            return self.error(401, self.unauthorized_message)
        return None

    def parse(self, request: Request, params: dict[str, str]) -> Listing | Response:
        errors: dict[str, list[str]] = {}
        status = request.param("status") or None
        if status is not None and status not in STATUSES:
            errors["status"] = ["The selected status is invalid."]
        campaign = request.param("campaign_id") or None
        if campaign is not None and not campaign.lstrip("-").isdigit():
            errors["campaign_id"] = ["The campaign id field must be an integer."]
        days = {}
        for name in ("date_from", "date_to"):
            value = request.param(name) or None
            if value is not None and not _is_day(value):
                errors[name] = [f"The {name.replace('_', ' ')} field must match the format Y-m-d."]
            days[name] = value
        per_page = check_per_page(request, default=15)
        if isinstance(per_page, dict):
            errors.update(per_page)
        if errors:
            return validation_error(errors)
        assert isinstance(per_page, int)
        selection = (
            status,
            None if campaign is None else int(campaign),
            request.param("phone_number") or None,
            days["date_from"],
            days["date_to"],
        )
        return Listing(current_page(request), per_page, selection)

    def select(self, listing: Listing) -> list[Lead]:
        status, campaign, phone, day_from, day_to = listing.selection
        # Newest first, as ->latest('id')->paginate() lists them.
        return [
            lead
            for lead in reversed(self.dataset.live)
            if (status is None or lead["status"] == status)
            and (campaign is None or lead["campaign_id"] == campaign)
            and (phone is None or phone in lead["phone_number"])
            and (day_from is None or lead["created_at"][:10] >= day_from)
            and (day_to is None or lead["created_at"][:10] <= day_to)
        ]

    def envelope(self, request: Request, listing: Listing, page: Page) -> dict[str, Any]:
        number = page.number or 1
        last = last_page(page.total, page.size)
        path = request.origin + request.path

        def url(target: int) -> str:
            # The default paginator carries no query parameter but the page.
            return f"{path}?page={target}"

        previous = url(number - 1) if number > 1 else None
        following = None
        if page.has_next:
            origin = page.next_origin or request.origin
            following = f"{origin}{request.path}?page={page.next_page or number + 1}"
        return {
            "current_page": number,
            "data": page.rows,
            "first_page_url": url(1),
            "from": page.start + 1 if page.count else None,
            "last_page": last,
            "last_page_url": url(last),
            "links": link_collection(number, last, url, previous, following),
            "next_page_url": following,
            "path": path,
            "per_page": page.size,
            "prev_page_url": previous,
            "to": page.start + page.count if page.count else None,
            "total": page.total,
        }

    def reshape(self, lead: Lead, faults: frozenset[str]) -> Lead:
        lead = dict(lead)
        if "string_ids" in faults:
            lead["id"], lead["campaign_id"] = str(lead["id"]), str(lead["campaign_id"])
        if "variables_list" in faults:
            lead["variables"] = [{"key": k, "value": v} for k, v in lead["variables"].items()]
        return lead

    def error_body(self, status: int, message: str) -> dict[str, Any]:
        return {"message": message}

    def throttled(self, retry_after: int) -> Response:
        return self.error(429, "Too Many Attempts.")


def _is_day(value: str) -> bool:
    if not _DAY.fullmatch(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True
