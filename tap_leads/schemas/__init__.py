"""One JSON Schema per stream, as the provider documents its leads, and the account field
of the accounts form. A leaf: it imports nothing of the package."""

from __future__ import annotations

import json
from importlib import resources

#: The field that names the account in every record of the accounts form.
ACCOUNT_FIELD = "account"
#: The field of a tombstone: the lead with this key was deleted at this time.
DELETED_AT_FIELD = "_sdc_deleted_at"
#: The stream that reports leads which left their list.
DELETED_STREAM = "deleted_leads"


def load_schema(
    stream_name: str,
    *,
    accounts: bool = False,
    tombstones: bool = False,
    package: str = "tap_leads.schemas",
) -> dict:
    """The stream's JSON Schema, <stream_name>.json in the package; with the account field
    first in the accounts form, and _sdc_deleted_at when tombstones are sent."""
    schema = json.loads(resources.files(package).joinpath(f"{stream_name}.json").read_text())
    if accounts:
        schema["properties"] = {
            ACCOUNT_FIELD: {
                "type": ["string"],
                "description": "The name of the account (in the provider's `accounts` "
                "setting) the lead was read from.",
            },
            **schema["properties"],
        }
    if tombstones:
        schema["properties"][DELETED_AT_FIELD] = {
            "type": ["string", "null"],
            "format": "date-time",
            "description": "Set on a tombstone: the lead with this key was deleted then.",
        }
    return schema
