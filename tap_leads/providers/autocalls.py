"""Autocalls: a Laravel paginator, and date filters on the creation date."""

from __future__ import annotations

import singer_sdk.typing as th

from tap_leads.engine.pagination import LaravelEnvelope
from tap_leads.providers.spec import CheckedSettings, Filter, ProviderSpec, bearer
from tap_leads.values import DATE

#: The statuses Autocalls documents for its status filter.
STATUSES = (
    "created",
    "scheduled",
    "processing",
    "completed",
    "rescheduled",
    "reached-max-retries",
    "blacklisted",
)


def checks(settings: CheckedSettings) -> list[str]:
    """The date filters take days, as Autocalls documents them."""
    return [
        f"{settings.where}.{name} is {value!r}: use the YYYY-MM-DD format."
        for name in ("date_from", "date_to")
        if (value := settings.own.get(name)) and not DATE.match(str(value))
    ]


SPEC = ProviderSpec(
    key="autocalls",
    label="Autocalls",
    stream_name="autocalls_leads",
    primary_keys=("id",),
    replication_key="updated_at",
    credentials={"api_key": "Autocalls API token, sent as a Bearer token."},
    secrets=("api_key",),
    api_url="https://app.autocalls.ai/api",
    max_page_size=100,
    default_page_size=100,
    path="/user/leads",
    page_param="page",
    page_size_param="per_page",
    envelope=LaravelEnvelope,
    auth_headers=bearer("api_key"),
    auth_settings=("api_key",),
    checks=checks,
    filters=(
        Filter(
            "status",
            th.StringType,
            "Only leads in this status: " + ", ".join(STATUSES) + ".",
            choices=STATUSES,
        ),
        Filter("campaign_id", th.IntegerType, "Only leads of this campaign."),
        Filter("phone_number", th.StringType, "Only leads whose number contains this."),
        # A user filter, never an incremental shortcut: it filters on the creation date,
        # so it would miss old leads edited since the last run.
        Filter(
            "date_from",
            th.StringType,
            "Only leads CREATED on or after this day (YYYY-MM-DD). Leads created "
            "earlier are never read, even when they change.",
        ),
        Filter(
            "date_to",
            th.StringType,
            "Only leads CREATED on or before this day (YYYY-MM-DD).",
        ),
    ),
)
