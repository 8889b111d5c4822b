"""Flextell (Laravel) leads: integer ids, loosely typed is_converted, soft deletes."""

from __future__ import annotations

import base64
from typing import Any

import orjson

from .clock import DATA_END_US, SECOND, parts
from .common import ProviderWorld, alnum_token
from .vocabulary import CITIES, NOTES

STATUSES = (
    {"id": 1, "name": "New", "slug": "new", "color": "#3B82F6", "is_terminal": False},
    {"id": 2, "name": "Contacted", "slug": "contacted", "color": "#F59E0B", "is_terminal": False},
    {"id": 3, "name": "Qualified", "slug": "qualified", "color": "#8B5CF6", "is_terminal": False},
    {"id": 4, "name": "Converted", "slug": "converted", "color": "#10B981", "is_terminal": True},
    {"id": 5, "name": "Lost", "slug": "lost", "color": "#EF4444", "is_terminal": True},
    {"id": 6, "name": "No Answer", "slug": "no-answer", "color": "#6B7280", "is_terminal": False},
)
REFERENCE_SOURCES = (
    {"id": 11, "name": "Website", "external_id": "web"},
    {"id": 12, "name": "Google Ads", "external_id": "gads"},
    {"id": 13, "name": "Facebook Lead Ads", "external_id": "fb_leads"},
    {"id": 14, "name": "Referral", "external_id": None},
    {"id": 15, "name": "HubSpot", "external_id": "hubspot"},
)
COUNTRIES = ((840, "United States"), (124, "Canada"), (826, "United Kingdom"), (484, "Mexico"))
CONTACT_CHANNELS = ("phone", "email", "whatsapp", "sms", None)
CAMPAIGNS = ("spring_promo", "brand_search", "retargeting", "newsletter_oct", "webinar")
MESSAGES = (
    "I would like a callback about pricing.",
    "Do you have any openings this week?",
    "Please send me more information.",
)
# Laravel hands the column back as stored, so the same flag arrives in several spellings.
CONVERTED_SPELLINGS = ("1", True, "true")
NOT_CONVERTED_SPELLINGS = ("0", False)
_DAY = 86_400 * SECOND


class FlextellWorld(ProviderWorld):
    provider = "flextell"
    key = "id"
    resolution_us = SECOND

    def __init__(self, seed: int | str) -> None:
        super().__init__(seed)
        self.users = [{"id": 100 + n, "name": " ".join(self.person()[:2])} for n in range(5)]
        self._next_id = 1

    def credentials(self) -> dict[str, str]:
        secrets = self._secrets
        header = _b64({"typ": "JWT", "alg": "RS256"})
        claims = _b64({"aud": "9", "jti": alnum_token(secrets, 40), "scopes": ["read", "write"]})
        return {
            "access_token": f"{header}.{claims}.{alnum_token(secrets, 86)}",
            "tenant_id": str(secrets.randrange(11, 99)),
        }

    def populate(self, n: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """n live leads and about one in thirty more that were soft-deleted along the way."""
        deleted = n // 30
        live: list[dict[str, Any]] = []
        trashed: list[dict[str, Any]] = []
        for created, updated in self.timeline(n + deleted):
            lead = self.lead(created, updated)
            if len(live) == n or (len(trashed) < deleted and self.chance() < 1 / 30):
                when = min(updated + (1 + self.bits(5)) * _DAY, DATA_END_US)
                self.soft_delete(lead, when)
                trashed.append(lead)
            else:
                live.append(lead)
        return live, trashed

    def lead(self, created: int, updated: int) -> dict[str, Any]:
        chance, pick = self.chance, self.pick
        first, last, email = self.person()
        status = pick(STATUSES)
        converted = status["slug"] == "converted"
        external = chance() < 0.45
        country_id, country_name = pick(COUNTRIES) if chance() < 0.9 else (None, None)
        lead_id = self._next_id
        self._next_id += 1
        if chance() < 0.5:
            city = pick(CITIES)[0].lower().replace(" ", "-")
            page = f"https://www.brightsmile-{city}.com/book?ref=lp{self.bits(3)}"
        else:
            page = None
        return {
            "id": lead_id,
            "first_name": first,
            "last_name": last,
            "full_name": f"{first} {last}",
            "phone_number": self.phone(),
            "email": email if chance() < 0.85 else None,
            "description": pick(NOTES) if chance() < 0.3 else None,
            "message": pick(MESSAGES) if chance() < 0.3 else None,
            "preferred_contact": pick(CONTACT_CHANNELS),
            "source_page_url": page,
            "country_id": country_id,
            "is_converted": pick(CONVERTED_SPELLINGS if converted else NOT_CONVERTED_SPELLINGS),
            "converted_at": stamp((created + updated) // 2) if converted else None,
            "customer_id": 5_000 + self.bits(16) if converted else None,
            "marketing_attribution": self.attribution(),
            "external_id": f"HS-{10**7 + self.bits(26)}" if external else None,
            "external_branch_id": f"BR-{1 + self.bits(8) % 11:02d}" if external else None,
            "external_created_at": stamp(created - (60 + self.bits(12)) * SECOND)
            if external
            else None,
            "last_synced_at": stamp(updated) if external else None,
            "import_source_id": 1 + self.bits(8) % 7 if chance() < 0.3 else None,
            "created_at": stamp(created),
            "updated_at": stamp(updated),
            "deleted_at": None,
            "status": status,
            "reference_source": pick(REFERENCE_SOURCES) if chance() < 0.8 else None,
            "assigned_user": pick(self.users) if chance() < 0.65 else None,
            "country_name": country_name,
        }

    def attribution(self) -> list[Any]:
        r = self.bits(32)
        if r & 1:
            return []
        touch = {
            "utm_source": ("google", "facebook", "newsletter", "bing")[r >> 1 & 3],
            "utm_medium": ("cpc", "social", "email", "cpc")[r >> 3 & 3],
            "utm_campaign": CAMPAIGNS[(r >> 5) % len(CAMPAIGNS)],
        }
        if r >> 20 & 3 == 0:
            touch["gclid"] = f"Cj0KCQ{self.bits(96):024x}"
        return [touch]

    def touch(self, lead: dict[str, Any], when: int) -> None:
        lead["updated_at"] = stamp(when)

    def soft_delete(self, lead: dict[str, Any], when: int) -> None:
        # Eloquent's soft delete writes deleted_at and bumps updated_at in the same statement.
        lead["deleted_at"] = lead["updated_at"] = stamp(when)


def stamp(t: int) -> str:
    """Laravel's default JSON date: UTC, six fractional digits that MySQL leaves at zero."""
    day, hms, _ = parts(t)
    return f"{day}T{hms}.000000Z"


def _b64(claims: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(claims)).rstrip(b"=").decode()
