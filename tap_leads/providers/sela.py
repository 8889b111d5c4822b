"""Sela: a Django REST Framework API."""

from __future__ import annotations

import re

import singer_sdk.typing as th

from tap_leads.engine.pagination import DrfEnvelope
from tap_leads.providers.spec import Filter, ProviderSpec, Settings, text

_PREFIX = re.compile(r"^token\s+", re.IGNORECASE)


def auth_headers(settings: Settings) -> dict[str, str]:
    # Users paste the key with or without the prefix; send it exactly once.
    key = _PREFIX.sub("", text(settings, "api_key"))
    return {"Authorization": f"Token {key}"}


SPEC = ProviderSpec(
    key="sela",
    label="Sela",
    stream_name="sela_leads",
    primary_keys=("id",),
    replication_key="modified_time",
    credentials={"api_key": 'Sela API key, sent as "Authorization: Token <key>".'},
    secrets=("api_key",),
    api_url="https://api.trysela.com",
    max_page_size=1000,
    default_page_size=100,
    # DRF needs the trailing slash; without it the API redirects or answers 404.
    path="/api/leads/",
    page_param="page",
    page_size_param="page_size",
    envelope=DrfEnvelope,
    auth_headers=auth_headers,
    auth_settings=("api_key",),
    filters=(
        Filter("email", th.StringType, "Only leads with this email."),
        Filter("external_id", th.StringType, "Only leads with this external id."),
        Filter("phone_number", th.StringType, "Only leads with this phone number."),
        Filter("user", th.IntegerType, "Only leads of this Sela user id."),
    ),
)
