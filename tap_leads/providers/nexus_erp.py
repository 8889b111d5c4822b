"""Nexus ERP: self-hosted, so there is no default host."""

from __future__ import annotations

import singer_sdk.typing as th

from tap_leads.engine.pagination import HasNextPageEnvelope
from tap_leads.providers.spec import Filter, ProviderSpec, bearer

#: The statuses Nexus ERP documents for its status filter.
STATUSES = ("NOT_CONTACTED", "CONTACTED", "QUALIFIED", "CONVERTED", "LOST")

SPEC = ProviderSpec(
    key="nexus_erp",
    label="Nexus ERP",
    stream_name="nexus_erp_leads",
    primary_keys=("id",),
    replication_key="updatedAt",
    credentials={"api_key": "OrgApiKey (sk_…), sent as a Bearer token."},
    secrets=("api_key",),
    api_url=None,
    max_page_size=100,
    default_page_size=100,
    path="/api/v1/leads",
    page_param="page",
    page_size_param="pageSize",
    envelope=HasNextPageEnvelope,
    auth_headers=bearer("api_key"),
    auth_settings=("api_key",),
    filters=(
        Filter(
            "status",
            th.StringType,
            "Only leads in this status: " + ", ".join(STATUSES) + ".",
            choices=STATUSES,
        ),
        Filter("search", th.StringType, "Case-insensitive match on name, email, phone, company."),
        Filter(
            "assigned_to_id",
            th.StringType,
            'Only leads of this OrgMember id, or "unassigned". Sent as assignedToId.',
            param="assignedToId",
        ),
    ),
)
