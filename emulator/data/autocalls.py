"""Autocalls leads: naive second-precision stamps (a few ISO ones), nested secondary contacts."""

from __future__ import annotations

from typing import Any

from .clock import DAY, SECOND, parts
from .common import ProviderWorld, alnum_token, weighted

STATUSES = (
    "created",
    "scheduled",
    "processing",
    "completed",
    "rescheduled",
    "reached-max-retries",
    "blacklisted",
)
STATUS_WEIGHTS = (20, 15, 3, 40, 10, 10, 2)
_STATUS_TABLE = weighted(STATUSES, STATUS_WEIGHTS)
CAMPAIGNS = (
    {"id": 12, "name": "Solar Q1 outreach"},
    {"id": 15, "name": "Appointment reminders"},
    {"id": 21, "name": "Reactivation - dormant customers"},
    {"id": 27, "name": "Webinar follow-up"},
    {"id": 34, "name": "Insurance renewals"},
)
# How many secondary contacts a lead has: mostly none, sometimes one or two.
_SECONDARY_COUNTS = (0,) * 85 + (1,) * 12 + (2,) * 3


class AutocallsWorld(ProviderWorld):
    provider = "autocalls"
    key = "id"
    resolution_us = SECOND

    def __init__(self, seed: int | str) -> None:
        super().__init__(seed)
        # Leads and their secondary contacts draw ids from one sequence.
        self._next_id = 1

    def credentials(self) -> dict[str, str]:
        secrets = self._secrets
        return {"api_key": f"{secrets.randrange(2, 400)}|{alnum_token(secrets, 40)}"}

    def take_id(self) -> int:
        self._next_id += 1
        return self._next_id - 1

    def lead(self, created: int, updated: int) -> dict[str, Any]:
        chance = self.chance
        first, last, email = self.person()
        variables: dict[str, Any] = {"customer_name": f"{first} {last}"}
        if chance() < 0.8:
            variables["email"] = email
        if chance() < 0.3:
            variables["company"] = self.company()
        if chance() < 0.2:
            variables["appointment_date"] = parts(created + (1 + self.bits(4)) * DAY)[0]
        campaign = self.pick(CAMPAIGNS)
        # A few rows carry the ISO spelling that older API versions returned.
        spell = iso_stamp if chance() < 0.02 else stamp
        lead_id = self.take_id()
        return {
            "id": lead_id,
            "campaign_id": campaign["id"],
            "phone_number": self.phone(),
            "variables": variables,
            "status": self.pick(_STATUS_TABLE),
            "created_at": spell(created),
            "updated_at": spell(updated),
            "campaign": campaign,
            "secondary_contacts": [
                self.secondary(created, last) for _ in range(self.pick(_SECONDARY_COUNTS))
            ],
        }

    def secondary(self, created: int, last: str) -> dict[str, Any]:
        first, _, email = self.person()
        return {
            "id": self.take_id(),
            "phone_number": self.phone(),
            "variables": {"customer_name": f"{first} {last} Secondary", "email": email},
            "status": self.pick(("created", "completed", "scheduled")),
            "created_at": stamp(created),
            "updated_at": stamp(created + self.bits(16) * SECOND),
        }

    def touch(self, lead: dict[str, Any], when: int) -> None:
        spell = iso_stamp if "T" in lead["updated_at"] else stamp
        lead["updated_at"] = spell(when)


def stamp(t: int) -> str:
    day, hms, _ = parts(t)
    return f"{day} {hms}"


def iso_stamp(t: int) -> str:
    day, hms, _ = parts(t)
    return f"{day}T{hms}.000000Z"
