"""What every provider's list endpoint shares: the request pipeline, paging, faults and caching.

A provider subclass supplies its routes, auth, query parsing, selection and envelope; this class
runs them in order, applies the pending faults and keeps rendered bodies of fault-free pages.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any, ClassVar

import orjson

from ..data import ProviderWorld, make_world
from ..faults import Fault, FaultChain, ProviderFaults
from ..store import Dataset, Lead
from ..wire import Request, Response, json_response

ANSWER = frozenset({"answer"})
PAGE_STAGES = frozenset({"rows", "next", "shape", "body"})
FOREIGN_ORIGIN = "https://api.example.org"
_GATEWAY_PAGE = (
    "<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
    "<center><h1>{status} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)
REASONS = {
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Time-out",
}


@dataclass(frozen=True)
class Listing:
    """A validated list request."""

    page: int | None  # None: Teli's unpaged listing, everything in one response
    size: int
    selection: Any  # hashable: which leads, in which order
    options: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class Page:
    """One page of a listing, as an envelope needs it."""

    number: int | None
    size: int
    total: int
    start: int  # index of the page's first lead in the listing
    count: int  # leads on the page, as the paginator counts them
    rows: orjson.Fragment  # the JSON array actually sent
    sent: int  # how many leads that array holds
    has_next: bool
    next_page: int | None = None  # where the next link points
    next_origin: str | None = None  # scheme and host of the next link, when not the request's
    faults: frozenset[str] = frozenset()  # the faults fired on this page, for the envelope


class ProviderAPI(ABC):
    name: ClassVar[str]
    #: Where the provider's api_url points below the emulator's base URL.
    api_path: ClassVar[str]
    unauthorized_message: ClassVar[str]  # the body's message when a key is refused
    row_faults: ClassVar[frozenset[str]] = frozenset()  # faults that reshape() applies to rows
    #: Whether the docs announce a quota on every answer (X-RateLimit-*, see emulator/quota.py).
    announces_quota: ClassVar[bool] = False

    def __init__(self, dataset: Dataset, faults: ProviderFaults | FaultChain) -> None:
        self.dataset = dataset
        self.world = dataset.world
        self.faults = faults
        self.secrets = self.world.credentials()

    @classmethod
    def new_world(cls, seed: int | str) -> ProviderWorld:
        """A seeded world of the provider's leads: its fixed entities and lead generator."""
        return make_world(cls.name, seed)

    # The pipeline

    def handle(self, request: Request, path: str) -> Response:
        routed = self.route(request, path)
        if isinstance(routed, Response):
            return routed
        if request.method != "GET":
            return self.error(405, f"Method {request.method} not allowed.")
        denied = self.authenticate(request)
        if denied is not None:
            return denied
        return self.serve(request, routed)

    def serve(self, request: Request, routed: dict[str, str]) -> Response:
        """The answer to a routed request whose credentials were accepted."""
        listing = self.parse(request, routed)
        if isinstance(listing, Response):
            return listing
        answer = self.faults.take(ANSWER, listing.page)
        if answer:
            return self.fault_response(next(iter(answer.values())))
        return self.list(request, listing)

    def rows(self, listing: Listing) -> list[Lead]:
        """The leads a listing covers, in order; cached until the dataset changes."""
        dataset = self.dataset
        return dataset.view(listing.selection, lambda: dataset.ordered(self.select(listing)))

    def list(self, request: Request, listing: Listing) -> Response:
        dataset = self.dataset
        with dataset.lock:
            rows = self.rows(listing)
            resolved = self.resolve_page(listing, len(rows))
            if isinstance(resolved, Response):
                return resolved
            listing = resolved
            _, stop = _bounds(listing, len(rows))
            fired = self.faults.take(PAGE_STAGES, listing.page, has_next=stop < len(rows))
            if not fired:
                key = (
                    dataset.version,
                    request.path,
                    request.headers.get("host"),
                    request.raw_query,
                )
                body = dataset.cached_body(key)
                if body is None:
                    body = self.serialize(request, listing, rows, fired)
                    dataset.keep_body(key, body)
                dataset.served(listing.page)
                return Response(200, body)
            body = self.serialize(request, listing, rows, fired)
            dataset.served(listing.page)
        truncated = fired.get("truncated_body")
        if truncated is None:
            return Response(200, body)
        if truncated.close:
            return Response(200, body, cut_at=len(body) // 2)
        return Response(200, body[: len(body) // 2])

    def serialize(
        self, request: Request, listing: Listing, rows: list[Lead], fired: dict[str, Fault]
    ) -> bytes:
        start, stop = _bounds(listing, len(rows))
        sent_from = start - listing.size if "repeat_page" in fired else start
        chosen = rows[sent_from : sent_from + stop - start]
        if "duplicate_lead" in fired and start > 0:
            chosen = [rows[start - 1], *chosen]
        faults = frozenset(fired)
        if faults & self.row_faults:
            chosen = [self.reshape(lead, faults) for lead in chosen]
        encoded = [orjson.dumps(lead) for lead in chosen]
        next_origin = None
        if "foreign_next" in fired:
            next_origin = FOREIGN_ORIGIN
        elif "scheme_next" in fired:
            next_origin = "https://" + request.origin.partition("://")[2]
        page = Page(
            number=listing.page,
            size=listing.size,
            total=len(rows),
            start=start,
            count=max(0, min(stop, len(rows)) - start),
            rows=orjson.Fragment(b"[" + b",".join(encoded) + b"]"),
            sent=len(encoded),
            has_next=stop < len(rows),
            next_page=1 if "next_loop" in fired else None,
            next_origin=next_origin,
            faults=faults,
        )
        return orjson.dumps(self.envelope(request, listing, page))

    def fault_response(self, fault: Fault) -> Response:
        if fault.kind == "disconnect":
            return Response(0, drop=True)
        if fault.kind == "unauthorized":
            return self.error(401, self.unauthorized_message)
        if fault.kind == "server_error":
            if fault.html:
                page = _GATEWAY_PAGE.format(status=fault.status, reason=REASONS[fault.status])
                return Response(fault.status, page.encode(), content_type="text/html")
            return self.error(fault.status, REASONS[fault.status])
        if fault.kind == "rate_limit":
            return self.rate_limited(fault)
        if fault.kind == "maintenance_page":
            page = "<html><body><h1>Down for maintenance</h1></body></html>\n"
            return Response(200, page.encode(), content_type="text/html")
        return self.special_fault(fault)

    def rate_limited(self, fault: Fault) -> Response:
        response = self.throttled(fault.retry_after)
        wait = fault.retry_after
        if fault.style == "seconds":
            response.headers.append(("Retry-After", str(wait)))
        elif fault.style == "http-date":
            response.headers.append(("Retry-After", formatdate(time.time() + wait, usegmt=True)))
        response.headers += [("X-RateLimit-Limit", "60"), ("X-RateLimit-Remaining", "0")]
        if fault.style == "reset":
            response.headers.append(("X-RateLimit-Reset", str(int(time.time()) + wait)))
        return response

    # What a provider supplies

    @abstractmethod
    def route(self, request: Request, path: str) -> dict[str, str] | Response:
        """The path parameters of the list endpoint, or the response for any other path."""

    @abstractmethod
    def authenticate(self, request: Request) -> Response | None:
        """None when the credentials are right, else the provider's refusal."""

    @abstractmethod
    def parse(self, request: Request, params: dict[str, str]) -> Listing | Response: ...

    @abstractmethod
    def select(self, listing: Listing) -> list[Lead]:
        """The leads the listing covers, filtered and in the provider's order."""

    @abstractmethod
    def envelope(self, request: Request, listing: Listing, page: Page) -> dict[str, Any]: ...

    @abstractmethod
    def error_body(self, status: int, message: str) -> dict[str, Any]: ...

    def resolve_page(self, listing: Listing, total: int) -> Listing | Response:
        """The listing with its page number settled, once the number of leads is known."""
        return listing

    def reshape(self, lead: Lead, faults: frozenset[str]) -> Lead:
        return lead

    def throttled(self, retry_after: int) -> Response:
        return self.error(429, "Too many requests.")

    def invalid_key(self) -> Response:
        """The refusal of a well-formed credential that the provider does not know."""
        return self.error(401, self.unauthorized_message)

    def special_fault(self, fault: Fault) -> Response:
        raise AssertionError(f"{self.name} cannot answer with {fault.kind}")

    def error(self, status: int, message: str) -> Response:
        return json_response(status, self.error_body(status, message))


def _bounds(listing: Listing, total: int) -> tuple[int, int]:
    """Where the listing's page starts and stops (the stop may lie past the last lead)."""
    if listing.page is None:
        return 0, total
    start = (listing.page - 1) * listing.size
    return start, start + listing.size


def bearer_token(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token if scheme.lower() == "bearer" and token else None


def positive_int(value: str | None) -> int | None:
    """The value as an int >= 1, or None when it is missing or anything else."""
    if value is None or not value.strip().lstrip("+").isdigit():
        return None
    number = int(value)
    return number if number >= 1 else None
