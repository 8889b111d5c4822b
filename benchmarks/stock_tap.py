"""A stock Meltano Singer SDK tap for Teli's list-leads endpoint, written as the SDK docs show.

It is the "what a tap gets by default" comparison: the SDK's defaults throughout (record
type conformance, the default message writer, per-request metrics), plus only what the
endpoint needs: path, auth, query parameters, records path and paginator. The schema is
tap-leads' own Teli schema, so both taps emit the same fields.

Usage: python benchmarks/stock_tap.py --config teli.json, where the config holds api_url,
api_key, org_id and page_size.
"""

from __future__ import annotations

from pathlib import Path

from singer_sdk import RESTStream, SchemaDirectory, StreamSchema, Tap
from singer_sdk import typing as th
from singer_sdk.authenticators import APIKeyAuthenticator
from singer_sdk.pagination import PageNumberPaginator

SCHEMAS_DIR = Path(__file__).resolve().parent.parent / "tap_leads" / "schemas"


class TeliPaginator(PageNumberPaginator):
    """Page numbers, until the body's page reaches its total_pages."""

    def has_more(self, response):
        data = response.json()
        return data["page"] < data["total_pages"]


class TeliLeadsStream(RESTStream):
    name = "teli_leads"
    path = "/v1/organizations/{org_id}/leads"
    records_jsonpath = "$.leads[*]"
    primary_keys = ("unique_id",)
    replication_key = None
    schema = StreamSchema(SchemaDirectory(SCHEMAS_DIR))

    @property
    def url_base(self):
        return self.config["api_url"]

    @property
    def authenticator(self):
        return APIKeyAuthenticator(key="X-API-Key", value=self.config["api_key"], location="header")

    def get_new_paginator(self):
        return TeliPaginator(start_value=1)

    def get_url_params(self, context, next_page_token):
        return {
            "page": next_page_token or 1,
            "page_size": self.config["page_size"],
            "is_admin": "true",
        }


class TapTeliStock(Tap):
    name = "tap-teli-stock"
    config_jsonschema = th.PropertiesList(
        th.Property("api_url", th.StringType, required=True),
        th.Property("api_key", th.StringType, required=True, secret=True),
        th.Property("org_id", th.StringType, required=True),
        th.Property("page_size", th.IntegerType, default=100),
    ).to_dict()

    def discover_streams(self):
        return [TeliLeadsStream(self)]


if __name__ == "__main__":
    TapTeliStock.cli()
