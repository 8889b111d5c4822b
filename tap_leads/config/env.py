"""`--config ENV`: settings from TAP_LEADS_* variables, named as Meltano names them.

A setting `teli.api_key` is read from `TAP_LEADS_TELI_API_KEY`; a whole block from
`TAP_LEADS_TELI` as a JSON object, whose keys the flat variables then override. Lists
(`*.accounts`) and free-form objects are JSON; whole numbers and booleans are converted
where the setting takes nothing else. Only the process environment is read.
"""

from __future__ import annotations

import difflib
import json
import typing as t

from tap_leads.values import schema_types

PREFIX = "TAP_LEADS_"
#: Variables of the tap that are not settings: the log level (the SDK's).
NOT_SETTINGS = frozenset({f"{PREFIX}LOGLEVEL"})
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


def variable(path: tuple[str, ...]) -> str:
    """The variable of a setting: ("teli", "api_key") -> TAP_LEADS_TELI_API_KEY."""
    return PREFIX + "_".join(part.upper().replace("-", "_") for part in path)


def settings_from_env(
    schema: t.Mapping[str, t.Any], environ: t.Mapping[str, str]
) -> tuple[dict[str, t.Any], list[str]]:
    """The settings the environment sets, and one line per variable that cannot be read.

    No problem quotes a value: it may be a secret.
    """
    names = _variables(schema)
    config: dict[str, t.Any] = {}
    problems: list[str] = []
    # A block's JSON first, so that the flat variables override its keys.
    for name in sorted((n for n in environ if n in names), key=lambda n: len(names[n][0])):
        path, setting = names[name]
        text = environ[name]
        if not text.strip():
            continue
        value, problem = _convert(name, ".".join(path), text, setting)
        if problem is not None:
            problems.append(problem)
            continue
        target = config
        for part in path[:-1]:
            inner = target.get(part)
            if not isinstance(inner, dict):
                inner = target[part] = {}
            target = inner
        if isinstance(value, dict) and isinstance(target.get(path[-1]), dict):
            value = {**value, **target[path[-1]]}
        target[path[-1]] = value
    problems += _unknown(names, environ, schema)
    return config, problems


def _variables(schema: t.Mapping[str, t.Any]) -> dict[str, tuple[tuple[str, ...], dict]]:
    """Every variable the schema's settings can be read from, with its path and schema."""
    found: dict[str, tuple[tuple[str, ...], dict]] = {}

    def add(path: tuple[str, ...], setting: dict) -> None:
        found.setdefault(variable(path), (path, setting))
        if "object" in schema_types(setting):
            for key, inner in (setting.get("properties") or {}).items():
                if key.isidentifier() and not key.startswith("_"):
                    add((*path, key), inner)

    for key, setting in (schema.get("properties") or {}).items():
        add((key,), setting)
    return found


def _convert(name: str, setting_name: str, text: str, setting: dict) -> tuple[t.Any, str | None]:
    """The value of one variable, or why it cannot be read."""
    types = schema_types(setting)
    if "object" in types or "array" in types:
        wanted = "an object" if "object" in types else "a list"
        example = '{"api_key": "…"}' if "object" in types else '[{"name": "acme", "api_key": "…"}]'
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            return None, (
                f"{name} is not valid JSON: line {exc.lineno}, column {exc.colno}: {exc.msg}. "
                f"Set it to {wanted} in JSON, e.g. {name}='{example}'."
            )
        if not isinstance(value, dict if "object" in types else list):
            return None, f"{name} must hold {wanted} in JSON for {setting_name}, e.g. '{example}'."
        return value, None
    if "string" in types or not types:
        return text, None
    if "boolean" in types:
        if text.strip().lower() in _TRUE | _FALSE:
            return text.strip().lower() in _TRUE, None
        return None, f"{name} must be true or false for {setting_name}, not {text!r}."
    try:
        return (int(text) if "integer" in types else float(text)), None
    except ValueError:
        if "integer" in types:
            return None, f"{name} must be a whole number for {setting_name}, not {text!r}."
        return None, f"{name} must be a number for {setting_name}, not {text!r}."


def _unknown(
    names: t.Mapping[str, t.Any], environ: t.Mapping[str, str], schema: t.Mapping[str, t.Any]
) -> list[str]:
    """Variables that look like a block's setting but are none: most likely a typo.

    Other TAP_LEADS_* variables may belong to something else and are left alone.
    """
    blocks = [
        variable((key,)) + "_"
        for key, setting in (schema.get("properties") or {}).items()
        if setting.get("properties")
    ]
    problems = []
    for name in sorted(environ):
        if name in names or name in NOT_SETTINGS or "__" in name[len(PREFIX) :]:
            continue
        block = next((b for b in blocks if name.startswith(b)), None)
        if block is None:
            continue
        known = sorted(n for n in names if n.startswith(block))
        close = difflib.get_close_matches(name, known, n=1)
        hint = f"Did you mean {close[0]}?" if close else f"Known: {', '.join(known)}."
        problems.append(f"{name} is not a tap-leads setting. {hint}")
    return problems


def merge_over(base: t.Mapping[str, t.Any], over: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
    """base with over's settings on top, block by block."""
    merged = dict(base)
    for key, value in over.items():
        inner = merged.get(key)
        both = isinstance(value, dict) and isinstance(inner, dict)
        merged[key] = merge_over(inner, value) if both else value
    return merged
