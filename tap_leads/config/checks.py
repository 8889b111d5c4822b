"""Checks that run before any request: each problem names the provider, account and setting."""

from __future__ import annotations

import difflib
import importlib
import json
import re
import typing as t
from pathlib import Path

from tap_leads.config.provider_checks import check_provider, positive_number_problems
from tap_leads.config.schema import config_schema
from tap_leads.config.types import read_text_values, type_problems
from tap_leads.providers import PROVIDERS
from tap_leads.providers.accounts import shard_problem
from tap_leads.providers.spec import ProviderSpec
from tap_leads.timestamps import parse_timestamp
from tap_leads.values import JSON_KINDS, as_number

_SCHEMA_ERROR = re.compile(r"^(?P<problem>.*) in config(?P<path>(\[[^\]]*\])+)$", re.S)
_SCHEMA_PATH = re.compile(r"\[([^\]]*)\]")

_POSITIVE_INTEGERS = {
    "max_concurrent_requests": 64,
    "max_tries": 100,
    "request_timeout": 3600,
    "max_retry_wait": 86_400,
}


def configured_providers(
    config: t.Mapping[str, t.Any], providers: t.Sequence[ProviderSpec] = PROVIDERS
) -> list[ProviderSpec]:
    """The providers whose block is present and not empty."""
    return [p for p in providers if isinstance(config.get(p.key), dict) and config[p.key]]


def validate(
    config: t.Mapping[str, t.Any],
    known_settings: t.Iterable[str] | None = None,
    providers: t.Sequence[ProviderSpec] = PROVIDERS,
) -> list[str]:
    """Every problem with the config, each naming the setting to fix. Empty when fine.

    known_settings are the top-level names the tap accepts (its schema, the SDK's
    settings included); without them, top-level names are not checked. Numbers given as
    text count as those numbers (read_text_values); other values of the wrong kind are
    reported as such, and their ranges are not checked.
    """
    schema = config_schema(tuple(providers))
    config = read_text_values(config, schema)
    unknown = _unknown_settings(config, known_settings)
    configured = configured_providers(config, providers)
    if not configured:
        blocks = ", ".join(p.key for p in providers)
        return [
            "No provider is configured. Set at least one provider block: "
            f"{blocks} (in Meltano, for example teli.api_key and teli.org_id).",
            *unknown,
        ]
    errors = [*type_problems(config, schema), *_check_globals(config), *unknown]
    for spec in configured:
        errors += check_provider(spec, config[spec.key])
    return errors


def _check_globals(config: t.Mapping[str, t.Any]) -> list[str]:
    errors = []
    start_date = config.get("start_date")
    if start_date not in (None, "") and parse_timestamp(start_date) is None:
        errors.append(
            f"start_date {start_date!r} is not a date-time. Use RFC 3339, "
            "for example 2025-01-01T00:00:00Z."
        )
    # Values of the wrong kind are reported by type_problems; here, only their ranges.
    for name, ceiling in _POSITIVE_INTEGERS.items():
        value = config.get(name)
        if type(value) is int and not 1 <= value <= ceiling:
            errors.append(f"{name} is {value!r}: it must be a whole number from 1 to {ceiling}.")
    lookback = config.get("lookback_window_seconds")
    if type(lookback) is int and lookback < 0:
        errors.append(f"lookback_window_seconds is {lookback!r}: it must be 0 or more.")
    for name in ("backoff_base_seconds", "progress_interval_seconds"):
        errors += positive_number_problems(config.get(name), name)
    fraction = config.get("max_deleted_fraction")
    share = as_number(fraction)
    if fraction is not None and (share is None or not 0 <= share <= 1):
        errors.append(f"max_deleted_fraction is {fraction!r}: it must be a number from 0 to 1.")
    shard = shard_problem(config.get("shard"))
    if shard:
        errors.append(shard)
    errors += _check_batch_config(config.get("batch_config"))
    return errors


def _unknown_settings(
    config: t.Mapping[str, t.Any], known_settings: t.Iterable[str] | None
) -> list[str]:
    """A top-level name the tap does not know is a typo that would otherwise be ignored."""
    if known_settings is None:
        return []
    known = sorted(set(known_settings))
    errors = []
    for name in sorted(set(config) - set(known)):
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        if close:
            errors.append(f"{name} is not a tap-leads setting. Did you mean {close[0]}?")
        else:
            errors.append(f"{name} is not a tap-leads setting. Known settings: {', '.join(known)}.")
    return errors


def _check_batch_config(batch_config: t.Any) -> list[str]:
    """Batch settings that would fail only once records flow, or in the target."""
    encoding = batch_config.get("encoding") if isinstance(batch_config, dict) else None
    if not isinstance(encoding, dict):
        return []
    file_format, compression = encoding.get("format"), encoding.get("compression")
    if file_format == "jsonl" and compression != "gzip":
        # singer-sdk 0.54 gzips JSON Lines batch files whatever the setting says, and
        # targets read them as the BATCH message's compression tells.
        return [
            f"batch_config.encoding.compression is {compression!r}: JSON Lines batch files "
            "are always gzip-compressed, so set it to gzip."
        ]
    if file_format == "parquet":
        try:
            importlib.import_module("pyarrow.parquet")
        except ImportError:
            return [
                "batch_config.encoding.format is parquet, which needs pyarrow: install "
                "the tap with its parquet extra, pip install '/path/to/tap-leads[parquet]'."
            ]
    return []


def readable_schema_error(error: str) -> str:
    """The SDK's "<problem> in config['teli']['page_size']" as "teli.page_size: <problem>"."""
    match = _SCHEMA_ERROR.match(error)
    if match is None:
        return error
    path = ""
    for part in _SCHEMA_PATH.findall(match["path"]):
        # config['teli']['accounts'][0] reads as teli.accounts[0].
        path += f"[{part}]" if part.isdigit() else f".{part.strip(chr(39) + chr(34))}"
    return f"{path.lstrip('.')}: {match['problem']}"


def config_file_problem(path: str) -> str | None:
    """Why a --config file cannot be used, in one line naming it; None when it can."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return f"Config file {path} does not exist."
    except IsADirectoryError:
        return f"Config file {path} is a directory, not a JSON file."
    except OSError as exc:
        return f"Config file {path} cannot be read: {exc.strerror or exc}."
    except UnicodeDecodeError:
        return f"Config file {path} is not UTF-8 text."
    return json_object_problem(f"Config file {path}", text, "settings")


def json_object_problem(label: str, text: str, holds: str) -> str | None:
    """Why `text` is not a JSON object of `holds`, in one line that starts with `label`."""
    if not text.strip():
        return f"{label} is empty: it must hold a JSON object of {holds}."
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        return f"{label} is not valid JSON: line {exc.lineno}, column {exc.colno}: {exc.msg}."
    if not isinstance(value, dict):
        kind = JSON_KINDS.get(type(value), "value")
        return f"{label} holds a JSON {kind}, not an object of {holds}."
    return None


def secret_values(
    config: t.Mapping[str, t.Any], providers: t.Sequence[ProviderSpec] = PROVIDERS
) -> list[str]:
    """Every configured secret, every account's included, for redaction."""
    values = []
    for spec in providers:
        block = config.get(spec.key)
        if not isinstance(block, dict):
            continue
        entries = block.get("accounts")
        sources = [block, *(entries if isinstance(entries, list) else ())]
        for source in sources:
            if not isinstance(source, dict):
                continue
            for name in spec.secrets:
                value = source.get(name)
                if isinstance(value, str) and value.strip():
                    values.append(value.strip())
    return values
