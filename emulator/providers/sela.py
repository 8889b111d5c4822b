"""Sela: GET {api_url}/api/leads/, a Django REST framework PageNumberPagination list."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

from ..data import SelaWorld
from ..store import Lead
from ..wire import Request, Response, json_response
from .base import Listing, Page, ProviderAPI

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
# The placeholders of the documented (buggy) outer envelope.
DOC_COUNT = 123
DOC_NEXT = "http://api.example.org/accounts/?page=4"
DOC_PREVIOUS = "http://api.example.org/accounts/?page=2"


class SelaAPI(ProviderAPI):
    name = "sela"
    api_path = "/sela"
    unauthorized_message = "Invalid token."
    world: SelaWorld
    row_faults = frozenset({"malformed_next_call_time"})

    def reshape(self, lead: Lead, faults: frozenset[str]) -> Lead:
        when = lead.get("next_call_time")
        if "malformed_next_call_time" in faults and when and lead["id"] % 10 == 0:
            return {**lead, "next_call_time": when[1:]}
        return lead

    def route(self, request: Request, path: str) -> dict[str, str] | Response:
        if path == "/api/leads/":
            return {}
        if path == "/api/leads":
            # Django's CommonMiddleware (APPEND_SLASH) answers before any view or auth runs.
            target = request.path + "/" + (f"?{request.raw_query}" if request.raw_query else "")
            headers = [("Location", target)]
            return Response(301, b"", headers, content_type="text/html; charset=utf-8")
        return self.error(404, "Not found.")

    def authenticate(self, request: Request) -> Response | None:
        # rest_framework.authentication.TokenAuthentication, message for message.
        words = request.headers.get("authorization", "").split()
        if not words or words[0].lower() != "token":
            return self.refuse("Authentication credentials were not provided.")
        if len(words) == 1:
            return self.refuse("Invalid token header. No credentials provided.")
        if len(words) > 2:
            return self.refuse("Invalid token header. Token string should not contain spaces.")
        if words[1] != self.secrets["api_key"]:
            return self.refuse(self.unauthorized_message)
        return None

    def invalid_key(self) -> Response:
        return self.refuse(self.unauthorized_message)

    def refuse(self, message: str) -> Response:
        response = self.error(401, message)
        response.headers.append(("WWW-Authenticate", "Token"))
        return response

    def parse(self, request: Request, params: dict[str, str]) -> Listing | Response:
        user = request.param("user") or None
        if user is not None and not user.strip().lstrip("-").isdigit():
            # django-filter reports a bad filter value as form errors keyed by field.
            return json_response(400, {"user": ["Enter a whole number."]})
        raw_page = request.param("page") or "1"
        selection = (
            request.param("email") or None,
            request.param("external_id") or None,
            request.param("phone_number") or None,
            None if user is None else int(user),
        )
        page = int(raw_page) if raw_page.isdigit() else None
        size = _positive_int(request.param("page_size"), DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
        return Listing(page, size, selection, {"page": raw_page})

    def resolve_page(self, listing: Listing, total: int) -> Listing | Response:
        # django.core.paginator.Paginator.validate_number, with DRF's "last" shortcut.
        pages = max(1, math.ceil(total / listing.size))
        raw = listing.options["page"]
        if raw == "last":
            return replace(listing, page=pages)
        try:
            number = int(raw)
        except ValueError:
            return self.error(404, "Invalid page.")
        if not 1 <= number <= pages:
            return self.error(404, "Invalid page.")
        return replace(listing, page=number)

    def select(self, listing: Listing) -> list[Lead]:
        email, external_id, phone, user = listing.selection
        return [
            lead
            for lead in self.dataset.live
            if (email is None or lead["email"] == email)
            and (external_id is None or lead["external_id"] == external_id)
            and (phone is None or lead["phone_number"] == phone)
            and (user is None or self.world.user_of(lead) == user)
        ]

    def envelope(self, request: Request, listing: Listing, page: Page) -> dict[str, Any]:
        number = page.number or 1

        def link(origin: str, target: int | None) -> str:
            # DRF builds it from request.build_absolute_uri(), so the whole query survives.
            here = f"{origin}{request.path}?{request.raw_query}"
            return _replace_query_param(here, "page", target)

        following = None
        if page.has_next:
            following = link(page.next_origin or request.origin, page.next_page or number + 1)
        # Page 1 is linked without a page parameter at all.
        previous = None if number == 1 else link(request.origin, number - 1 if number > 2 else None)
        real = {"count": page.total, "next": following, "previous": previous, "results": page.rows}
        if "nested_envelope" in page.faults:
            # The documented response: a whole envelope inside results, placeholders outside.
            return {
                "count": DOC_COUNT,
                "next": DOC_NEXT,
                "previous": DOC_PREVIOUS,
                "results": [real],
            }
        return real

    def error_body(self, status: int, message: str) -> dict[str, Any]:
        return {"detail": message}

    def throttled(self, retry_after: int) -> Response:
        unit = "second" if retry_after == 1 else "seconds"
        return self.error(
            429, f"Request was throttled. Expected available in {retry_after} {unit}."
        )


def _positive_int(value: str | None, default: int, cutoff: int) -> int:
    """rest_framework.pagination._positive_int(strict=True), falling back to the default."""
    try:
        number = int(value or "")
    except ValueError:
        return default
    return min(number, cutoff) if number > 0 else default


def _replace_query_param(url: str, key: str, value: int | None) -> str:
    """rest_framework.utils.urls.replace_query_param / remove_query_param (value None)."""
    scheme, netloc, path, query, fragment = urlsplit(url)
    params = parse_qs(query, keep_blank_values=True)
    params.pop(key, None)
    if value is not None:
        params[key] = [str(value)]
    return urlunsplit(
        (scheme, netloc, path, urlencode(sorted(params.items()), doseq=True), fragment)
    )
