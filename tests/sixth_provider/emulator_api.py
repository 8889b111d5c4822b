"""Orbit in the emulator: GET {api_url}/v2/leads, paged by page and limit, with Teli's
page/total_pages envelope under "leads"."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from emulator.data.common import ProviderWorld, hex_token
from emulator.providers.base import Listing, Page, ProviderAPI, positive_int
from emulator.store import Lead
from emulator.wire import Request, Response

STAGES = ("new", "won")


class OrbitWorld(ProviderWorld):
    provider = "orbit"
    key = "lead_id"

    def credentials(self) -> dict[str, str]:
        return {"api_key": f"ok_{hex_token(self._secrets, 24)}", "workspace": "ws-7a1"}

    def lead(self, created: int, updated: int) -> dict[str, Any]:
        first, last, _ = self.person()
        return {
            "lead_id": f"ol_{hex_token(self.rng, 12)}",
            "name": f"{first} {last}",
            "stage": self.pick(STAGES),
            "modified": _stamp(updated),
        }

    def touch(self, lead: dict[str, Any], when: int) -> None:
        lead["modified"] = _stamp(when)


class OrbitAPI(ProviderAPI):
    name = "orbit"
    api_path = "/orbit"
    unauthorized_message = "unknown key or workspace"

    @classmethod
    def new_world(cls, seed: int | str) -> ProviderWorld:
        return OrbitWorld(seed)

    def route(self, request: Request, path: str) -> dict[str, str] | Response:
        return {} if path == "/v2/leads" else self.error(404, "no such endpoint")

    def authenticate(self, request: Request) -> Response | None:
        key, workspace = self.secrets["api_key"], self.secrets["workspace"]
        if (
            request.headers.get("authorization") != f"Orbit key={key}"
            or request.headers.get("x-orbit-workspace") != workspace
        ):
            return self.error(401, self.unauthorized_message)
        return None

    def parse(self, request: Request, params: dict[str, str]) -> Listing | Response:
        page = positive_int(request.param("page") or "1")
        size = positive_int(request.param("limit") or "25")
        if page is None or size is None or size > 50:
            return self.error(422, "page must be 1 or more and limit 1 to 50")
        stage = request.param("stage") or None
        return Listing(page, size, (stage,))

    def select(self, listing: Listing) -> list[Lead]:
        (stage,) = listing.selection
        return [lead for lead in self.dataset.live if stage is None or lead["stage"] == stage]

    def envelope(self, request: Request, listing: Listing, page: Page) -> dict[str, Any]:
        return {
            "leads": page.rows,
            "page": page.number or 1,
            "total_pages": math.ceil(page.total / page.size),
            "total": page.total,
        }

    def error_body(self, status: int, message: str) -> dict[str, Any]:
        return {"error": message}


def _stamp(t: int) -> str:
    return datetime.fromtimestamp(t / 1_000_000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
