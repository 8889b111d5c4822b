"""Sela (Django REST framework) leads: Pacific offsets, free-form metadata."""

from __future__ import annotations

from typing import Any

from .clock import HOUR, SECOND, pacific_micro, us_style_minutes
from .common import ProviderWorld, hex_token, weighted
from .vocabulary import CITIES, TIMEZONES

STATUSES = (
    "NEW",
    "OPEN",
    "CALLBACK_TO_TRANSFER",
    "CLOSED",
    "CLOSED_INCOMPLETE",
    "LOST",
    "SCHEDULE_COMPLETED",
    "OUT_OF_TERRITORY",
    "UNKNOWN",
)
STATUS_WEIGHTS = (15, 30, 8, 15, 6, 10, 10, 3, 3)
_STATUS_TABLE = weighted(STATUSES, STATUS_WEIGHTS)
CLOSED_REASONS = ("NOT_INTERESTED", "WRONG_NUMBER", "DUPLICATE", "TRANSFERRED", "NO_RESPONSE")
CALL_REASONS = ("FIRST_CALL", "CALLBACK", "RETRY", "REENGAGEMENT", "SCHEDULED")
SOURCES = ("USDALoans.com", "Zillow", "LendingTree", "Facebook", "Website", "Referral")
_SCHEDULABLE = ("NEW", "OPEN", "CALLBACK_TO_TRANSFER")


class SelaWorld(ProviderWorld):
    provider = "sela"
    key = "id"

    def __init__(self, seed: int | str) -> None:
        super().__init__(seed)
        self.lead_types = (117, 118, 123)
        self.users = (3, 8, 15)
        self._next_id = 28_000 + self.bits(10)

    def start_ids_at(self, first_id: int) -> None:
        """Number this account's leads from the same id as another's, so that their ids collide
        as two Sela accounts' ids do."""
        self._next_id = first_id

    @property
    def next_id(self) -> int:
        return self._next_id

    def credentials(self) -> dict[str, str]:
        return {"api_key": hex_token(self._secrets, 40)}

    def user_of(self, lead: dict[str, Any]) -> int:
        """The Sela user a lead is routed to; the list payload does not carry it."""
        return self.users[lead["id"] % len(self.users)]

    def lead(self, created: int, updated: int) -> dict[str, Any]:
        chance, pick = self.chance, self.pick
        first, last, email = self.person()
        city, state, state_name, zip_prefix, offset = pick(CITIES)
        mobile = self.phone()
        email = email if chance() < 0.93 else None
        source = pick(SOURCES)
        external_id = f"crm_{100_000 + self.bits(20) % 900_000}" if chance() < 0.6 else None
        status = pick(_STATUS_TABLE)
        metadata: dict[str, Any] = {
            "phone_number": mobile,
            "email": email or "",
            "first_name": first,
            "last_name": last,
            "timezone": TIMEZONES[offset],
            "created_at": us_style_minutes(created),
        }
        if chance() < 0.4:
            metadata.update(
                property_address=self.street(),
                property_city=city,
                property_state=state_name,
                property_zip=f"{zip_prefix}{self.bits(7) % 100:02d}",
            )
        if chance() < 0.7:
            metadata.update(address=self.street(), city=city, state=state_name)
            metadata["zip"] = f"{zip_prefix}{self.bits(7) % 100:02d}"
        metadata["lead_source"] = source
        if external_id:
            metadata["external_id"] = external_id
        if chance() < 0.2:
            metadata["loan_amount"] = str((90 + self.bits(10) % 560) * 1000)
        reengagements = (0, 0, 0, 0, 1, 2, 0, 0)[self.bits(3)]
        lead_id = self._next_id
        self._next_id += (1, 1, 1, 2, 1, 1, 3, 1)[self.bits(3)]
        return {
            "id": lead_id,
            "email": email,
            "phone_number": mobile,
            "metadata": metadata,
            "modified_time": pacific_micro(updated),
            "created_time": pacific_micro(created),
            "status": status,
            "status_reason": pick(CLOSED_REASONS) if status.startswith("CLOSED") else None,
            "lead_source": source,
            "lead_type": pick(self.lead_types),
            "next_call_time": self.next_call_time(status, updated),
            "next_call_time_reason": pick(CALL_REASONS) if status in ("NEW", "OPEN") else None,
            "external_id": external_id,
            "us_state": state,
            "received_time": pacific_micro(created - 5_000 - self.bits(20)),
            "reengagements_count": reengagements,
            "last_reengagement_time": pacific_micro(updated - (1 + self.bits(8)) * HOUR)
            if reengagements
            else None,
            "call_schedule_start_time": pacific_micro(created + (60 + self.bits(11)) * SECOND)
            if chance() < 0.5
            else None,
            "sms_dnc": chance() < 0.04,
            "call_dnc": chance() < 0.03,
        }

    def next_call_time(self, status: str, updated: int) -> str | None:
        roll = self.chance()
        if roll < 0.02:
            # Where the docs' example has lost the year's first digit; served whole unless
            # the malformed_next_call_time fault is on (emulator/faults.py).
            return pacific_micro(updated + 24 * HOUR)
        if status not in _SCHEDULABLE or roll > 0.7:
            return None
        return pacific_micro(updated + (300 + self.bits(20) % 600_000) * SECOND)

    def touch(self, lead: dict[str, Any], when: int) -> None:
        lead["modified_time"] = pacific_micro(when)
