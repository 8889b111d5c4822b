"""Meltano setting definitions from the JSON Schema that `tap-leads --about` prints: one
setting per leaf (a provider block's settings as teli.api_key), with its kind, label,
secrecy and description, and the groups of settings that make a valid config."""

from __future__ import annotations

import json
import typing as t

ACRONYMS = {"api": "API", "id": "ID", "url": "URL", "erp": "ERP"}
JSON_KINDS = {
    "boolean": "boolean",
    "integer": "integer",
    # Not `decimal`: Meltano 4.4 casts a decimal given as text (an environment variable,
    # `meltano config set`) to Decimal, then fails to write the config file with
    # "Object of type Decimal is not JSON serializable".
    "number": "string",
    "object": "object",
    "array": "array",
    "string": "string",
}


def _types(schema: dict[str, t.Any]) -> list[str]:
    declared = schema.get("type")
    if declared is None:
        # Unions such as faker_config.seed (oneOf number, string, boolean).
        options = schema.get("oneOf", schema.get("anyOf", []))
        return [name for option in options if isinstance(option, dict) for name in _types(option)]
    declared = [declared] if isinstance(declared, str) else declared
    return [name for name in declared if name != "null"]


def _is_group(schema: dict[str, t.Any]) -> bool:
    """An object Meltano should expose as dotted leaf settings rather than one object.

    Objects whose extra keys follow a schema of their own (stream_maps) stay whole:
    their keys are the user's (stream names), not the tap's.
    """
    return (
        "object" in _types(schema)
        and bool(schema.get("properties"))
        and not isinstance(schema.get("additionalProperties"), dict)
    )


def _holds_secrets(schema: dict[str, t.Any]) -> bool:
    """A secret itself, or a list or object with a secret inside (a provider's accounts)."""
    if schema.get("secret"):
        return True
    nested = [*schema.get("properties", {}).values()]
    items = schema.get("items")
    if isinstance(items, dict):
        nested.append(items)
    return any(_holds_secrets(child) for child in nested if isinstance(child, dict))


def _label(name: str) -> str:
    words = name.replace(".", "_").split("_")
    return " ".join(ACRONYMS.get(word, word.capitalize()) for word in words if word)


def _kind(schema: dict[str, t.Any]) -> str:
    if schema.get("enum"):
        return "options"
    types = _types(schema)
    if "string" in types and schema.get("format") == "date-time":
        return "date_iso8601"
    if not types:
        return "string"
    # A string wins over other types (tenant ids are strings or numbers), since
    # Meltano passes a string through unchanged.
    return "string" if "string" in types else JSON_KINDS.get(types[0], "string")


def _description(schema: dict[str, t.Any]) -> str:
    text = " ".join(str(schema.get("description", "")).split())
    default = schema.get("default")
    if default is not None:
        shown = json.dumps(default) if not isinstance(default, str) else default
        text = f"{text} Defaults to {shown}.".strip()
    return text


def settings(about_doc: dict[str, t.Any]) -> list[dict[str, t.Any]]:
    """One Meltano setting per leaf of the config schema, with dotted names.

    No `value` is declared: Meltano would then send every provider block, and a
    provider's block being present is what turns its stream on.
    """
    result: list[dict[str, t.Any]] = []

    def walk(properties: dict[str, t.Any], prefix: str) -> None:
        for key, schema in properties.items():
            name = f"{prefix}{key}"
            if _is_group(schema):
                walk(schema["properties"], f"{name}.")
                continue
            setting: dict[str, t.Any] = {
                "name": name,
                "kind": _kind(schema),
                "label": schema.get("title") or _label(name),
                "description": _description(schema),
            }
            if _holds_secrets(schema):
                setting["sensitive"] = True
            if setting["kind"] == "options":
                setting["options"] = [
                    {"label": value.capitalize(), "value": value} for value in schema["enum"]
                ]
            result.append(setting)

    walk(about_doc["settings"]["properties"], "")
    return result


def settings_groups(about_doc: dict[str, t.Any]) -> list[list[str]]:
    """The settings each provider block needs in its single-account form.

    Meltano lists every setting of every group under "Required" (`meltano config list`),
    so the accounts form, the schema's anyOf alternative, is left out: `*.accounts` is an
    alternative to a block's credentials, never required.
    """
    groups = []
    for key, schema in about_doc["settings"]["properties"].items():
        if not _is_group(schema):
            continue
        alternatives = [option.get("required") for option in schema.get("anyOf", [])]
        for required in [schema.get("required"), *alternatives]:
            if required and required != ["accounts"]:
                groups.append([f"{key}.{name}" for name in required])
    return groups
