"""Where a provider account lists its leads, and the credentials a request carries."""

from __future__ import annotations

import typing as t
from dataclasses import dataclass, field
from urllib.parse import urlsplit

if t.TYPE_CHECKING:
    from collections.abc import Callable, Mapping


class Auth(t.Protocol):
    """Credentials read at request time, so a refreshed token reaches every request."""

    def headers(self) -> Mapping[str, str]: ...

    def after_unauthorized(self, sent: Mapping[str, str]) -> bool:
        """A 401 answered `sent`; True when newer credentials are worth one more try."""
        ...


@dataclass(frozen=True)
class Endpoint:
    """Where and how one provider account lists its leads."""

    #: The setting prefix errors name, e.g. "teli" or "autocalls.accounts[acme]".
    settings: str
    label: str
    base_url: str
    path: str
    #: Seconds to wait for an answer: the run's request_timeout.
    timeout: float
    #: Filters under the API's names, and the page size.
    params: Mapping[str, t.Any] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    page_param: str = "page"
    #: Settings named when the provider rejects the credentials.
    credential_settings: tuple[str, ...] = ()
    #: Settings named when the provider rejects the request itself.
    request_settings: tuple[str, ...] = ()
    #: Headers that carry the credentials: dropped when a redirect leaves the host.
    secret_headers: tuple[str, ...] = ()
    #: What a 2xx body that is an error envelope says; None when it is not one.
    envelope_error: Callable[[t.Any], str | None] | None = None

    @property
    def url(self) -> str:
        return self.base_url.rstrip("/") + self.path

    @property
    def host(self) -> str:
        return urlsplit(self.base_url).netloc
