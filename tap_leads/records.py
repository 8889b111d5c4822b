"""Shape raw provider records so that they match their stream's schema.

The SDK can conform records recursively, but that walks every value of every record
and costs about a third of a stock tap's CPU time. A shaper is compiled once from the
schema: it always normalises timestamps, checks every other value's type in one
C-speed pass, and repairs only the rare values whose type disagrees. The stream can
then switch the SDK's conformance off and still emit conforming records.
"""

from __future__ import annotations

import logging
import typing as t
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from tap_leads.timestamps import normalize_column, normalize_timestamp
from tap_leads.values import schema_types

Record = dict[str, t.Any]
Fix = t.Callable[[t.Any], t.Any]

_INVALID = object()
_NONE = type(None)
_TRUE_STRINGS = frozenset({"1", "true", "t", "yes", "y"})
_FALSE_STRINGS = frozenset({"0", "false", "f", "no", "n", ""})
_ANY = frozenset({str, int, float, bool, dict, list, _NONE})
_contains = frozenset.__contains__


def _to_integer(value: t.Any) -> t.Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return _INVALID


def _to_number(value: t.Any) -> t.Any:
    if isinstance(value, bool):
        return _INVALID
    try:
        return float(value)
    except (TypeError, ValueError):
        return _INVALID


def _to_boolean(value: t.Any) -> t.Any:
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
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return _INVALID


def _to_nothing(value: t.Any) -> t.Any:
    return _INVALID


_SCALARS: tuple[tuple[str, frozenset[type], Fix], ...] = (
    ("integer", frozenset({int, _NONE}), _to_integer),
    ("number", frozenset({int, float, _NONE}), _to_number),
    ("boolean", frozenset({bool, _NONE}), _to_boolean),
    ("string", frozenset({str, _NONE}), _to_string),
)


class _Plan:
    """What one object level of the schema needs: timestamps, type checks, nested levels."""

    def __init__(self, schema: dict, prefix: str) -> None:
        self.timestamps: list[tuple[str, str]] = []
        self.fixes: dict[str, Fix] = {}
        self.objects: list[tuple[str, _Plan]] = []
        self.arrays: list[tuple[str, _Plan]] = []
        self.paths: dict[str, str] = {}
        #: Key -> the value types it allows; keys the schema leaves free allow any type.
        self.allowed: defaultdict[str, frozenset[type]] = defaultdict(lambda: _ANY)
        for key, prop in schema.get("properties", {}).items():
            path = self.paths[key] = f"{prefix}{key}"
            types = schema_types(prop)
            if "string" in types and prop.get("format") == "date-time":
                self.timestamps.append((key, path))
                continue
            if "object" in types and prop.get("properties"):
                self.objects.append((key, _Plan(prop, f"{path}.")))
                allowed, fix = frozenset({dict, _NONE}), _to_nothing
            elif "array" in types and prop.get("items", {}).get("properties"):
                self.arrays.append((key, _Plan(prop["items"], f"{path}[].")))
                allowed, fix = frozenset({list, _NONE}), _to_nothing
            elif types & {"object", "array"} or not types:
                continue
            else:
                _, allowed, fix = next(
                    (s for s in _SCALARS if s[0] in types), ("string", _ANY, _to_nothing)
                )
            self.allowed[key] = allowed
            self.fixes[key] = fix
        self.open = schema.get("additionalProperties", True) is not False
        self.known = frozenset(schema.get("properties", {}))


@dataclass
class ShapeReport:
    """What shaping could not keep: unreadable values per field, keys not in the schema."""

    invalid: Counter[str] = field(default_factory=Counter)
    dropped: set[str] = field(default_factory=set)

    def absorb(self, other: ShapeReport) -> None:
        self.invalid.update(other.invalid)
        self.dropped.update(other.dropped)


class RecordShaper:
    """Coerce one record (and its nested objects) to the stream's schema, in place.

    Pages may be shaped in other threads or processes: `shape_rows` returns what it
    found, and the stream adds it to `report` when it emits the page.
    """

    def __init__(
        self,
        schema: dict,
        stream_name: str,
        logger: logging.Logger,
        *,
        omit_null_objects: bool = False,
    ) -> None:
        self.omit_null_objects = omit_null_objects
        self.stream_name = stream_name
        self.logger = logger
        self.report = ShapeReport()
        self._plan = _Plan(schema, "")

    def shape(self, record: Record) -> Record:
        """Return the record with every value matching the schema; bad values become null."""
        self._apply(record, self._plan, self.report)
        return record

    def shape_rows(self, rows: list[Record]) -> ShapeReport:
        """Shape a page's records in place; the report is the page's own."""
        report = ShapeReport()
        plan = self._plan
        # Each timestamp field over the whole page at once where it can be; the others
        # value by value.
        left = [pair for pair in plan.timestamps if not normalize_column(rows, pair[0])]
        for row in rows:
            self._apply(row, plan, report, left)
        return report

    def _apply(
        self,
        obj: Record,
        plan: _Plan,
        report: ShapeReport,
        timestamps: list[tuple[str, str]] | None = None,
    ) -> None:
        for key, path in plan.timestamps if timestamps is None else timestamps:
            value = obj.get(key)
            if value is not None:
                normalized = normalize_timestamp(value)
                if normalized is None:
                    report.invalid[path] += 1
                obj[key] = normalized
        # One C-level pass over the keys present: is each value's type allowed for its key?
        allowed = plan.allowed
        if not all(map(_contains, map(allowed.__getitem__, obj), map(type, obj.values()))):
            for key, value in list(obj.items()):
                if type(value) not in allowed[key]:
                    fixed = plan.fixes[key](value)
                    if fixed is _INVALID:
                        report.invalid[plan.paths[key]] += 1
                        fixed = None
                    obj[key] = fixed
        for key, nested in plan.objects:
            value = obj.get(key)
            if value:
                self._apply(value, nested, report)
            elif value is None and self.omit_null_objects:
                obj.pop(key, None)
        for key, nested in plan.arrays:
            for item in obj.get(key) or ():
                if isinstance(item, dict):
                    self._apply(item, nested, report)
        if not plan.open and not plan.known.issuperset(obj):
            extra = [key for key in obj if key not in plan.known]
            for key in extra:
                del obj[key]
            report.dropped.update(extra)

    def log_summary(self) -> None:
        """Log one warning per field whose values could not be read, with a count."""
        for path, count in sorted(self.report.invalid.items()):
            self.logger.warning(
                "%s: %d value(s) of '%s' could not be read as the schema's type and "
                "were emitted as null.",
                self.stream_name,
                count,
                path,
            )
        if self.report.dropped:
            self.logger.warning(
                "%s: fields not in the schema were dropped: %s",
                self.stream_name,
                ", ".join(sorted(self.report.dropped)),
            )
