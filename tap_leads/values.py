"""How a setting's value reads, the one copy of each test: text, numbers (JSON numbers or
numeric text, as environment variables give them), URLs, and the name of a JSON kind."""

from __future__ import annotations

import re
import typing as t
from decimal import Decimal
from urllib.parse import urlsplit

_WHOLE = re.compile(r"^\s*-?\d+\s*$")
#: The JSON kind of a Python value, as messages name it.
JSON_KINDS = {list: "array", str: "string", int: "number", float: "number", bool: "boolean"}
#: YYYY-MM-DD.
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def is_text(value: t.Any) -> bool:
    """Set to something: a string that is not blank, or a number written as one."""
    return (
        isinstance(value, (str, int)) and not isinstance(value, bool) and bool(str(value).strip())
    )


def blank(value: t.Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def as_number(value: t.Any) -> float | None:
    """A number, or numeric text, as a float; None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float, Decimal)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def as_whole_number(value: t.Any) -> int | None:
    """A whole number, or a string of digits, as an int; None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and _WHOLE.match(value):
        return int(value)
    return None


def has_line_break(value: t.Any) -> bool:
    """A line break or tab inside a pasted value (around it, it is stripped)."""
    return any(ch in str(value).strip() for ch in "\r\n\t")


def is_http_url(value: t.Any) -> bool:
    parts = urlsplit(str(value).strip())
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def a_kind(value: t.Any) -> str:
    """What a JSON value is, as a sentence says it: "a string", "an object", "null"."""
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "an object"
    return f"a {JSON_KINDS.get(type(value), 'value')}"


def shown(value: t.Any) -> str:
    """A value as a message quotes it: text in quotes, a number as the config wrote it."""
    return str(value) if isinstance(value, Decimal) else repr(value)


def schema_types(schema: t.Mapping[str, t.Any]) -> set[str]:
    """The JSON types a schema allows: its "type", a string or a list."""
    declared = schema.get("type")
    if declared is None:
        return set()
    return {declared} if isinstance(declared, str) else set(declared)
