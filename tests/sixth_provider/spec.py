"""Orbit's spec: a workspace-scoped key, its own check, and its own auth."""

from __future__ import annotations

import re
import typing as t
from collections.abc import Mapping

from singer_sdk import typing as th

from tap_leads.engine.pagination import TotalPagesEnvelope
from tap_leads.providers.spec import (
    AuthContext,
    CheckedSettings,
    Filter,
    ProviderSpec,
    Settings,
    text,
)

WORKSPACE = re.compile(r"^ws-[a-z0-9]+$")


class OrbitAuth:
    """Orbit signs each request with the key and the workspace it reads."""

    def __init__(self, api_key: str, workspace: str) -> None:
        self._headers = {"Authorization": f"Orbit key={api_key}", "X-Orbit-Workspace": workspace}

    def headers(self) -> Mapping[str, str]:
        return self._headers

    def after_unauthorized(self, sent: Mapping[str, str]) -> bool:
        return False


def build_auth(settings: Settings, context: AuthContext) -> OrbitAuth:
    return OrbitAuth(text(settings, "api_key"), text(settings, "workspace"))


def checks(settings: CheckedSettings) -> list[str]:
    workspace = settings.own.get("workspace")
    if workspace is not None and not WORKSPACE.match(str(workspace)):
        return [
            f"{settings.where}.workspace is {workspace!r}: an Orbit workspace looks like "
            "ws-4f2a, as the workspace settings page shows it."
        ]
    return []


def auth_headers(settings: Settings) -> dict[str, t.Any]:
    return {"Authorization": f"Orbit key={text(settings, 'api_key')}"}


SPEC = ProviderSpec(
    key="orbit",
    label="Orbit",
    stream_name="orbit_leads",
    primary_keys=("lead_id",),
    replication_key="modified",
    credentials={
        "api_key": "Orbit API key.",
        "workspace": "Orbit workspace, like ws-4f2a.",
    },
    secrets=("api_key",),
    api_url=None,
    max_page_size=50,
    default_page_size=25,
    path="/v2/leads",
    page_size_param="limit",
    envelope=TotalPagesEnvelope,
    auth_headers=auth_headers,
    auth_settings=("api_key", "workspace"),
    filters=(Filter("stage", th.StringType, "Only leads in this stage.", choices=("new", "won")),),
    schemas="tests.sixth_provider",
    checks=checks,
    build_auth=build_auth,
)
