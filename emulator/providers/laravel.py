"""Laravel's paginator and validator output, shared by Flextell and Autocalls."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlencode

from ..wire import Request, Response, json_response

PREVIOUS_LABEL = "&laquo; Previous"
NEXT_LABEL = "Next &raquo;"
ON_EACH_SIDE = 3


def last_page(total: int, per_page: int) -> int:
    return max(math.ceil(total / per_page), 1)


def current_page(request: Request) -> int:
    """Paginator::resolveCurrentPage: anything but an integer >= 1 means page 1."""
    value = (request.param("page") or "").strip()
    try:
        number = int(value)
    except ValueError:
        return 1
    return number if number >= 1 else 1


def url_with_query(path: str, query: list[tuple[str, str]], page: int) -> str:
    """LengthAwarePaginator::url after withQueryString(): the request's query, page replaced
    in place (or appended), repeated keys collapsed to their last value, RFC 3986 encoded."""
    params = dict(query)
    params["page"] = str(page)
    return f"{path}?{urlencode(params, quote_via=quote, safe='')}"


def link_collection(
    current: int, last: int, url: Callable[[int], str], previous: str | None, next_: str | None
) -> list[dict[str, Any]]:
    """LengthAwarePaginator::linkCollection with UrlWindow's sliding window of pages."""
    links: list[dict[str, Any]] = [{"url": previous, "label": PREVIOUS_LABEL, "active": False}]
    for element in _elements(current, last):
        if element is None:
            links.append({"url": None, "label": "...", "active": False})
            continue
        for number in element:
            links.append({"url": url(number), "label": str(number), "active": number == current})
    links.append({"url": next_, "label": NEXT_LABEL, "active": False})
    return links


def _elements(current: int, last: int) -> list[range | None]:
    """UrlWindow::get; None marks the "..." between the blocks of page numbers."""
    window = ON_EACH_SIDE + 4
    if last < ON_EACH_SIDE * 2 + 8:
        return [range(1, last + 1)]
    start, finish = range(1, 3), range(last - 1, last + 1)
    if current <= window:
        return [range(1, window + ON_EACH_SIDE + 1), None, finish]
    if current > last - window:
        return [start, None, range(last - (window + ON_EACH_SIDE - 1), last + 1)]
    return [start, None, range(current - ON_EACH_SIDE, current + ON_EACH_SIDE + 1), None, finish]


def validation_error(errors: dict[str, list[str]]) -> Response:
    """The 422 body of a failed FormRequest."""
    messages = [message for field_messages in errors.values() for message in field_messages]
    summary = messages[0]
    if len(messages) > 1:
        more = len(messages) - 1
        summary += f" (and {more} more error{'s' if more > 1 else ''})"
    return json_response(422, {"message": summary, "errors": errors})


def check_per_page(request: Request, default: int) -> int | dict[str, list[str]]:
    """The per_page value, or the validator's errors for it ('integer' and 'between:1,100')."""
    value = request.param("per_page")
    if value is None or value == "":
        return default
    try:
        number = int(value.strip())
    except ValueError:
        return {"per_page": ["The per page field must be an integer."]}
    if not 1 <= number <= 100:
        return {"per_page": ["The per page field must be between 1 and 100."]}
    return number
