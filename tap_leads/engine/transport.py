"""HTTP GETs through urllib3's connection pool.

requests (which uses urllib3 underneath) spends about 1.5 ms of CPU per request on
session merging, proxy look-ups in the environment, cookies and hooks: more than
parsing a page of 100 leads. The tap's requests are all simple GETs, so they go
straight to the pool; proxies and CA bundle are read from the environment once.

`request_timeout` bounds the whole answer, headers and body: a body that trickles in,
each piece within the socket's timeout, is cut once the whole answer took too long.
"""

from __future__ import annotations

import os
import time
import typing as t
from dataclasses import dataclass
from urllib.request import getproxies

import certifi
import urllib3

if t.TYPE_CHECKING:
    from collections.abc import Mapping

#: Credentials must not follow a redirect to another host; urllib3 drops only these
#: standard ones by default, and the endpoint names its own.
_CREDENTIAL_HEADERS = frozenset({"Authorization", "Proxy-Authorization", "Cookie"})
#: The most read from the socket at once while a body arrives.
_READ_SIZE = 256 * 1024


def _proxy_for(base_url: str) -> str | None:
    """The proxy the environment names for this URL, as requests reads it (no_proxy with
    CIDR ranges included); requests is imported only when some proxy is set."""
    if not getproxies():
        return None
    from requests.utils import get_environ_proxies  # noqa: PLC0415

    return get_environ_proxies(base_url).get(base_url.split(":", 1)[0])


def _origin(url: str) -> str:
    """scheme://host[:port] of a URL, as written."""
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0].split('?', 1)[0]}"


class ResponseTimeout(urllib3.exceptions.TimeoutError):
    """The whole answer (headers and body) took longer than request_timeout."""


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    headers: Mapping[str, str]
    body: bytes
    url: str


class Transport:
    """A pool of connections to one API host."""

    def __init__(
        self,
        base_url: str,
        *,
        pool_size: int,
        timeout: float,
        secret_headers: t.Iterable[str] = (),
    ) -> None:
        proxy = _proxy_for(base_url)
        ca_bundle = (
            os.environ.get("REQUESTS_CA_BUNDLE")
            or os.environ.get("CURL_CA_BUNDLE")
            or certifi.where()
        )
        options: dict[str, t.Any] = {
            "maxsize": pool_size,
            "cert_reqs": "CERT_REQUIRED",
            "ca_certs": ca_bundle,
        }
        self.pool: urllib3.PoolManager = (
            urllib3.ProxyManager(proxy, **options) if proxy else urllib3.PoolManager(**options)
        )
        # Pages come from api_url's host: straight from its connection pool, without the
        # manager's parsing of each URL and choice of pool (about a sixth of a request's
        # CPU). Through a proxy, and for other hosts, the manager does it all.
        self._origin = _origin(base_url)
        self._host = None if proxy else self.pool.connection_from_url(base_url)
        self.seconds = timeout
        self.timeout = urllib3.Timeout(connect=timeout, read=timeout)
        # No retries here: the stream's retry policy decides. Redirects are followed.
        self.retries = urllib3.Retry(
            total=None,
            connect=0,
            read=0,
            status=0,
            other=0,
            redirect=5,
            remove_headers_on_redirect=_CREDENTIAL_HEADERS | set(secret_headers),
        )

    def get(self, url: str, headers: Mapping[str, str]) -> Reply:
        """GET the URL; urllib3's exceptions are left for the caller to classify."""
        started = time.perf_counter()
        try:
            response = self._same_host(url, headers)
            if response is None:
                response = self.pool.request(
                    "GET",
                    url,
                    headers=dict(headers),
                    timeout=self.timeout,
                    retries=self.retries,
                    preload_content=False,
                )
        except urllib3.exceptions.MaxRetryError as exc:
            raise (exc.reason or exc) from exc
        body = self._read_body(response, started + self.seconds)
        return Reply(
            status=response.status,
            headers=response.headers,
            body=body,
            url=response.geturl() or url,
        )

    def _read_body(self, response: urllib3.BaseHTTPResponse, deadline: float) -> bytes:
        """The body, read piece by piece until the deadline for the whole answer."""
        connection = response.connection
        sock = getattr(connection, "sock", None)
        chunks: list[bytes] = []
        decode = "content-encoding" in response.headers
        try:
            while True:
                left = deadline - time.perf_counter()
                if left <= 0:
                    raise ResponseTimeout(
                        f"the answer took longer than request_timeout ({self.seconds:g} s)"
                    )
                if sock is not None:
                    # Each wait for more bytes ends at the deadline, not a full timeout later.
                    sock.settimeout(left)
                # Undecoded unless the server encoded it: urllib3 then hands the bytes on
                # without copying them through its decoding buffer.
                chunk = response.read1(_READ_SIZE, decode_content=decode)
                if not chunk:
                    break
                chunks.append(chunk)
        except BaseException:
            # A half-read connection cannot be reused.
            response.close()
            response.release_conn()
            raise
        response.release_conn()
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    def _same_host(self, url: str, headers: Mapping[str, str]) -> urllib3.BaseHTTPResponse | None:
        """The answer from api_url's own pool; None (nothing sent, or a redirect
        released) when the manager must take the request, redirects included."""
        host = self._host
        if host is None or not url.startswith(self._origin):
            return None
        path = url[len(self._origin) :]
        if path[:1] not in ("/", "?"):
            return None
        response = host.urlopen(
            "GET",
            path if path[:1] == "/" else "/" + path,
            headers=dict(headers),
            timeout=self.timeout,
            retries=self.retries,
            redirect=False,
            preload_content=False,
        )
        if response.get_redirect_location():
            # Redirects (rare) go through the manager, which drops credentials on a
            # change of host: the request is sent again from the start.
            response.drain_conn()
            response.release_conn()
            return None
        return response

    def close(self) -> None:
        self._host = None
        self.pool.clear()
