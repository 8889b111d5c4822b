"""Building blocks shared by the per-provider generators: people, places, phones, ids."""

from __future__ import annotations

import math
import random
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar, TypeVar

from .clock import DATA_END_US, DATA_START_US
from .vocabulary import (
    AREA_CODES,
    COMPANY_SUFFIXES,
    COMPANY_WORDS,
    EMAIL_DOMAINS,
    FIRST_NAMES,
    LAST_NAMES,
    STREET_KINDS,
    STREETS,
)

T = TypeVar("T")

_EMAIL_LOCALS = [
    f"{first}.{last}".lower().replace("'", "").replace("ü", "u")
    for first in FIRST_NAMES
    for last in LAST_NAMES
]
_MEAN_EDIT_US = 30 * 86_400 * 1_000_000


class ProviderWorld(ABC):
    """One provider's account: its fixed entities (org, users, campaigns...) and its leads.

    Generation is the start-up cost of every test and benchmark, so the per-lead code draws
    raw bits and C-level floats rather than going through random.choice/randrange.
    """

    provider: ClassVar[str]
    key: ClassVar[str]  # the primary key field of a lead
    # The finest step, in microseconds, that the provider's replication key can express.
    resolution_us: ClassVar[int] = 1

    def __init__(self, seed: int | str) -> None:
        self.seed = seed
        self.rng = random.Random(f"{self.provider}:{seed}")
        self.bits = self.rng.getrandbits
        self.chance = self.rng.random
        self._secrets = random.Random(f"credentials:{self.provider}:{seed}")

    def pick(self, options: Sequence[T]) -> T:
        return options[self.bits(32) % len(options)]

    def populate(self, n: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The seeded dataset: n listed leads, and the soft-deleted ones where the API has any."""
        return [self.lead(created, updated) for created, updated in self.timeline(n)], []

    def fresh(self, n: int, start: int) -> list[dict[str, Any]]:
        """n leads created (and last updated) from `start` on, one resolution step apart."""
        step = self.resolution_us
        return [self.lead(start + i * step, start + i * step) for i in range(n)]

    def timeline(self, n: int) -> list[tuple[int, int]]:
        """n (created, updated) pairs in epoch microseconds, in creation order.

        About a quarter of the leads were never edited; the others were edited after an
        exponentially distributed delay (mean 30 days), never past the end of the data window.
        """
        bits, chance = self.bits, self.chance
        span = DATA_END_US - DATA_START_US
        starts = sorted(DATA_START_US + bits(52) % span for _ in range(n))
        pairs = []
        for created in starts:
            if chance() < 0.25:
                pairs.append((created, created))
                continue
            edit = 1_000_000 + int(-math.log(1.0 - chance()) * _MEAN_EDIT_US)
            if created + edit >= DATA_END_US:
                # Spread late edits over what is left of the window rather than piling them
                # on its last instant: the greatest replication key must stay unique.
                edit = int((DATA_END_US - created) * chance())
            pairs.append((created, created + edit))
        return pairs

    def person(self) -> tuple[str, str, str]:
        """First name, last name and a plausible personal email address."""
        r = self.bits(32)
        i, j = r % len(FIRST_NAMES), (r >> 6) % len(LAST_NAMES)
        first, last, local = FIRST_NAMES[i], LAST_NAMES[j], _EMAIL_LOCALS[i * len(LAST_NAMES) + j]
        suffix = (r >> 12) & 127
        domain = EMAIL_DOMAINS[(r >> 19) & 7]
        email = f"{local}{suffix}@{domain}" if suffix < 50 else f"{local}@{domain}"
        return first, last, email

    def phone(self) -> str:
        r = self.bits(40)
        return f"+1{AREA_CODES[r % len(AREA_CODES)]}{2_000_000 + (r >> 8) % 8_000_000}"

    def company(self) -> str:
        return f"{self.pick(COMPANY_WORDS)} {self.pick(COMPANY_SUFFIXES)}"

    def street(self) -> str:
        r = self.bits(32)
        return f"{1 + r % 9998} {STREETS[(r >> 14) % len(STREETS)]} {STREET_KINDS[r >> 29]}"

    @abstractmethod
    def credentials(self) -> dict[str, str]: ...

    @abstractmethod
    def lead(self, created: int, updated: int) -> dict[str, Any]:
        """One lead, created and last updated at these epoch microseconds."""

    @abstractmethod
    def touch(self, lead: dict[str, Any], when: int) -> None:
        """Set the lead's replication key (and its companions) to `when`, in wire format."""

    def soft_delete(self, lead: dict[str, Any], when: int) -> None:
        raise ValueError(f"{self.provider} has no soft delete; only flextell lists trashed leads")


def weighted(options: Sequence[T], weights: Sequence[int]) -> list[T]:
    """A table to pick() from, holding each option as many times as its weight."""
    return [option for option, weight in zip(options, weights, strict=True) for _ in range(weight)]


def hex_token(rng: random.Random, length: int) -> str:
    return f"{rng.getrandbits(length * 4):0{length}x}"


def alnum_token(rng: random.Random, length: int) -> str:
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    return "".join(rng.choice(alphabet) for _ in range(length))
