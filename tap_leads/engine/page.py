"""A fetched page and the token that asks for it: what the fetcher, the paginators, the
scheduler and the walks all share, so that none of them imports another for it."""

from __future__ import annotations

import typing as t

#: An int asks for that page number; a str is a next-page URL given by the provider.
PageToken = int | str


class Page(t.NamedTuple):
    """One fetched page: its body is read once, where it was fetched, into these facts."""

    number: int
    #: The parsed body until its envelope is read (then None: nothing reads it twice).
    body: t.Any = None
    #: The page's records, shaped where the page was fetched.
    rows: t.Sequence[dict] = ()
    #: The next page's token (a number or a next-page URL); None on the last page.
    next: PageToken | None = None
    #: How many leads the whole list holds, and how many pages, when the envelope says.
    total: int | None = None
    total_pages: int | None = None
    #: What shaping could not keep (a records.ShapeReport), merged when the page is emitted.
    shaping: t.Any = None
    #: Retries it took to fetch the page.
    retries: int = 0
