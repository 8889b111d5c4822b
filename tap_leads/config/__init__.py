"""The tap's settings: the schema users see, and the checks that run before any request.

Owns everything about reading a config: the JSON Schema (`schema`), the checks of the
run's own settings and of each provider block (`checks`, `provider_checks`), and the
one-line messages for files that cannot be read. It may import `providers`, `auth` (for
Flextell's credential checks) and the leaf modules; nothing on the path of a page
imports it, except to read a number.
"""

from tap_leads.config.checks import (
    config_file_problem,
    configured_providers,
    json_object_problem,
    readable_schema_error,
    secret_values,
    validate,
)
from tap_leads.config.schema import CONFIG_SCHEMA

__all__ = [
    "CONFIG_SCHEMA",
    "config_file_problem",
    "configured_providers",
    "json_object_problem",
    "readable_schema_error",
    "secret_values",
    "validate",
]
