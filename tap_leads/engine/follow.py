"""Following a listing's pages by their facts, with the guard against loops and runaways."""

from __future__ import annotations

import math
import typing as t
from urllib.parse import parse_qsl, urlsplit

from tap_leads.errors import PaginationError

if t.TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from tap_leads.engine.page import Page, PageToken


def page_number(token: PageToken) -> int | None:
    """The page number a token asks for, if it can be told."""
    if isinstance(token, int):
        return token
    number = dict(parse_qsl(urlsplit(token).query)).get("page", "")
    return int(number) if number.isdigit() else None


def describe(token: PageToken) -> str:
    return f"page {token}" if isinstance(token, int) else token


class PageGuard:
    """One walk's guard: refuses a next page already read, or one far past the total."""

    #: Extra pages allowed past the announced total, for leads added during the run.
    margin_ratio = 0.1
    margin_pages = 10

    def __init__(self, provider: str) -> None:
        self.provider = provider
        #: The greatest page count announced so far.
        self.announced_pages: int | None = None
        self._followed: set[PageToken] = {1}

    def next_token(self, page: Page) -> PageToken | None:
        """The token of the page after `page`, or None when the listing ends there."""
        if page.total_pages is not None:
            self.announced_pages = max(page.total_pages, self.announced_pages or 0)
        token = page.next
        if token is None:
            return None
        number = page_number(token)
        if token in self._followed or (number is not None and number <= page.number):
            raise PaginationError(
                f"{self.provider} pagination loops: after page {page.number} it points "
                f"back to a page already read ({describe(token)}). Stopping so that "
                "no lead is loaded twice."
            )
        self._check_bound(page.number + 1)
        self._followed.add(token)
        return token

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


def follow(
    take: Callable[[int, PageToken], Page],
    provider: str,
    pin: Callable[[str], object] | None = None,
) -> Iterator[Page]:
    """Every page of a listing in order, taken with `take(number, token)`, until the
    facts say stop. `pin` checks a next-page URL (e.g. that it stays on the configured
    host) even when the page is then asked for by its number."""
    guard = PageGuard(provider)
    page = take(1, 1)
    while True:
        yield page
        token = guard.next_token(page)
        if token is None:
            return
        number = page.number + 1
        if isinstance(token, str):
            if pin is not None:
                pin(token)
            if page_number(token) == number:
                token = number
        page = take(number, token)
