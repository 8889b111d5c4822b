"""One paginator per envelope style, named for the style.

Each decides from its envelope when to stop, never from an empty page. They also
report how many pages the envelope announces, so that the stream can fetch the
remaining pages concurrently, and map a next-page token to a page number.
"""

from __future__ import annotations

import math
import typing as t
from urllib.parse import parse_qsl, urlsplit

from singer_sdk.pagination import BaseAPIPaginator

from tap_leads.engine.page import Page, PageToken
from tap_leads.errors import PaginationError


class EnvelopePaginator(BaseAPIPaginator[PageToken]):
    """Shared guards: loops, page bounds and the records list."""

    #: Key of the records list in the envelope.
    records_key: str = "data"
    #: Extra pages allowed past the announced total, for leads added during the run.
    margin_ratio = 0.1
    margin_pages = 10

    def __init__(self, provider: str, page_size: int) -> None:
        super().__init__(start_value=1)
        self.provider = provider
        self.page_size = page_size
        self.announced_pages: int | None = None
        self._followed: set[PageToken] = {1}

    def envelope(self, body: t.Any) -> dict:
        """The dict that holds the records and the paging fields."""
        if not isinstance(body, dict):
            raise PaginationError(
                f"{self.provider} answered with a JSON {type(body).__name__} instead of "
                "the documented object envelope."
            )
        return body

    def records(self, page: Page) -> list[dict]:
        """The page's records; a missing list is an error, never an empty page."""
        rows = self.envelope(page.body).get(self.records_key)
        if not isinstance(rows, list):
            raise PaginationError(
                f"{self.provider} answered page {page.number} without a "
                f"'{self.records_key}' list, so the page cannot be read."
            )
        return rows

    def announced_total_pages(self, envelope: dict) -> int | None:
        """How many pages the envelope says there are, when it says."""
        return None

    def announced_total(self, envelope: dict) -> int | None:
        """How many leads the envelope says the whole list holds, when it says."""
        return None

    def plan(self, page: Page) -> tuple[int | None, bool]:
        """How many pages the envelope announces, and whether its pages count up from 1."""
        announced = self.announced_total_pages(self.envelope(page.body))
        numbered = self.has_more(page) and self.page_number(self.get_next(page)) == 2
        return announced, numbered

    def planned_pages(self, page: Page) -> int | None:
        """The greatest page count announced so far."""
        announced = self.announced_total_pages(self.envelope(page.body))
        if announced is not None and announced >= 0:
            self.announced_pages = max(announced, self.announced_pages or 0)
        return self.announced_pages

    def page_number(self, token: PageToken) -> int | None:
        """The page number a token asks for, if it can be told."""
        if isinstance(token, int):
            return token
        number = dict(parse_qsl(urlsplit(token).query)).get("page", "")
        return int(number) if number.isdigit() else None

    def advance(self, response: Page) -> None:  # type: ignore[override]
        """Advance, refusing loops and runs far past the announced page count."""
        page = response
        self.planned_pages(page)
        self._page_count += 1
        if not self.has_more(page):
            self._finished = True
            return
        token = self.get_next(page)
        if token is None:
            self._finished = True
            return
        number = self.page_number(token)
        if token in self._followed or (number is not None and number <= page.number):
            raise PaginationError(
                f"{self.provider} pagination loops: after page {page.number} it points "
                f"back to a page already read ({self.describe(token)}). Stopping so that "
                "no lead is loaded twice."
            )
        self._check_bound(page.number + 1)
        self._followed.add(token)
        self._value = token

    def _check_bound(self, next_number: int) -> None:
        if self.announced_pages is None:
            return
        bound = self.announced_pages + max(
            self.margin_pages, math.ceil(self.announced_pages * self.margin_ratio)
        )
        if next_number > bound:
            raise PaginationError(
                f"{self.provider} kept announcing more pages: page {next_number} would go "
                f"past the {self.announced_pages} pages it reported, beyond the safety margin."
            )

    @staticmethod
    def describe(token: PageToken) -> str:
        return f"page {token}" if isinstance(token, int) else token


class TotalPagesPaginator(EnvelopePaginator):
    """`page` + `total_pages` in the body; no next link (Teli)."""

    records_key = "leads"

    def announced_total_pages(self, envelope: dict) -> int | None:
        total_pages = envelope.get("total_pages")
        return total_pages if isinstance(total_pages, int) else None

    def announced_total(self, envelope: dict) -> int | None:
        return _count(envelope.get("total"))

    def has_more(self, response: Page) -> bool:  # type: ignore[override]
        envelope = self.envelope(response.body)
        current, total_pages = envelope.get("page"), envelope.get("total_pages")
        if isinstance(current, int) and isinstance(total_pages, int):
            return current < total_pages
        # Older responses carry no page fields: a short page is the last one.
        return len(self.records(response)) >= self.page_size

    def get_next(self, response: Page) -> int:  # type: ignore[override]
        current = self.envelope(response.body).get("page")
        return (current if isinstance(current, int) else response.number) + 1


class HasNextPagePaginator(EnvelopePaginator):
    """`pagination.hasNextPage`, checked on every page as the docs insist (Nexus ERP)."""

    def _pagination(self, envelope: dict) -> dict:
        pagination = envelope.get("pagination")
        return pagination if isinstance(pagination, dict) else {}

    def announced_total_pages(self, envelope: dict) -> int | None:
        total_pages = self._pagination(envelope).get("totalPages")
        return total_pages if isinstance(total_pages, int) else None

    def announced_total(self, envelope: dict) -> int | None:
        return _count(self._pagination(envelope).get("total"))

    def has_more(self, response: Page) -> bool:  # type: ignore[override]
        pagination = self._pagination(self.envelope(response.body))
        if "hasNextPage" not in pagination:
            raise PaginationError(
                f"{self.provider} answered page {response.number} without "
                "pagination.hasNextPage, so the end of the list cannot be told."
            )
        return pagination["hasNextPage"] is True

    def get_next(self, response: Page) -> int:  # type: ignore[override]
        current = self._pagination(self.envelope(response.body)).get("page")
        return (current if isinstance(current, int) else response.number) + 1


class NextUrlPaginator(EnvelopePaginator):
    """A next-page URL in the body; null on the last page."""

    def next_url(self, envelope: dict) -> str | None:
        raise NotImplementedError

    def has_more(self, response: Page) -> bool:  # type: ignore[override]
        return bool(self.next_url(self.envelope(response.body)))

    def get_next(self, response: Page) -> str | None:  # type: ignore[override]
        return self.next_url(self.envelope(response.body))


class LaravelResourcePaginator(NextUrlPaginator):
    """Laravel API resource: `links.next` and `meta.last_page` (Flextell)."""

    def next_url(self, envelope: dict) -> str | None:
        links = envelope.get("links")
        if isinstance(links, dict) and links.get("next"):
            return str(links["next"])
        # The provider's guides describe a cursor envelope for other list endpoints.
        meta = envelope.get("meta")
        if isinstance(meta, dict) and meta.get("has_more") and meta.get("next_cursor"):
            return f"?cursor={meta['next_cursor']}"
        return None

    def announced_total_pages(self, envelope: dict) -> int | None:
        meta = envelope.get("meta")
        last_page = meta.get("last_page") if isinstance(meta, dict) else None
        return last_page if isinstance(last_page, int) else None

    def announced_total(self, envelope: dict) -> int | None:
        meta = envelope.get("meta")
        return _count(meta.get("total")) if isinstance(meta, dict) else None


class LaravelPaginator(NextUrlPaginator):
    """Flat Laravel paginator: `next_page_url` and `last_page` (Autocalls)."""

    def next_url(self, envelope: dict) -> str | None:
        next_url = envelope.get("next_page_url")
        return str(next_url) if next_url else None

    def announced_total_pages(self, envelope: dict) -> int | None:
        last_page = envelope.get("last_page")
        return last_page if isinstance(last_page, int) else None

    def announced_total(self, envelope: dict) -> int | None:
        return _count(envelope.get("total"))


class DrfPaginator(NextUrlPaginator):
    """Django REST framework: `count`, `next`, `results` (Sela)."""

    records_key = "results"

    def envelope(self, body: t.Any) -> dict:
        envelope = super().envelope(body)
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

    def next_url(self, envelope: dict) -> str | None:
        next_url = envelope.get("next")
        return str(next_url) if next_url else None

    def announced_total_pages(self, envelope: dict) -> int | None:
        count = envelope.get("count")
        return math.ceil(count / self.page_size) if isinstance(count, int) else None

    def announced_total(self, envelope: dict) -> int | None:
        return _count(envelope.get("count"))


def _count(value: t.Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None
