"""Deterministic, seeded lead data in each provider's own wire format."""

from __future__ import annotations

from typing import Any

from .autocalls import AutocallsWorld
from .clock import DATA_END, DATA_START
from .common import ProviderWorld
from .flextell import FlextellWorld
from .nexus_erp import NexusErpWorld
from .sela import SelaWorld
from .teli import TeliWorld

WORLDS: dict[str, type[ProviderWorld]] = {
    world.provider: world
    for world in (TeliWorld, NexusErpWorld, FlextellWorld, SelaWorld, AutocallsWorld)
}


def make_world(provider: str, seed: int | str) -> ProviderWorld:
    try:
        return WORLDS[provider](seed)
    except KeyError:
        raise ValueError(f"unknown provider {provider!r}; expected one of {list(WORLDS)}") from None


def generate_leads(provider: str, n: int, seed: int) -> list[dict[str, Any]]:
    """The n leads the provider lists for this seed (Flextell's soft-deleted ones excluded)."""
    return make_world(provider, seed).populate(n)[0]


__all__ = [
    "DATA_END",
    "DATA_START",
    "WORLDS",
    "AutocallsWorld",
    "FlextellWorld",
    "NexusErpWorld",
    "ProviderWorld",
    "SelaWorld",
    "TeliWorld",
    "generate_leads",
    "make_world",
]
