"""Shape raw provider records so that they match their stream's schema.

The SDK can conform records recursively, but that walks every value of every record
and costs about a third of a stock tap's CPU time. A shaper is compiled once from the
schema and touches only the fields whose wire values can disagree with it, so the
stream can switch the SDK's conformance off and still emit conforming records.
"""

from __future__ import annotations

import logging
import typing as t
from collections import Counter

from tap_leads.timestamps import normalize_timestamp

Record = dict[str, t.Any]
Fix = t.Callable[[t.Any], t.Any]

_INVALID = object()
_TRUE_STRINGS = frozenset({"1", "true", "t", "yes", "y"})
_FALSE_STRINGS = frozenset({"0", "false", "f", "no", "n", ""})


def _types(schema: dict) -> set[str]:
    declared = schema.get("type", [])
    return {declared} if isinstance(declared, str) else set(declared)


def _to_timestamp(value: t.Any) -> t.Any:
    normalized = normalize_timestamp(value)
    return _INVALID if normalized is None else normalized


def _to_integer(value: t.Any) -> t.Any:
    if type(value) is int:
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return _INVALID


def _to_number(value: t.Any) -> t.Any:
    if type(value) in (int, float):
        return value
    try:
        return float(value)
    except (TypeError, ValueError):
        return _INVALID


def _to_boolean(value: t.Any) -> t.Any:
    if type(value) is bool:
        return value
    if type(value) is int and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in _TRUE_STRINGS:
            return True
        if lowered in _FALSE_STRINGS:
            return False
    return _INVALID


def _to_string(value: t.Any) -> t.Any:
    if type(value) is str:
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return _INVALID


def _scalar_fix(schema: dict) -> Fix | None:
    types = _types(schema)
    if "string" in types and schema.get("format") == "date-time":
        return _to_timestamp
    for name, fix in (
        ("integer", _to_integer),
        ("number", _to_number),
        ("boolean", _to_boolean),
    ):
        if name in types:
            return fix
    if types & {"object", "array"} or not types:
        return None
    return _to_string


class RecordShaper:
    """Coerce one record (and its nested objects) to the stream's schema, in place."""

    def __init__(self, schema: dict, stream_name: str, logger: logging.Logger) -> None:
        self.stream_name = stream_name
        self.logger = logger
        self.invalid_values: Counter[str] = Counter()
        self.dropped_keys: set[str] = set()
        self._plan = self._compile(schema, "")
        self._known = frozenset(schema.get("properties", {}))
        self._open = schema.get("additionalProperties", True) is not False

    def _compile(self, schema: dict, prefix: str) -> list[tuple[str, str, t.Any]]:
        plan: list[tuple[str, str, t.Any]] = []
        for key, prop in schema.get("properties", {}).items():
            path = f"{prefix}{key}"
            types = _types(prop)
            if "object" in types and prop.get("properties"):
                plan.append((key, "object", (path, self._compile(prop, f"{path}."))))
            elif "array" in types and prop.get("items", {}).get("properties"):
                plan.append((key, "array", (path, self._compile(prop["items"], f"{path}[]."))))
            elif (fix := _scalar_fix(prop)) is not None:
                plan.append((key, "scalar", (path, fix)))
        return plan

    def shape(self, record: Record) -> Record:
        """Return the record with every planned field coerced; bad values become null."""
        self._apply(record, self._plan)
        if not self._open and not self._known.issuperset(record):
            extra = [key for key in record if key not in self._known]
            for key in extra:
                del record[key]
            self.dropped_keys.update(extra)
        return record

    def _apply(self, obj: Record, plan: list[tuple[str, str, t.Any]]) -> None:
        for key, kind, spec in plan:
            value = obj.get(key)
            if value is None:
                continue
            if kind == "scalar":
                path, fix = spec
                fixed = fix(value)
                if fixed is _INVALID:
                    self.invalid_values[path] += 1
                    obj[key] = None
                elif fixed is not value:
                    obj[key] = fixed
            elif kind == "object" and isinstance(value, dict):
                self._apply(value, spec[1])
            elif kind == "array" and isinstance(value, list):
                for item in value:
                    if isinstance(item, dict):
                        self._apply(item, spec[1])

    def log_summary(self) -> None:
        """Log one warning per field whose values could not be read, with a count."""
        for path, count in sorted(self.invalid_values.items()):
            self.logger.warning(
                "%s: %d value(s) of '%s' could not be read as the schema's type and "
                "were emitted as null.",
                self.stream_name,
                count,
                path,
            )
        if self.dropped_keys:
            self.logger.warning(
                "%s: fields not in the schema were dropped: %s",
                self.stream_name,
                ", ".join(sorted(self.dropped_keys)),
            )


class KeyLedger:
    """Primary keys seen in one run, to drop repeats; keys only, so memory stays small."""

    def __init__(self) -> None:
        self._seen: set[t.Any] = set()
        self.repeats = 0

    def first_time(self, key: t.Any) -> bool:
        """Record the key; False when it was already seen in this run."""
        if key in self._seen:
            self.repeats += 1
            return False
        self._seen.add(key)
        return True
