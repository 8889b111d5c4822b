"""Nexus ERP leads: ObjectId-style ids, normalised phones and emails, millisecond UTC stamps."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from .clock import HOUR, SECOND, parts, to_us
from .common import ProviderWorld, alnum_token, hex_token, weighted
from .vocabulary import NOTES

STATUSES = ("NOT_CONTACTED", "CONTACTED", "QUALIFIED", "CONVERTED", "LOST")
STATUS_WEIGHTS = (40, 25, 15, 10, 10)
SOURCES = ("website", "referral", "cold_call", "linkedin", "trade_show", "partner", None)
_STATUS_TABLE = weighted(STATUSES, STATUS_WEIGHTS)
_QUARTER_HOUR = 900 * SECOND


class NexusErpWorld(ProviderWorld):
    provider = "nexus_erp"
    key = "id"
    resolution_us = 1_000

    def __init__(self, seed: int | str) -> None:
        super().__init__(seed)
        self._process = hex_token(self.rng, 10)
        self._counter = self.bits(20)
        founded = to_us(datetime(2023, 9, 1, tzinfo=UTC))
        self.members = [self.object_id(founded + n * 24 * HOUR) for n in range(6)]
        self.clients = [self.object_id(founded + (30 + n) * 24 * HOUR) for n in range(24)]

    def object_id(self, moment: int) -> str:
        """A MongoDB ObjectId: creation seconds, a per-process value, a counter."""
        self._counter = (self._counter + 1) & 0xFFFFFF
        return f"{moment // SECOND:08x}{self._process}{self._counter:06x}"

    def credentials(self) -> dict[str, str]:
        secrets = self._secrets
        return {"api_key": f"sk_{hex_token(secrets, 8)}_{alnum_token(secrets, 32)}"}

    def lead(self, created: int, updated: int) -> dict[str, Any]:
        chance, pick = self.chance, self.pick
        first, last, email = self.person()
        firm = self.company() if chance() < 0.55 else None
        r = self.bits(16)
        phones = [self.phone() for _ in range((0, 1, 1, 1, 1, 1, 2, 2)[r & 7])]
        emails = [email] if r & 0x70 else []
        if r & 0x380 == 0x380:
            emails.append(self.person()[2])
        status = pick(_STATUS_TABLE)
        next_call = None
        if status in ("NOT_CONTACTED", "CONTACTED", "QUALIFIED") and chance() < 0.6:
            slot = updated + (1 + self.bits(16) % 500) * HOUR
            next_call = stamp(slot - slot % _QUARTER_HOUR)
        return {
            "id": self.object_id(created),
            "name": f"{firm} - {first} {last}" if firm and chance() < 0.6 else f"{first} {last}",
            "phones": phones,
            "emails": emails,
            "primaryPhone": phones[0] if phones else None,
            "primaryEmail": emails[0] if emails else None,
            "contactId": self.object_id(created - (1 + self.bits(10)) * SECOND),
            "company": firm,
            "source": pick(SOURCES),
            "status": status,
            "notes": pick(NOTES) if chance() < 0.25 else None,
            "nextCallAt": next_call,
            "createdAt": stamp(created),
            "updatedAt": stamp(updated),
            "assignedToId": pick(self.members) if chance() < 0.7 else None,
            "clientId": pick(self.clients) if chance() < 0.2 else None,
        }

    def touch(self, lead: dict[str, Any], when: int) -> None:
        lead["updatedAt"] = stamp(when)


def stamp(t: int) -> str:
    """JavaScript's Date.toISOString(): UTC, milliseconds, Z."""
    day, hms, micro = parts(t)
    return f"{day}T{hms}.{micro // 1000:03d}Z"
