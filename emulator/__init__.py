"""A local stand-in for the list-leads APIs of Teli, Nexus ERP, Flextell, Sela and Autocalls."""

from .accounts import DEFAULT_ACCOUNT
from .data import generate_leads
from .faults import Fault, ProviderFaults
from .providers import API_PATHS, PROVIDERS
from .ratelimit import RateLimit
from .requestlog import RecordedRequest
from .server import LeadsEmulator
from .store import ScheduledMutation

# The fault API: emu.faults(provider) returns the provider's ProviderFaults.
Faults = ProviderFaults

__all__ = [
    "API_PATHS",
    "DEFAULT_ACCOUNT",
    "PROVIDERS",
    "Fault",
    "Faults",
    "LeadsEmulator",
    "ProviderFaults",
    "RateLimit",
    "RecordedRequest",
    "ScheduledMutation",
    "generate_leads",
]
