"""Numbers and booleans given as text, read as what they say; anything else in their place
is a type problem, reported naming the setting and what it got.

Environment variables (and Meltano's settings from them) give every value as text, so
`teli.page_size: "50"` is the page size 50, and `max_tries: "eight"` is a type problem,
not a range problem.
"""

from __future__ import annotations

import typing as t

from tap_leads.values import as_number, as_whole_number, schema_types, shown

_BOOLEANS = {"true": True, "false": False}


def read_text_values(value: t.Any, schema: t.Mapping[str, t.Any]) -> t.Any:
    """A copy of the config in which every number or boolean given as text, where the
    schema wants a number or boolean (and not text), is that number or boolean."""
    properties = schema.get("properties")
    if isinstance(value, t.Mapping) and isinstance(properties, dict):
        return {
            name: read_text_values(item, properties[name]) if name in properties else item
            for name, item in value.items()
        }
    items = schema.get("items")
    if isinstance(value, list) and isinstance(items, dict):
        return [read_text_values(item, items) for item in value]
    kinds = schema_types(schema)
    if not isinstance(value, str) or "string" in kinds:
        return value
    if "integer" in kinds and (whole := as_whole_number(value)) is not None:
        return whole
    if "number" in kinds and (number := as_number(value)) is not None:
        return number
    if "boolean" in kinds and value.strip().lower() in _BOOLEANS:
        return _BOOLEANS[value.strip().lower()]
    return value


def type_problems(value: t.Any, schema: t.Mapping[str, t.Any], where: str = "") -> list[str]:
    """One line per setting whose value is not of its kind, naming the setting and what it
    got. An account of a list is named by its name when it has one."""
    properties = schema.get("properties")
    if isinstance(value, t.Mapping) and isinstance(properties, dict):
        return [
            problem
            for name, item in value.items()
            if name in properties
            for problem in type_problems(item, properties[name], f"{where}.{name}".lstrip("."))
        ]
    items = schema.get("items")
    if isinstance(value, list) and isinstance(items, dict):
        problems = []
        for index, item in enumerate(value):
            name = item.get("name") if isinstance(item, dict) else None
            label = name if isinstance(name, str) and name.strip() else index
            problems += type_problems(item, items, f"{where}[{label}]")
        return problems
    kinds = schema_types(schema)
    if value is None or "string" in kinds:
        return []
    if "integer" in kinds and not (isinstance(value, int) and not isinstance(value, bool)):
        return [f"{where} is {shown(value)}: it must be a whole number, like 10."]
    if "number" in kinds and as_number(value) is None:
        return [f"{where} is {shown(value)}: it must be a number, like 1.5."]
    if "boolean" in kinds and not isinstance(value, bool):
        return [f"{where} is {shown(value)}: it must be true or false."]
    return []
