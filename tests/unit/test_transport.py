"""The transport's GETs (tap_leads/engine/transport.py) against real servers on
127.0.0.1: pages from api_url's host go straight to its pool; redirects, other hosts and
encoded bodies take the pool manager's path, credentials never following to another host."""

from __future__ import annotations

import gzip
import threading
import typing as t
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tap_leads.engine.transport import Transport

Route = t.Callable[[BaseHTTPRequestHandler], tuple[int, dict[str, str], bytes]]


class Server:
    """Answers by path from `routes`; records (path with query, headers) of each request."""

    def __init__(self, routes: dict[str, Route]) -> None:
        self.seen: list[tuple[str, dict[str, str]]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                server.seen.append((self.path, dict(self.headers)))
                status, headers, body = routes[self.path.split("?", 1)[0]](self)
                self.send_response(status)
                for name, value in {**headers, "Content-Length": str(len(body))}.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: t.Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> Server:
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def ok(body: bytes, **headers: str) -> Route:
    return lambda _: (200, headers, body)


def moved(location: str) -> Route:
    return lambda _: (301, {"Location": location}, b"")


CREDENTIALS = {"Authorization": "Bearer secret-1", "X-API-Key": "secret-2", "X-Other": "kept"}


@pytest.fixture
def transport() -> t.Iterator[t.Callable[[str], Transport]]:
    made: list[Transport] = []

    def make(base_url: str) -> Transport:
        made.append(Transport(base_url, pool_size=2, timeout=5, secret_headers=["X-API-Key"]))
        return made[-1]

    yield make
    for each in made:
        each.close()


def test_pages_of_api_urls_host_come_back_whole_with_one_request_each(transport):
    with Server({"/api/leads": ok(b'{"data": [1, 2]}')}) as server:
        tap = transport(server.url + "/api")
        replies = [tap.get(f"{server.url}/api/leads?page={n}&a=b%20c", CREDENTIALS) for n in (1, 2)]
    assert [(r.status, r.body) for r in replies] == [(200, b'{"data": [1, 2]}')] * 2
    assert [path for path, _ in server.seen] == [
        "/api/leads?page=1&a=b%20c",
        "/api/leads?page=2&a=b%20c",
    ]
    assert all(headers["Authorization"] == "Bearer secret-1" for _, headers in server.seen)


def test_an_encoded_body_is_decoded(transport):
    body = b'{"data": ["' + b"x" * 5000 + b'"]}'
    route = ok(gzip.compress(body), **{"Content-Encoding": "gzip"})
    with Server({"/leads": route}) as server:
        reply = transport(server.url).get(server.url + "/leads", {})
    assert reply.body == body


def test_a_redirect_on_the_same_host_is_followed(transport):
    routes = {"/leads": moved("/v2/leads?page=1"), "/v2/leads": ok(b"[]")}
    with Server(routes) as server:
        reply = transport(server.url).get(server.url + "/leads", CREDENTIALS)
    assert (reply.status, reply.body) == (200, b"[]")
    # The first answer is a redirect: the request is sent again through the manager.
    assert [path for path, _ in server.seen] == ["/leads", "/leads", "/v2/leads?page=1"]


def test_credentials_never_follow_a_redirect_to_another_host(transport):
    other = Server({"/leads": ok(b"[1]")})
    with other, Server({"/leads": moved(other.url + "/leads")}) as api:
        reply = transport(api.url).get(api.url + "/leads", CREDENTIALS)
    assert reply.body == b"[1]"
    [(_, headers)] = other.seen
    assert "Authorization" not in headers
    assert "X-API-Key" not in headers
    assert headers["X-Other"] == "kept"


def test_a_url_on_another_host_than_api_url_still_gets_its_answer(transport):
    with Server({"/leads": ok(b"[2]")}) as other:
        reply = transport("http://127.0.0.1:9/api").get(other.url + "/leads", {})
    assert reply.body == b"[2]"
