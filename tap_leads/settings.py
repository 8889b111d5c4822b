"""The tap's settings: the JSON Schema users see, and checks that run before any request."""

from __future__ import annotations

import difflib
import importlib
import json
import re
import typing as t
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

from singer_sdk import typing as th

from tap_leads.oauth import flextell_auth_problems
from tap_leads.providers import (
    PROVIDERS,
    Account,
    Filter,
    ProviderSpec,
    in_shard,
    parse_shard,
    provider,
    resolve_accounts,
    selected_accounts,
)
from tap_leads.providers.accounts import account_name_ok, account_prefix, shard_problem
from tap_leads.timestamps import parse_timestamp

__all__ = [
    "CONFIG_SCHEMA",
    "PROVIDERS",
    "Account",
    "Filter",
    "ProviderSettings",
    "ProviderSpec",
    "as_number",
    "config_file_problem",
    "configured_providers",
    "in_shard",
    "parse_shard",
    "provider",
    "readable_schema_error",
    "resolve_accounts",
    "secret_values",
    "selected_accounts",
    "validate",
]

#: The former name of a provider's description.
ProviderSettings = ProviderSpec

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_SCHEMA_ERROR = re.compile(r"^(?P<problem>.*) in config(?P<path>(\[[^\]]*\])+)$", re.S)
_SCHEMA_PATH = re.compile(r"\[([^\]]*)\]")
_JSON_KINDS = {list: "array", str: "string", int: "number", float: "number", bool: "boolean"}
# Meltano passes decimal settings as text (its `decimal` kind cannot be set from the
# environment), so decimals are accepted as numbers or as numeric strings.
_DECIMAL = th.CustomType({"type": ["number", "string", "null"]})


#: The name every account of the list form needs.
_ACCOUNT_NAME = th.Property(
    "name",
    th.StringType(),
    required=True,
    description=(
        "The account's name: unique within the provider and the same from run to run. "
        "Records carry it in their account field, and it keys the account's bookmark."
    ),
)


def _credential_type(spec: ProviderSpec, name: str) -> th.JSONTypeHelper:
    if name in spec.string_or_integer:
        return th.CustomType({"type": ["string", "integer"]})
    return th.StringType()


def _settings_properties(spec: ProviderSpec, *, account: bool) -> list[th.Property]:
    """The settings of a provider block, or of one of its accounts.

    An account's settings carry no defaults: the SDK would fill them in, and they would
    then override the defaults written in the block.
    """
    properties = [
        th.Property(
            name,
            _credential_type(spec, name),
            secret=name in spec.secrets,
            description=description,
        )
        for name, description in spec.credentials.items()
    ]
    api_url_help = (
        f"Base URL of the {spec.label} API."
        if spec.api_url
        else f"Base URL of your {spec.label} instance, e.g. https://your-host. Required."
    )
    page_size_help = f"Leads per request, 1 to {spec.max_page_size}."
    if account:
        if spec.api_url:
            api_url_help += f" Default: the block's api_url, else {spec.api_url}."
        page_size_help += f" Default: the block's page_size, else {spec.default_page_size}."
    properties += [
        th.Property(
            "api_url",
            th.StringType(nullable=spec.api_url is not None),
            default=None if account else spec.api_url,
            description=api_url_help,
        ),
        *(
            th.Property(f.name, f.kind(nullable=True), description=f.description)
            for f in spec.filters
        ),
        th.Property(
            "page_size",
            th.IntegerType(minimum=1, maximum=spec.max_page_size),
            default=None if account else spec.default_page_size,
            description=page_size_help,
        ),
        th.Property(
            "requests_per_second",
            _DECIMAL,
            description=f"Cap on requests per second sent to {spec.label}. No cap by default.",
        ),
        *spec.extras,
    ]
    return properties


def _provider_schema(spec: ProviderSpec) -> th.Property:
    accounts = th.Property(
        "accounts",
        th.ArrayType(
            th.ObjectType(_ACCOUNT_NAME, *_settings_properties(spec, account=True)),
            nullable=True,
        ),
        description=(
            f"Several {spec.label} accounts in one run: a list of objects, each with a "
            f"name and any {spec.key} setting. Settings of the {spec.key} block itself are "
            "defaults for every account; credentials may then be set per account only. "
            "Records gain an account field and the key becomes account first."
        ),
    )
    return th.Property(
        spec.key,
        th.ObjectType(*_settings_properties(spec, account=False), accounts, nullable=True),
        description=f"{spec.label}: configure this block to extract {spec.stream_name}.",
    )


def _require_credentials_or_accounts(schema: dict) -> dict:
    """A provider block needs its required settings, unless each account brings its own."""
    for spec in PROVIDERS:
        block = schema["properties"][spec.key]
        block["anyOf"] = [{"required": list(spec.required)}, {"required": ["accounts"]}]
    return schema


CONFIG_SCHEMA: dict = _require_credentials_or_accounts(
    th.PropertiesList(
        th.Property(
            "start_date",
            th.DateTimeType(nullable=True),
            description=(
                "On a first run, emit only leads changed at or after this time. "
                "Without it, every lead is emitted."
            ),
        ),
        *(_provider_schema(spec) for spec in PROVIDERS),
        th.Property(
            "lookback_window_seconds",
            th.IntegerType(nullable=True),
            default=0,
            description=(
                "Re-emit leads changed up to this many seconds before the bookmark, for "
                "sources whose clocks or timestamp granularity make the boundary unsafe."
            ),
        ),
        th.Property(
            "max_concurrent_requests",
            th.IntegerType(nullable=True),
            default=8,
            description=(
                "Requests in flight for the whole run, shared by every stream and account; "
                "each provider account's own window within it halves on a 429 and grows "
                "back. 1 fetches sequentially."
            ),
        ),
        th.Property(
            "max_rewalks",
            th.IntegerType(nullable=True, minimum=0, maximum=10),
            default=1,
            description=(
                "When a list moves while it is read (leads deleted, added or reordered), read "
                "it again at once up to this many times, emitting only leads not yet emitted. "
                "If it still moves, the previous bookmark is kept. 0 only keeps the bookmark."
            ),
        ),
        th.Property(
            "max_tries",
            th.IntegerType(nullable=True),
            default=8,
            description="Tries per request before the run fails.",
        ),
        th.Property(
            "request_timeout",
            th.IntegerType(nullable=True),
            default=60,
            description="Seconds to wait for an answer to one request.",
        ),
        th.Property(
            "max_retry_wait",
            th.IntegerType(nullable=True),
            default=300,
            description=(
                "Longest wait, in seconds, the tap accepts from a Retry-After or "
                "X-RateLimit-Reset header; a longer one fails the run."
            ),
        ),
        th.Property(
            "progress_interval_seconds",
            _DECIMAL,
            default=5,
            description="Seconds between the progress lines each stream logs while it runs.",
        ),
        th.Property(
            "backoff_base_seconds",
            _DECIMAL,
            default=1.0,
            description=(
                "First step of the exponential backoff between retries, in seconds; "
                "doubles per retry up to 60 s, with jitter."
            ),
        ),
        th.Property(
            "shard",
            th.StringType(nullable=True),
            description=(
                'Take only the accounts of shard K of N, written "K/N" with K from 0 to N-1 '
                '(e.g. "3/8"), chosen by a stable hash of provider and account name; a block '
                "without accounts counts as one account. Run N jobs, shards 0/N to N-1/N, each "
                "with its own state: together they take every account exactly once. Unset: "
                "every account."
            ),
        ),
    ).to_dict()
)

_POSITIVE_INTEGERS = {
    "max_concurrent_requests": 64,
    "max_tries": 100,
    "request_timeout": 3600,
    "max_retry_wait": 86_400,
}


def configured_providers(config: t.Mapping[str, t.Any]) -> list[ProviderSpec]:
    """The providers whose block is present and not empty."""
    return [p for p in PROVIDERS if isinstance(config.get(p.key), dict) and config[p.key]]


def validate(
    config: t.Mapping[str, t.Any], known_settings: t.Iterable[str] | None = None
) -> list[str]:
    """Every problem with the config, each naming the setting to fix. Empty when fine.

    known_settings are the top-level names the tap accepts (its schema, the SDK's
    settings included); without them, top-level names are not checked.
    """
    unknown = _unknown_settings(config, known_settings)
    providers = configured_providers(config)
    if not providers:
        blocks = ", ".join(p.key for p in PROVIDERS)
        return [
            "No provider is configured. Set at least one provider block: "
            f"{blocks} (in Meltano, for example teli.api_key and teli.org_id).",
            *unknown,
        ]
    errors = [*_check_globals(config), *unknown]
    for spec in providers:
        errors += _check_provider(spec, config[spec.key])
    return errors


def _check_globals(config: t.Mapping[str, t.Any]) -> list[str]:
    errors = []
    start_date = config.get("start_date")
    if start_date not in (None, "") and parse_timestamp(start_date) is None:
        errors.append(
            f"start_date {start_date!r} is not a date-time. Use RFC 3339, "
            "for example 2025-01-01T00:00:00Z."
        )
    for name, ceiling in _POSITIVE_INTEGERS.items():
        value = config.get(name)
        if value is not None and not (_is_int(value) and 1 <= value <= ceiling):
            errors.append(f"{name} is {value!r}: it must be a whole number from 1 to {ceiling}.")
    lookback = config.get("lookback_window_seconds")
    if lookback is not None and not (_is_int(lookback) and lookback >= 0):
        errors.append(f"lookback_window_seconds is {lookback!r}: it must be 0 or more.")
    for name in ("backoff_base_seconds", "progress_interval_seconds"):
        value = config.get(name)
        if value is not None and not (as_number(value) or 0) > 0:
            errors.append(f"{name} is {value!r}: it must be above 0.")
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
                "batch_config.encoding.format is parquet, which needs pyarrow: "
                "pip install 'tap-leads[parquet]'."
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
        kind = _JSON_KINDS.get(type(value), "value")
        return f"{label} holds a JSON {kind}, not an object of {holds}."
    return None


def _check_provider(spec: ProviderSpec, block: dict) -> list[str]:
    entries = block.get("accounts")
    if entries is None:
        return _check_settings(spec, block, block, spec.key)
    # The block's own settings are defaults: checked once here, and needed in no form.
    errors = _check_settings(spec, block, block, spec.key, complete=False)
    if not isinstance(entries, list):
        return [
            *errors,
            f"{spec.key}.accounts is {_a_kind(entries)}: it must be a list of accounts, each "
            'an object with a name and that account\'s settings, e.g. [{"name": "acme", ...}].',
        ]
    if not entries:
        errors.append(
            f"{spec.key}.accounts is empty: list at least one account, or remove accounts "
            f"and set the {spec.key} settings in the block itself."
        )
    named: dict[str, int] = {}
    for index, entry in enumerate(entries):
        where = account_prefix(spec, index)
        if not isinstance(entry, dict):
            errors.append(
                f"{where} is {_a_kind(entry)}: each account is an object with a name and that "
                "account's settings."
            )
            continue
        name = entry.get("name")
        if not account_name_ok(name):
            errors.append(_name_problem(spec, where, name))
        elif name in named:
            errors.append(
                f"{where}: name {name!r} is already the name of {spec.key}.accounts"
                f"[{named[name]}]; each {spec.label} account needs a name of its own."
            )
        else:
            named[name] = index
            where = account_prefix(spec, name)
        own = {k: v for k, v in entry.items() if k != "name"}
        merged = {**{k: v for k, v in block.items() if k != "accounts"}, **own}
        errors += _check_settings(spec, merged, own, where, account=name)
    return errors


def _name_problem(spec: ProviderSpec, where: str, name: t.Any) -> str:
    if name is None or isinstance(name, str):
        return (
            f"{where}: name is missing; give each account a name that is unique within "
            f"{spec.key} and stays the same from run to run (it keys the account's "
            "records and bookmark)."
        )
    return f"{where}: name is {name!r}; it must be a non-empty string."


def _check_settings(
    spec: ProviderSpec,
    merged: t.Mapping[str, t.Any],
    own: t.Mapping[str, t.Any],
    where: str,
    *,
    complete: bool = True,
    account: t.Any = None,
) -> list[str]:
    """Problems of one set of settings: a block, the defaults of a block with accounts, or
    one account (its own settings over the block's, in merged).

    Values are checked where they are written (own), so that a bad default is reported
    once; what must be set is checked on merged, unless the settings need not be complete.
    """
    key, label = spec.key, spec.label
    in_account = where != key
    errors = []

    def missing(name: str, single: str) -> str:
        if in_account:
            return (
                f"{where}: {name} is missing; set {where}.{name} "
                f"(or {key}.{name} for every account)."
            )
        return single

    for name, meaning in spec.credentials.items():
        value = merged.get(name)
        if _blank(value):
            if complete:
                errors.append(missing(name, f"{key}.{name} is missing. Set it: {meaning}"))
        elif (
            name in own
            and name in spec.secrets
            and any(ch in str(value).strip() for ch in "\r\n\t")
        ):
            errors.append(
                f"{where}.{name} contains a line break or tab: paste the {label} key alone."
            )
    api_url = merged.get("api_url")
    if spec.api_url is None and not api_url:
        if complete:
            errors.append(
                missing(
                    "api_url",
                    f"{key}.api_url is missing: {label} has no public host, so set the base "
                    "URL of your instance, for example https://your-host.",
                )
            )
    elif "api_url" in own and api_url and not _is_http_url(api_url):
        errors.append(f"{where}.api_url {api_url!r} is not an http(s) URL like https://host.")
    page_size = own.get("page_size")
    if page_size is not None and not (_is_int(page_size) and 1 <= page_size <= spec.max_page_size):
        errors.append(
            f"{where}.page_size is {page_size!r}: {label} takes 1 to "
            f"{spec.max_page_size} leads per page."
        )
    rate = own.get("requests_per_second")
    if rate is not None and not (as_number(rate) or 0) > 0:
        errors.append(f"{where}.requests_per_second is {rate!r}: it must be above 0.")
    for name in ("date_from", "date_to"):
        value = own.get(name)
        if key == "autocalls" and value and not _DATE.match(str(value)):
            errors.append(f"{where}.{name} is {value!r}: use the YYYY-MM-DD format.")
    if key == "flextell" and complete:
        if in_account:
            errors += flextell_auth_problems(merged, setting=where, key=_store_key(account))
        else:
            errors += flextell_auth_problems(merged)
    errors += _unknown_keys(spec, own, where, in_account=in_account)
    return errors


def _unknown_keys(
    spec: ProviderSpec, own: t.Mapping[str, t.Any], where: str, *, in_account: bool
) -> list[str]:
    known = {*spec.setting_names, "name" if in_account else "accounts"}
    errors = []
    for name in sorted(set(own) - known):
        close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
        if in_account and close:
            errors.append(f"{where}.{name} is not a {spec.label} setting. Did you mean {close[0]}?")
        else:
            errors.append(
                f"{where}.{name} is not a {spec.label} setting. Known settings: "
                f"{', '.join(sorted(known))}."
            )
    return errors


def _store_key(name: t.Any) -> str:
    # An account without a usable name is reported; its store entry does not matter.
    return name if account_name_ok(name) else "default"


def _a_kind(value: t.Any) -> str:
    """What a JSON value is, as a sentence says it: "a string", "an object", "null"."""
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "an object"
    return f"a {_JSON_KINDS.get(type(value), 'value')}"


def _blank(value: t.Any) -> bool:
    return value in (None, "") or (isinstance(value, str) and not value.strip())


def _is_http_url(value: t.Any) -> bool:
    parts = urlsplit(str(value))
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _is_int(value: t.Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def as_number(value: t.Any) -> float | None:
    """A decimal setting as a float: JSON numbers (read as Decimal) or numeric text."""
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


def secret_values(config: t.Mapping[str, t.Any]) -> list[str]:
    """Every configured secret, every account's included, for redaction."""
    values = []
    for spec in PROVIDERS:
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
