"""The tap with Orbit beside the five providers: `python -m tests.sixth_provider.tap`."""

from __future__ import annotations

from tap_leads.providers import PROVIDERS
from tap_leads.tap import TapLeads
from tests.sixth_provider.spec import SPEC

TapWithOrbit = TapLeads.with_providers(*PROVIDERS, SPEC)

if __name__ == "__main__":
    TapWithOrbit.cli()
