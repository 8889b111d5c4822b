"""RunSettings: the run's own settings, read once from the config.

Each default is the one the schema declares; a setting that is absent or null takes it,
and a number given as text (what an environment variable gives) is that number. The
checks have run before, so every value here is of its kind.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass, fields

from tap_leads.config.schema import CONFIG_SCHEMA
from tap_leads.values import as_number

#: The default of every top-level setting that has one, from the schema.
DEFAULTS: dict[str, t.Any] = {
    name: prop["default"]
    for name, prop in CONFIG_SCHEMA["properties"].items()
    if prop.get("default") is not None
}


def setting(config: t.Mapping[str, t.Any], name: str) -> t.Any:
    """A top-level setting: its value, or the schema's default when absent or null."""
    value = config.get(name)
    return DEFAULTS.get(name) if value is None else value


@dataclass(frozen=True, slots=True)
class RunSettings:
    """What the run's own settings say, each with its schema default filled in."""

    lookback_window_seconds: float
    max_concurrent_requests: int
    max_rewalks: int
    max_tries: int
    request_timeout: float
    max_retry_wait: float
    progress_interval_seconds: float
    backoff_base_seconds: float
    detect_deletes: bool
    max_deleted_fraction: float
    tombstones: bool

    @classmethod
    def from_config(cls, config: t.Mapping[str, t.Any]) -> RunSettings:
        values: dict[str, t.Any] = {}
        for field in fields(cls):
            value = setting(config, field.name)
            if field.type == "bool":
                values[field.name] = value is True
                continue
            number = as_number(value)
            if number is None:
                raise ValueError(f"{field.name} has no default and is not set")
            values[field.name] = int(number) if field.type == "int" else number
        return cls(**values)
