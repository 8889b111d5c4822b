"""One stream per provider; everything about a provider lives in its spec."""

from __future__ import annotations

import typing as t

from tap_leads.client import LeadsStream
from tap_leads.flextell_auth import flextell_auth
from tap_leads.providers import provider

if t.TYPE_CHECKING:
    from tap_leads.fetch import Auth
    from tap_leads.providers import Account


class TeliLeadsStream(LeadsStream):
    spec = provider("teli")


class NexusErpLeadsStream(LeadsStream):
    spec = provider("nexus_erp")


class FlextellLeadsStream(LeadsStream):
    spec = provider("flextell")

    def auth(self, account: Account) -> Auth:
        # Refreshed tokens reach every page fetch, since the fetcher reads them per request.
        return flextell_auth(
            account.settings,
            key=account.key,
            setting=account.prefix,
            timeout=float(self.config.get("request_timeout") or 60),
            on_new_secret=self._tap.mask_secret,
        )


class SelaLeadsStream(LeadsStream):
    spec = provider("sela")


class AutocallsLeadsStream(LeadsStream):
    spec = provider("autocalls")


STREAM_TYPES: tuple[type[LeadsStream], ...] = (
    TeliLeadsStream,
    NexusErpLeadsStream,
    FlextellLeadsStream,
    SelaLeadsStream,
    AutocallsLeadsStream,
)
