"""A small HTTP server on 127.0.0.1 whose answers a test scripts, recording every request.

It counts the requests it is answering at once (the peak and, per request, how many
others were in flight when it started), so tests can assert how a budget was used.
"""

from __future__ import annotations

import threading
import time
import typing as t
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import orjson


@dataclass
class Answer:
    body: t.Any = None
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    #: Seconds before the headers go out.
    latency: float = 0.0
    #: The body goes out in this many pieces, `interval` seconds apart.
    pieces: int = 1
    interval: float = 0.0


@dataclass
class Seen:
    path: str
    query: dict[str, str]
    started: float
    ended: float = 0.0
    #: Requests being answered when this one arrived, itself included.
    concurrent: int = 0


class ScriptedServer:
    def __init__(self, respond: t.Callable[[Seen], Answer]) -> None:
        self.respond = respond
        self.seen: list[Seen] = []
        self.lock = threading.Lock()
        self.in_flight = 0
        self.peak = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                with server.lock:
                    server.in_flight += 1
                    server.peak = max(server.peak, server.in_flight)
                    seen = Seen(
                        parts.path,
                        dict(parse_qsl(parts.query)),
                        time.monotonic(),
                        concurrent=server.in_flight,
                    )
                    server.seen.append(seen)
                try:
                    answer = server.respond(seen)
                    if answer.latency:
                        time.sleep(answer.latency)
                    body = orjson.dumps(answer.body)
                    self.send_response(answer.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    for name, value in answer.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    step = max(1, -(-len(body) // answer.pieces))
                    for start in range(0, len(body), step):
                        if start and answer.interval:
                            time.sleep(answer.interval)
                        if start + step >= len(body):
                            # Counted off before the last bytes go: once they are out,
                            # the client may send its next request at once.
                            server.done(seen)
                        self.wfile.write(body[start : start + step])
                        self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    pass
                finally:
                    server.done(seen)

            def log_message(self, *args: t.Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def done(self, seen: Seen) -> None:
        with self.lock:
            if not seen.ended:
                self.in_flight -= 1
                seen.ended = time.monotonic()

    def __enter__(self) -> ScriptedServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
