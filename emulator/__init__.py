"""A local stand-in for the list-leads APIs of Teli, Nexus ERP, Flextell, Sela and Autocalls."""

from .data import generate_leads
from .faults import Fault, ProviderFaults
from .providers import API_PATHS, PROVIDERS
from .server import LeadsEmulator, RecordedRequest

# The fault API: emu.faults(provider) returns the provider's ProviderFaults.
Faults = ProviderFaults

__all__ = [
    "API_PATHS",
    "PROVIDERS",
    "Fault",
    "Faults",
    "LeadsEmulator",
    "ProviderFaults",
    "RecordedRequest",
    "generate_leads",
]
