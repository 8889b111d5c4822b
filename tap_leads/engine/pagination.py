"""One envelope per paging style: it reads a page's body once into the page's facts.

An envelope is stateless. It is read in the worker that fetched the page, and tells
the page's rows, the token of the next page (None on the last), and the totals the
provider announces. The scheduler plans from those facts and the walk follows them
(`engine.follow`); neither reads the body again. Each style decides from its own
fields when to stop, never from an empty page.
"""

from __future__ import annotations

import math
import typing as t

from tap_leads.errors import PaginationError

if t.TYPE_CHECKING:
    from tap_leads.engine.page import PageToken


class Facts(t.NamedTuple):
    """What one page's envelope says."""

    rows: list[dict]
    #: The next page's token: a page number or a next-page URL; None on the last page.
    next: PageToken | None
    #: How many leads the whole list holds, when the envelope says.
    total: int | None
    #: How many pages there are, when the envelope says.
    total_pages: int | None


class Envelope:
    """Reads one style's envelope; the subclasses name the style."""

    #: Key of the records list in the envelope.
    records_key: str = "data"

    def __init__(self, provider: str, page_size: int) -> None:
        self.provider = provider
        self.page_size = page_size

    def read(self, body: t.Any, number: int) -> Facts:
        """The facts of page `number`; a missing records list is an error, never empty."""
        envelope = self.unwrap(body)
        rows = envelope.get(self.records_key)
        if not isinstance(rows, list):
            raise PaginationError(
                f"{self.provider} answered page {number} without a "
                f"'{self.records_key}' list, so the page cannot be read."
            )
        return Facts(
            rows,
            self.next_token(envelope, rows, number),
            self.total(envelope),
            self.total_pages(envelope),
        )

    def unwrap(self, body: t.Any) -> dict:
        """The dict that holds the records and the paging fields."""
        if not isinstance(body, dict):
            raise PaginationError(
                f"{self.provider} answered with a JSON {type(body).__name__} instead of "
                "the documented object envelope."
            )
        return body

    def next_token(self, envelope: dict, rows: list, number: int) -> PageToken | None:
        raise NotImplementedError

    def total(self, envelope: dict) -> int | None:
        return None

    def total_pages(self, envelope: dict) -> int | None:
        return None


class TotalPagesEnvelope(Envelope):
    """`page` + `total_pages` in the body; no next link (Teli)."""

    records_key = "leads"

    def next_token(self, envelope: dict, rows: list, number: int) -> PageToken | None:
        current, total_pages = envelope.get("page"), envelope.get("total_pages")
        if isinstance(current, int) and isinstance(total_pages, int):
            return current + 1 if current < total_pages else None
        # Older responses carry no page fields: a short page is the last one.
        if len(rows) < self.page_size:
            return None
        return (current if isinstance(current, int) else number) + 1

    def total(self, envelope: dict) -> int | None:
        return _count(envelope.get("total"))

    def total_pages(self, envelope: dict) -> int | None:
        return _count(envelope.get("total_pages"))


class HasNextPageEnvelope(Envelope):
    """`pagination.hasNextPage`, checked on every page as the docs insist (Nexus ERP)."""

    def next_token(self, envelope: dict, rows: list, number: int) -> PageToken | None:
        pagination = _dict(envelope.get("pagination"))
        if "hasNextPage" not in pagination:
            raise PaginationError(
                f"{self.provider} answered page {number} without "
                "pagination.hasNextPage, so the end of the list cannot be told."
            )
        if pagination["hasNextPage"] is not True:
            return None
        current = pagination.get("page")
        return (current if isinstance(current, int) else number) + 1

    def total(self, envelope: dict) -> int | None:
        return _count(_dict(envelope.get("pagination")).get("total"))

    def total_pages(self, envelope: dict) -> int | None:
        return _count(_dict(envelope.get("pagination")).get("totalPages"))


class LaravelResourceEnvelope(Envelope):
    """Laravel API resource: `links.next` and `meta.last_page` (Flextell)."""

    def next_token(self, envelope: dict, rows: list, number: int) -> PageToken | None:
        links = envelope.get("links")
        if isinstance(links, dict) and links.get("next"):
            return str(links["next"])
        # The provider's guides describe a cursor envelope for other list endpoints.
        meta = envelope.get("meta")
        if isinstance(meta, dict) and meta.get("has_more") and meta.get("next_cursor"):
            return f"?cursor={meta['next_cursor']}"
        return None

    def total(self, envelope: dict) -> int | None:
        return _count(_dict(envelope.get("meta")).get("total"))

    def total_pages(self, envelope: dict) -> int | None:
        return _count(_dict(envelope.get("meta")).get("last_page"))


class LaravelEnvelope(Envelope):
    """Flat Laravel paginator: `next_page_url` and `last_page` (Autocalls)."""

    def next_token(self, envelope: dict, rows: list, number: int) -> PageToken | None:
        next_url = envelope.get("next_page_url")
        return str(next_url) if next_url else None

    def total(self, envelope: dict) -> int | None:
        return _count(envelope.get("total"))

    def total_pages(self, envelope: dict) -> int | None:
        return _count(envelope.get("last_page"))


class DrfEnvelope(Envelope):
    """Django REST framework: `count`, `next`, `results` (Sela)."""

    records_key = "results"

    def unwrap(self, body: t.Any) -> dict:
        envelope = super().unwrap(body)
        # The documented example nests a whole envelope inside `results`.
        results = envelope.get("results")
        if (
            isinstance(results, list)
            and len(results) == 1
            and isinstance(results[0], dict)
            and {"count", "results"} <= results[0].keys()
        ):
            return results[0]
        return envelope

    def next_token(self, envelope: dict, rows: list, number: int) -> PageToken | None:
        next_url = envelope.get("next")
        return str(next_url) if next_url else None

    def total(self, envelope: dict) -> int | None:
        return _count(envelope.get("count"))

    def total_pages(self, envelope: dict) -> int | None:
        count = _count(envelope.get("count"))
        return math.ceil(count / self.page_size) if count is not None else None


def _dict(value: t.Any) -> dict:
    return value if isinstance(value, dict) else {}


def _count(value: t.Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None
