"""Teli contacts, with the documented quirks: two id schemes, mixed offsets, optional keys."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from .clock import naive_micro, to_us
from .common import ProviderWorld, hex_token
from .vocabulary import CITIES, INDUSTRIES, NOTES, POSITIONS

LEAD_STATUSES = (None, None, "new", "contacted", "qualified", "callback", "not_interested")
PRIORITIES = (None, None, "low", "medium", "high")
SOURCES = (None, "csv_upload", "csv_upload", "api", "web_form", "zapier")
DEBT_TYPES = ("credit_card", "personal_loan", "medical", "student_loan", "auto_loan")
LENDERS = ("Wells Fargo", "Rocket Mortgage", "Chase", "US Bank", "Quicken Loans")


class TeliWorld(ProviderWorld):
    provider = "teli"
    key = "unique_id"

    def __init__(self, seed: int | str) -> None:
        super().__init__(seed)
        self.org_created = to_us(datetime(2023, 11, 14, 9, 30, tzinfo=UTC))
        self.org = {
            "unique_id": self.bubble_id(self.org_created),
            "id": self.uuid4(),
            "name": "Summit Lending Group",
        }
        self.tenant_id = "summit_lending"
        self.users = [
            {
                "unique_id": self.bubble_id(to_us(datetime(2023, 11, 14 + n, 10, tzinfo=UTC))),
                "id": self.uuid4(),
                "name": " ".join(self.person()[:2]),
            }
            for n in range(5)
        ]
        self.groups = [
            {"unique_id": self.bubble_id(to_us(datetime(2024, 1, 3 + n, tzinfo=UTC))), "name": name}
            for n, name in enumerate(("Refi Q1", "Debt Relief", "HELOC Warm", "Web Leads"))
        ]

    def bubble_id(self, moment: int) -> str:
        """Bubble.io's unique_id: creation epoch milliseconds, "x", 18 random digits."""
        return f"{moment // 1000}x{10**17 + self.bits(60) % (9 * 10**17)}"

    def uuid4(self) -> str:
        h = f"{self.bits(128):032x}"
        variant = "89ab"[int(h[16], 16) & 3]
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{variant}{h[17:20]}-{h[20:]}"

    def credentials(self) -> dict[str, str]:
        return {
            "api_key": "teli_live_" + hex_token(self._secrets, 16),
            "org_id": self.org["unique_id"],
        }

    def organization(self) -> dict[str, Any]:
        """The organisation as GET /v1/organizations lists it. Fields and envelope follow
        https://docs.teli.ai/partner-api/organizations/list (response schema and example):
        registration and SMS fields are null or zero for an organisation that never sent any."""
        created = naive_micro(self.org_created)
        return {
            "unique_id": self.org["unique_id"],
            "id": self.org["id"],
            "name": self.org["name"],
            "organization_name": self.org["name"],
            "tenant_id": self.tenant_id,
            "status": "active",
            "contact_email": None,
            "sms_active": False,
            "teli_sms_number": None,
            "sms_phone_number": None,
            "business_registration_id": None,
            "sms_registration_id": None,
            "sms_registration_uuid": None,
            "sms_registration_status": "not_started",
            "registration_submitted_at": None,
            "registration_approved_at": None,
            "total_sms_outbound": 0,
            "total_sms_inbound": 0,
            "total_mms_outbound": 0,
            "total_mms_inbound": 0,
            "total_voice_seconds": 0,
            "created_at": created,
            "modified_at": created,
            "updated_at": created + "+00:00",
        }

    def group_of(self, lead: dict[str, Any]) -> str | None:
        """The contact group a lead belongs to; membership is not part of the lead itself."""
        slot = int(lead["unique_id"].rpartition("x")[2]) % (len(self.groups) + 1)
        return self.groups[slot]["unique_id"] if slot < len(self.groups) else None

    def lead(self, created: int, updated: int) -> dict[str, Any]:
        chance, pick = self.chance, self.pick
        first, last, email = self.person()
        roll = chance()
        lead: dict[str, Any] = {
            "unique_id": self.bubble_id(created),
            "id": self.uuid4(),
            "phone_number": self.phone(),
            "first_name": first,
            "last_name": last,
            "email": email if roll < 0.7 else ("" if roll < 0.85 else None),
        }
        if chance() < 0.6:
            lead["name"] = f"{first} {last}"
        has_address = chance() < 0.7
        city, state, _, zip_prefix, _ = pick(CITIES)
        lead.update(
            organization_id=self.org["id"],
            user_id=pick(self.users)["id"],
            tenant_id=self.tenant_id,
            do_not_call=chance() < 0.05,
            lead_status=pick(LEAD_STATUSES),
            lead_priority=pick(PRIORITIES),
            lead_source=pick(SOURCES),
            external_id=f"crm_{self.bits(24) + 1_000_000}" if chance() < 0.4 else None,
            notes=pick(NOTES) if chance() < 0.2 else None,
            address_line_1=self.street() if has_address else None,
        )
        if chance() < 0.5:
            lead["address_line_2"] = f"Apt {self.bits(5) + 1}" if chance() < 0.3 else None
        lead.update(
            city=city if has_address else None,
            state=state if has_address else None,
            zip_code=f"{zip_prefix}{self.bits(7) % 100:02d}" if has_address else None,
            country="US" if has_address else None,
        )
        if chance() < 0.4:
            lead.update(
                company_name=self.company(),
                company_position=pick(POSITIONS),
                company_industry=pick(INDUSTRIES),
            )
        lead["created_at"] = naive_micro(created)
        self.touch(lead, updated)
        roll = chance()
        if roll < 0.7:
            lead["Custom Fields"] = self.custom_fields()
        elif roll < 0.8:
            # Fields set through the update endpoint come back flattened, always as strings.
            lead.update(self.custom_fields())
        return lead

    def custom_fields(self) -> dict[str, str]:
        r = self.bits(64)
        fields = {
            "fico_score": str(540 + r % 290),
            "loan_balance": f"{20_000 + (r >> 9) % 880_000}.00",
            "debt_type": DEBT_TYPES[(r >> 30) % len(DEBT_TYPES)],
        }
        if r >> 40 & 1:
            fields["interest_rate"] = f"{2.5 + (r >> 41) % 7000 / 1000:.3f}"
            fields["lender_name"] = LENDERS[(r >> 54) % len(LENDERS)]
        if r >> 58 & 3 == 0:
            fields["total_cc_debt"] = str(1_000 + (r >> 10) % 59_000)
            fields["months_since_mortgage_open"] = str(3 + (r >> 20) % 237)
        return fields

    def touch(self, lead: dict[str, Any], when: int) -> None:
        # Same instant, two spellings: modified_at naive, updated_at with an offset.
        lead["modified_at"] = naive_micro(when)
        lead["updated_at"] = lead["modified_at"] + "+00:00"
