"""Switchable misbehaviour, per provider.

A fault fires on the next `times` matching requests (None: on every one), optionally only on
requests for one page number, then disappears. Faults are consumed in the order they were added.

    faults = emu.faults("sela")
    faults.rate_limit(retry_after=2, style="http-date", times=2)
    faults.server_error(502, page=3)
    faults.nested_envelope(times=None)
    faults.latency_ms = 25
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, fields
from typing import Any, Literal

from .data import WORLDS

RateLimitStyle = Literal["seconds", "http-date", "reset"]

EVERYONE = frozenset(WORLDS)
NEXT_LINK_PROVIDERS = frozenset({"flextell", "sela", "autocalls"})

# kind -> (stage, providers it applies to)
# answer: replaces the whole response; rows: changes which leads a page holds;
# next: changes the next-page link; shape: changes the envelope or the rows' types;
# body: damages the serialized body on the wire.
KINDS: dict[str, tuple[str, frozenset[str]]] = {
    "rate_limit": ("answer", EVERYONE),
    "server_error": ("answer", EVERYONE),
    "maintenance_page": ("answer", EVERYONE),
    "unauthorized": ("answer", EVERYONE),
    "disconnect": ("answer", EVERYONE),
    "success_false": ("answer", frozenset({"teli"})),
    "repeat_page": ("rows", EVERYONE),
    "duplicate_lead": ("rows", EVERYONE),
    "next_loop": ("next", NEXT_LINK_PROVIDERS),
    "foreign_next": ("next", NEXT_LINK_PROVIDERS),
    "scheme_next": ("next", NEXT_LINK_PROVIDERS),
    "nested_envelope": ("shape", frozenset({"sela"})),
    "malformed_next_call_time": ("shape", frozenset({"sela"})),
    "legacy_count": ("shape", frozenset({"teli"})),
    "string_ids": ("shape", frozenset({"autocalls"})),
    "variables_list": ("shape", frozenset({"autocalls"})),
    "truncated_body": ("body", EVERYONE),
}

ALIASES = {"http_next": "scheme_next"}


@dataclass
class Fault:
    kind: str
    times: int | None = 1
    page: int | None = None
    status: int = 503  # server_error: 500, 502, 503 or 504
    html: bool = False  # server_error: a proxy's HTML page instead of the provider's JSON
    retry_after: int = 1  # rate_limit: seconds until the client may retry
    style: RateLimitStyle = "seconds"  # rate_limit: how the wait is announced
    close: bool = False  # truncated_body: close the connection before Content-Length bytes
    fired: int = field(default=0, compare=False)

    @property
    def stage(self) -> str:
        return KINDS[self.kind][0]

    def matches(self, page: int | None, has_next: bool) -> bool:
        if self.page is not None and self.page != page:
            return False
        if self.stage == "rows":
            return page is not None and page >= 2
        if self.stage == "next":
            return has_next
        return True


OPTION_NAMES = frozenset(f.name for f in fields(Fault)) - {"kind", "fired"}


class ProviderFaults:
    """The pending faults and the added latency of one provider; safe to use from any thread."""

    def __init__(self, provider: str) -> None:
        self.provider = provider
        self.latency_ms = 0.0
        self._lock = threading.Lock()
        self._pending: list[Fault] = []

    def add(self, kind: str, **options: Any) -> Fault:
        """The generic form of the methods below, as used by the HTTP control surface."""
        kind = ALIASES.get(kind, kind)
        if kind not in KINDS:
            raise ValueError(f"unknown fault {kind!r}; expected one of {sorted(KINDS)}")
        if self.provider not in KINDS[kind][1]:
            raise ValueError(f"{kind} does not apply to {self.provider}")
        unknown = set(options) - OPTION_NAMES
        if unknown:
            raise ValueError(f"unknown fault options {sorted(unknown)}")
        fault = Fault(kind, **options)
        if fault.kind == "server_error" and fault.status not in (500, 502, 503, 504):
            raise ValueError("server_error status must be 500, 502, 503 or 504")
        if fault.style not in ("seconds", "http-date", "reset"):
            raise ValueError("rate_limit style must be seconds, http-date or reset")
        with self._lock:
            self._pending.append(fault)
        return fault

    # Whole-response faults

    def rate_limit(
        self,
        retry_after: int = 1,
        style: RateLimitStyle = "seconds",
        *,
        times: int | None = 1,
        page: int | None = None,
    ) -> Fault:
        """429. style "seconds": Retry-After: <n>; "http-date": Retry-After: <HTTP-date>;
        "reset": no Retry-After, only X-RateLimit-Reset: <epoch seconds> and its companions."""
        return self.add("rate_limit", retry_after=retry_after, style=style, times=times, page=page)

    def server_error(
        self,
        status: int = 503,
        *,
        html: bool = False,
        times: int | None = 1,
        page: int | None = None,
    ) -> Fault:
        return self.add("server_error", status=status, html=html, times=times, page=page)

    def maintenance_page(self, *, times: int | None = 1, page: int | None = None) -> Fault:
        """An HTML page answered with 200, as a proxy or a maintenance page does."""
        return self.add("maintenance_page", times=times, page=page)

    def unauthorized(self, *, times: int | None = 1, page: int | None = None) -> Fault:
        """401 with the provider's own body, whatever credentials were sent."""
        return self.add("unauthorized", times=times, page=page)

    def disconnect(self, *, times: int | None = 1, page: int | None = None) -> Fault:
        """Close the connection without sending any response."""
        return self.add("disconnect", times=times, page=page)

    def success_false(self, *, times: int | None = 1, page: int | None = None) -> Fault:
        """Teli: 200 with {"success": false, "error": ...}."""
        return self.add("success_false", times=times, page=page)

    # Page-content faults (page: the requested page that misbehaves; by default any page >= 2)

    def repeat_page(self, *, times: int | None = 1, page: int | None = None) -> Fault:
        """Page N+1 holds the rows of page N; the envelope still reports N+1."""
        return self.add("repeat_page", times=times, page=page)

    def duplicate_lead(self, *, times: int | None = 1, page: int | None = None) -> Fault:
        """Page N+1 starts with the last lead of page N as an extra row; totals unchanged."""
        return self.add("duplicate_lead", times=times, page=page)

    # Next-link faults (page: the page whose next link is wrong; by default any page with a next)

    def next_loop(self, *, times: int | None = 1, page: int | None = None) -> Fault:
        """The next link points back to page 1."""
        return self.add("next_loop", times=times, page=page)

    def foreign_next(self, *, times: int | None = 1, page: int | None = None) -> Fault:
        """The next link points at https://api.example.org with the right path and query."""
        return self.add("foreign_next", times=times, page=page)

    def scheme_next(self, *, times: int | None = 1, page: int | None = None) -> Fault:
        """The next link has the right host and port but the other scheme, as when a server
        behind a TLS proxy builds its links from the proxy's http://. The emulator itself speaks
        plain HTTP, so here the wrong scheme is https://, which a client can only survive by
        pinning the scheme (and host) to its configured base URL."""
        return self.add("scheme_next", times=times, page=page)

    http_next = scheme_next

    # Shape faults

    def nested_envelope(self, *, times: int | None = 1, page: int | None = None) -> Fault:
        """Sela: the documented bug, a whole paginated envelope inside results[0]."""
        return self.add("nested_envelope", times=times, page=page)

    def malformed_next_call_time(self, *, times: int | None = 1, page: int | None = None) -> Fault:
        """The docs' example: next_call_time's year loses its first digit
        ("025-02-28T15:09:03.122515-08:00"), on every lead of the page whose id ends in 0."""
        return self.add("malformed_next_call_time", times=times, page=page)

    def legacy_count(self, *, times: int | None = 1, page: int | None = None) -> Fault:
        """Teli: count holds the total, as the older docs described it."""
        return self.add("legacy_count", times=times, page=page)

    def string_ids(self, *, times: int | None = 1, page: int | None = None) -> Fault:
        """Autocalls: "id" and "campaign_id" as strings, as the older docs showed."""
        return self.add("string_ids", times=times, page=page)

    def variables_list(self, *, times: int | None = 1, page: int | None = None) -> Fault:
        """Autocalls: variables as a list of {"key", "value"} objects."""
        return self.add("variables_list", times=times, page=page)

    def truncated_body(
        self, *, close: bool = False, times: int | None = 1, page: int | None = None
    ) -> Fault:
        """A 200 whose JSON stops halfway. close=False: Content-Length matches the cut body;
        close=True: Content-Length announces the whole body and the connection closes early."""
        return self.add("truncated_body", close=close, times=times, page=page)

    # Bookkeeping

    @property
    def pending(self) -> list[Fault]:
        with self._lock:
            return list(self._pending)

    def clear(self) -> None:
        with self._lock:
            self._pending.clear()
        self.latency_ms = 0.0

    def take(
        self,
        stages: frozenset[str],
        page: int | None,
        has_next: bool = False,
        skip: frozenset[str] = frozenset(),
    ) -> dict[str, Fault]:
        """Consume the faults of these stages that fire on this request, at most one per kind,
        and one in all for the "answer" stage (a request gets one response); none of the kinds
        in `skip`, which have fired already."""
        if not self._pending:
            return {}
        fired: dict[str, Fault] = {}
        answered = False
        with self._lock:
            for fault in list(self._pending):
                if fault.stage not in stages or fault.kind in fired or fault.kind in skip:
                    continue
                if (fault.stage == "answer" and answered) or not fault.matches(page, has_next):
                    continue
                answered = answered or fault.stage == "answer"
                fired[fault.kind] = fault
                fault.fired += 1
                if fault.times is not None and fault.fired >= fault.times:
                    self._pending.remove(fault)
        return fired


class FaultChain:
    """What one account's requests draw from: the account's own faults first, then the
    provider's, which every account of the provider shares."""

    def __init__(self, own: ProviderFaults, shared: ProviderFaults) -> None:
        self.own = own
        self.shared = shared

    @property
    def provider(self) -> str:
        return self.shared.provider

    @property
    def latency_ms(self) -> float:
        return self.own.latency_ms + self.shared.latency_ms

    def take(
        self, stages: frozenset[str], page: int | None, has_next: bool = False
    ) -> dict[str, Fault]:
        fired = self.own.take(stages, page, has_next)
        if any(fault.stage == "answer" for fault in fired.values()):
            stages = stages - {"answer"}
        return {**self.shared.take(stages, page, has_next, skip=frozenset(fired)), **fired}
