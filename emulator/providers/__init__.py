"""The list-leads endpoint of each provider, keyed by the provider's id."""

from __future__ import annotations

from .autocalls import AutocallsAPI
from .base import ProviderAPI
from .flextell import FlextellAPI
from .nexus_erp import NexusErpAPI
from .sela import SelaAPI
from .teli import TeliAPI

APIS: dict[str, type[ProviderAPI]] = {
    api.name: api for api in (TeliAPI, NexusErpAPI, FlextellAPI, SelaAPI, AutocallsAPI)
}
PROVIDERS: tuple[str, ...] = tuple(APIS)
# Where each provider's api_url points below the emulator's base URL.
API_PATHS = {name: api.api_path for name, api in APIS.items()}

__all__ = ["APIS", "API_PATHS", "PROVIDERS", "ProviderAPI"]
