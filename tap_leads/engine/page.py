"""A fetched page and the token that asks for it: what the fetcher, the paginators, the
scheduler and the walks all share, so that none of them imports another for it."""

from __future__ import annotations

import typing as t

#: An int asks for that page number; a str is a next-page URL given by the provider.
PageToken = int | str


class Page(t.NamedTuple):
    """One fetched page, its body parsed once and shared by everything downstream."""

    number: int
    url: str
    body: t.Any
    #: The page's records, shaped where the page was fetched.
    rows: t.Sequence[dict] = ()
    #: What shaping could not keep (a records.ShapeReport), merged when the page is emitted.
    shaping: t.Any = None
    #: Retries, and how many of them were throttled (429), it took to fetch the page.
    retries: int = 0
    throttled: int = 0
