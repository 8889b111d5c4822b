"""Each envelope style decides when to stop from its own fields, never from an empty page;
the walk's guard refuses loops and runaways."""

import pytest

from tap_leads.engine.follow import PageGuard, follow, page_number
from tap_leads.engine.page import Page
from tap_leads.engine.pagination import (
    DrfEnvelope,
    HasNextPageEnvelope,
    LaravelEnvelope,
    LaravelResourceEnvelope,
    TotalPagesEnvelope,
)
from tap_leads.errors import PaginationError


def facts(envelope, body, number=1):
    rows, next_token, total, total_pages = envelope.read(body, number)
    return Page(number, rows=rows, next=next_token, total=total, total_pages=total_pages)


def walk(envelope, bodies, guard=None):
    """Read bodies in order; return the tokens asked for after page 1, and whether it ended."""
    guard = guard or PageGuard(envelope.provider)
    tokens = []
    for number, body in enumerate(bodies, start=1):
        token = guard.next_token(facts(envelope, body, number))
        if token is None:
            return tokens, True
        tokens.append(token)
    return tokens, False


def teli(page, total_pages, rows=1):
    return {
        "success": True,
        "count": rows,
        "total": 9,
        "page": page,
        "page_size": 2,
        "total_pages": total_pages,
        "leads": [{"unique_id": str(i)} for i in range(rows)],
    }


def nexus(page, has_next, total_pages=3):
    return {
        "data": [{"id": "a"}],
        "pagination": {
            "page": page,
            "pageSize": 1,
            "total": 3,
            "totalPages": total_pages,
            "hasNextPage": has_next,
            "hasPrevPage": page > 1,
        },
    }


def flextell(page, last_page, next_url):
    return {
        "data": [{"id": page}],
        "links": {"first": "x", "last": "y", "prev": None, "next": next_url},
        "meta": {"current_page": page, "last_page": last_page, "per_page": 1, "total": last_page},
    }


def autocalls(page, last_page, next_url):
    return {
        "current_page": page,
        "data": [{"id": page}],
        "last_page": last_page,
        "next_page_url": next_url,
        "per_page": 1,
        "total": last_page,
    }


def sela(count, next_url, rows=1):
    return {
        "count": count,
        "next": next_url,
        "previous": None,
        "results": [{"id": i} for i in range(rows)],
    }


class TestTotalPages:
    def test_walks_to_the_announced_last_page(self):
        tokens, finished = walk(TotalPagesEnvelope("Teli", 2), [teli(1, 3), teli(2, 3), teli(3, 3)])
        assert tokens == [2, 3]
        assert finished

    def test_single_page(self):
        assert walk(TotalPagesEnvelope("Teli", 2), [teli(1, 1)]) == ([], True)

    def test_empty_result_stops_on_total_pages_zero(self):
        assert walk(TotalPagesEnvelope("Teli", 2), [teli(1, 0, rows=0)]) == ([], True)

    def test_without_page_fields_a_short_page_is_the_last(self):
        body = {"success": True, "count": 1, "total": 1, "leads": [{"unique_id": "1"}]}
        assert walk(TotalPagesEnvelope("Teli", 200), [body]) == ([], True)

    def test_records_key_missing_is_an_error_not_an_empty_page(self):
        envelope = TotalPagesEnvelope("Teli", 2)
        with pytest.raises(PaginationError, match="Teli answered page 1 without a 'leads' list"):
            envelope.read({"success": True}, 1)

    def test_the_facts_of_a_middle_page(self):
        page = facts(TotalPagesEnvelope("Teli", 2), teli(2, 3, rows=2), 2)
        assert (len(page.rows), page.next, page.total, page.total_pages) == (2, 3, 9, 3)


class TestHasNextPage:
    def test_stops_on_has_next_false_even_if_total_pages_said_more(self):
        tokens, finished = walk(
            HasNextPageEnvelope("Nexus ERP", 1), [nexus(1, True), nexus(2, False)]
        )
        assert tokens == [2]
        assert finished

    def test_keeps_going_past_a_stale_total_pages(self):
        tokens, finished = walk(
            HasNextPageEnvelope("Nexus ERP", 1),
            [nexus(1, True, 1), nexus(2, True, 1), nexus(3, False, 1)],
        )
        assert tokens == [2, 3]
        assert finished

    def test_has_next_forever_is_bounded_by_the_announced_total(self):
        bodies = [nexus(n, True, 2) for n in range(1, 30)]
        with pytest.raises(PaginationError, match="page 13 would go past the 2 pages it reported"):
            walk(HasNextPageEnvelope("Nexus ERP", 1), bodies)

    def test_missing_flag_is_an_error(self):
        with pytest.raises(PaginationError, match=r"without pagination\.hasNextPage"):
            walk(HasNextPageEnvelope("Nexus ERP", 1), [{"data": [], "pagination": {}}])

    def test_empty_result(self):
        body = {
            "data": [],
            "pagination": {
                "page": 1,
                "pageSize": 100,
                "total": 0,
                "totalPages": 0,
                "hasNextPage": False,
                "hasPrevPage": False,
            },
        }
        assert walk(HasNextPageEnvelope("Nexus ERP", 100), [body]) == ([], True)


class TestNextUrlStyles:
    def test_laravel_resource_follows_links_next(self):
        bodies = [flextell(1, 2, "http://h/v1/leads?per_page=1&page=2"), flextell(2, 2, None)]
        guard = PageGuard("Flextell")
        tokens, finished = walk(LaravelResourceEnvelope("Flextell", 1), bodies, guard)
        assert tokens == ["http://h/v1/leads?per_page=1&page=2"]
        assert finished
        assert guard.announced_pages == 2
        assert page_number(tokens[0]) == 2

    def test_flat_laravel_follows_next_page_url(self):
        bodies = [autocalls(1, 2, "http://h/user/leads?page=2"), autocalls(2, 2, None)]
        tokens, finished = walk(LaravelEnvelope("Autocalls", 1), bodies)
        assert tokens == ["http://h/user/leads?page=2"]
        assert finished

    def test_drf_single_page_and_page_count_from_count(self):
        guard = PageGuard("Sela")
        assert walk(DrfEnvelope("Sela", 100), [sela(250, None)], guard) == ([], True)
        assert guard.announced_pages == 3

    def test_drf_empty_result(self):
        envelope = DrfEnvelope("Sela", 100)
        assert walk(envelope, [sela(0, None, rows=0)]) == ([], True)
        assert facts(envelope, sela(0, None, rows=0)).rows == []

    def test_drf_unwraps_the_documented_nested_envelope(self):
        inner = sela(1023, "https://api.trysela.com/api/leads/?page=2", rows=2)
        body = {
            "count": 123,
            "next": "http://api.example.org/accounts/?page=4",
            "previous": None,
            "results": [inner],
        }
        page = facts(DrfEnvelope("Sela", 2), body)
        assert [row["id"] for row in page.rows] == [0, 1]
        assert page.next == "https://api.trysela.com/api/leads/?page=2"
        assert (page.total, page.total_pages) == (1023, 512)

    def test_next_url_back_to_an_earlier_page_is_a_loop(self):
        bodies = [
            autocalls(1, 3, "http://h/user/leads?page=2"),
            autocalls(2, 3, "http://h/user/leads?page=1"),
        ]
        with pytest.raises(PaginationError, match="Autocalls pagination loops: after page 2"):
            walk(LaravelEnvelope("Autocalls", 1), bodies)

    def test_next_url_seen_before_is_a_loop(self):
        same = "http://h/v1/leads?cursor=abc"
        bodies = [flextell(1, 3, same), flextell(2, 3, same)]
        with pytest.raises(PaginationError, match="points back to a page already read"):
            walk(LaravelResourceEnvelope("Flextell", 1), bodies)


class CountingEnvelope(TotalPagesEnvelope):
    """Counts how often a body is unwrapped."""

    unwraps = 0

    def unwrap(self, body):
        type(self).unwraps += 1
        return super().unwrap(body)


def test_each_page_is_read_once_by_its_envelope_and_followed_by_its_facts():
    envelope = CountingEnvelope("Teli", 2)
    pages = {n: facts(envelope, teli(n, 5, rows=2), n) for n in range(1, 6)}
    assert CountingEnvelope.unwraps == 5
    taken = []

    def take(number, token):
        taken.append((number, token))
        return pages[number]

    walked = [page.number for page in follow(take, "Teli")]
    assert walked == [1, 2, 3, 4, 5]
    assert taken == [(1, 1), (2, 2), (3, 3), (4, 4), (5, 5)]
    # Following the pages read no body again.
    assert CountingEnvelope.unwraps == 5


def test_a_next_url_that_names_the_next_number_is_taken_by_number_after_pinning():
    pages = {
        1: Page(1, next="http://h/user/leads?page=2", total_pages=2),
        2: Page(2, next=None, total_pages=2),
    }
    pinned, taken = [], []

    def take(number, token):
        taken.append((number, token))
        return pages[number]

    assert [p.number for p in follow(take, "Autocalls", pinned.append)] == [1, 2]
    assert pinned == ["http://h/user/leads?page=2"]
    assert taken == [(1, 1), (2, 2)]
