"""The tap's settings: the JSON Schema users see, and checks that run before any request."""

from __future__ import annotations

import difflib
import importlib
import json
import re
import typing as t
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

from singer_sdk import typing as th

from tap_leads.oauth import flextell_auth_problems
from tap_leads.timestamps import parse_timestamp

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_SCHEMA_ERROR = re.compile(r"^(?P<problem>.*) in config(?P<path>(\[[^\]]*\])+)$", re.S)
_SCHEMA_PATH = re.compile(r"\[([^\]]*)\]")
_JSON_KINDS = {list: "array", str: "string", int: "number", float: "number", bool: "boolean"}
# Meltano passes decimal settings as text (its `decimal` kind cannot be set from the
# environment), so decimals are accepted as numbers or as numeric strings.
_DECIMAL = th.CustomType({"type": ["number", "string", "null"]})


@dataclass(frozen=True)
class Filter:
    name: str
    kind: type[th.JSONTypeHelper]
    description: str


@dataclass(frozen=True)
class ProviderSettings:
    """One provider's config block."""

    key: str
    label: str
    #: Setting name -> what it is, for credentials; all required, secrets marked.
    credentials: dict[str, str]
    secrets: tuple[str, ...]
    api_url: str | None
    max_page_size: int
    default_page_size: int
    filters: tuple[Filter, ...] = field(default_factory=tuple)
    extras: tuple[th.Property, ...] = field(default_factory=tuple)

    def schema(self) -> th.Property:
        properties = [
            th.Property(
                name,
                # Tenant ids are numbers that configs write either way.
                th.CustomType({"type": ["string", "integer"]})
                if name == "tenant_id"
                else th.StringType(),
                required=True,
                secret=name in self.secrets,
                description=description,
            )
            for name, description in self.credentials.items()
        ]
        api_url_help = (
            f"Base URL of the {self.label} API."
            if self.api_url
            else f"Base URL of your {self.label} instance, e.g. https://your-host. Required."
        )
        properties += [
            th.Property(
                "api_url",
                th.StringType(nullable=self.api_url is not None),
                required=self.api_url is None,
                default=self.api_url,
                description=api_url_help,
            ),
            *(
                th.Property(f.name, f.kind(nullable=True), description=f.description)
                for f in self.filters
            ),
            th.Property(
                "page_size",
                th.IntegerType(minimum=1, maximum=self.max_page_size),
                default=self.default_page_size,
                description=f"Leads per request, 1 to {self.max_page_size}.",
            ),
            th.Property(
                "requests_per_second",
                _DECIMAL,
                description=f"Cap on requests per second sent to {self.label}. No cap by default.",
            ),
            *self.extras,
        ]
        return th.Property(
            self.key,
            th.ObjectType(*properties, nullable=True),
            description=f"{self.label}: configure this block to extract {self.key}_leads.",
        )


PROVIDERS: tuple[ProviderSettings, ...] = (
    ProviderSettings(
        key="teli",
        label="Teli",
        credentials={
            "api_key": "Teli API key, sent as X-API-Key.",
            "org_id": "The organisation's unique_id (like 1762896364768x389173798861431550).",
        },
        secrets=("api_key",),
        api_url="https://api.teli.ai",
        max_page_size=200,
        default_page_size=200,
        filters=(
            Filter("user_id", th.StringType, "Only leads uploaded by this user (unique_id)."),
            Filter("group_id", th.StringType, "Only leads in this contact group (unique_id)."),
            Filter("phone_number", th.StringType, "Only leads with this exact E.164 number."),
        ),
    ),
    ProviderSettings(
        key="nexus_erp",
        label="Nexus ERP",
        credentials={"api_key": "OrgApiKey (sk_…), sent as a Bearer token."},
        secrets=("api_key",),
        api_url=None,
        max_page_size=100,
        default_page_size=100,
        filters=(
            Filter(
                "status",
                th.StringType,
                "Only leads in this status: NOT_CONTACTED, CONTACTED, QUALIFIED, CONVERTED, LOST.",
            ),
            Filter(
                "search", th.StringType, "Case-insensitive match on name, email, phone, company."
            ),
            Filter(
                "assigned_to_id",
                th.StringType,
                'Only leads of this OrgMember id, or "unassigned". Sent as assignedToId.',
            ),
        ),
    ),
    ProviderSettings(
        key="flextell",
        label="Flextell",
        # access_token is optional once a refresh token is set; flextell_auth_problems
        # says what is missing for the way the block authenticates.
        credentials={"tenant_id": "Tenant id, sent as the X-Tenant header."},
        secrets=("access_token", "client_secret", "refresh_token"),
        api_url="https://dev.flextell.ai/api",
        max_page_size=100,
        default_page_size=100,
        filters=(
            Filter("lead_status_id", th.IntegerType, "Only leads with this status id."),
            Filter("lead_reference_source_id", th.IntegerType, "Only leads from this source id."),
            Filter("converted", th.BooleanType, "Only converted (true) or unconverted (false)."),
            Filter("search", th.StringType, "Search query, up to 255 characters."),
        ),
        extras=(
            th.Property(
                "access_token",
                th.StringType(nullable=True),
                secret=True,
                description=(
                    "OAuth 2.0 access token, sent as a Bearer token. Enough on its own; with "
                    "refresh_token it is optional and replaced before it expires."
                ),
            ),
            th.Property("client_id", th.StringType(nullable=True), description="OAuth client id."),
            th.Property(
                "client_secret",
                th.StringType(nullable=True),
                secret=True,
                description="OAuth client secret.",
            ),
            th.Property(
                "refresh_token",
                th.StringType(nullable=True),
                secret=True,
                description=(
                    "Refresh token from the one-time authorization-code step. Flextell may "
                    "replace it on every refresh; the tap keeps the latest in token_store."
                ),
            ),
            th.Property(
                "token_url",
                th.StringType(nullable=True),
                description="Token endpoint. Default: /oauth/token on api_url's host.",
            ),
            th.Property(
                "token_store",
                th.StringType(nullable=True),
                description=(
                    "Path of the file (mode 0600) where the tap keeps the latest tokens. Its "
                    "tokens win over the config's. Keep it outside the project, on storage "
                    "that outlives the run."
                ),
            ),
            th.Property(
                "include_deleted",
                th.BooleanType(nullable=True),
                description=(
                    "Also list soft-deleted leads (a second pass with trashed=true), "
                    "emitted with their deleted_at so that a target can remove them."
                ),
            ),
        ),
    ),
    ProviderSettings(
        key="sela",
        label="Sela",
        credentials={"api_key": 'Sela API key, sent as "Authorization: Token <key>".'},
        secrets=("api_key",),
        api_url="https://api.trysela.com",
        max_page_size=1000,
        default_page_size=100,
        filters=(
            Filter("email", th.StringType, "Only leads with this email."),
            Filter("external_id", th.StringType, "Only leads with this external id."),
            Filter("phone_number", th.StringType, "Only leads with this phone number."),
            Filter("user", th.IntegerType, "Only leads of this Sela user id."),
        ),
    ),
    ProviderSettings(
        key="autocalls",
        label="Autocalls",
        credentials={"api_key": "Autocalls API token, sent as a Bearer token."},
        secrets=("api_key",),
        api_url="https://app.autocalls.ai/api",
        max_page_size=100,
        default_page_size=100,
        filters=(
            Filter(
                "status",
                th.StringType,
                "Only leads in this status: created, scheduled, processing, completed, "
                "rescheduled, reached-max-retries, blacklisted.",
            ),
            Filter("campaign_id", th.IntegerType, "Only leads of this campaign."),
            Filter("phone_number", th.StringType, "Only leads whose number contains this."),
            Filter(
                "date_from",
                th.StringType,
                "Only leads CREATED on or after this day (YYYY-MM-DD). Leads created "
                "earlier are never read, even when they change.",
            ),
            Filter(
                "date_to",
                th.StringType,
                "Only leads CREATED on or before this day (YYYY-MM-DD).",
            ),
        ),
    ),
)

CONFIG_SCHEMA: dict = th.PropertiesList(
    th.Property(
        "start_date",
        th.DateTimeType(nullable=True),
        description=(
            "On a first run, emit only leads changed at or after this time. "
            "Without it, every lead is emitted."
        ),
    ),
    *(provider.schema() for provider in PROVIDERS),
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
            "Pages fetched at once per stream, once the first page tells how many there "
            "are. Halves on a 429 and grows back. 1 fetches sequentially."
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
).to_dict()

_POSITIVE_INTEGERS = {
    "max_concurrent_requests": 64,
    "max_tries": 100,
    "request_timeout": 3600,
    "max_retry_wait": 86_400,
}


def configured_providers(config: t.Mapping[str, t.Any]) -> list[ProviderSettings]:
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
    for provider in providers:
        errors += _check_provider(provider, config[provider.key])
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
    path = ".".join(part.strip("'\"") for part in _SCHEMA_PATH.findall(match["path"]))
    return f"{path}: {match['problem']}"


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


def _check_provider(provider: ProviderSettings, block: dict) -> list[str]:
    key, label = provider.key, provider.label
    errors = []
    for name, meaning in provider.credentials.items():
        value = block.get(name)
        if value in (None, "") or (isinstance(value, str) and not value.strip()):
            errors.append(f"{key}.{name} is missing. Set it: {meaning}")
        elif name in provider.secrets and any(ch in str(value).strip() for ch in "\r\n\t"):
            errors.append(
                f"{key}.{name} contains a line break or tab: paste the {label} key alone."
            )
    api_url = block.get("api_url")
    if provider.api_url is None and not api_url:
        errors.append(
            f"{key}.api_url is missing: {label} has no public host, so set the base URL of "
            "your instance, for example https://your-host."
        )
    elif api_url and (
        urlsplit(str(api_url)).scheme not in ("http", "https") or not urlsplit(str(api_url)).netloc
    ):
        errors.append(f"{key}.api_url {api_url!r} is not an http(s) URL like https://host.")
    page_size = block.get("page_size")
    if page_size is not None and not (
        _is_int(page_size) and 1 <= page_size <= provider.max_page_size
    ):
        errors.append(
            f"{key}.page_size is {page_size!r}: {label} takes 1 to "
            f"{provider.max_page_size} leads per page."
        )
    rate = block.get("requests_per_second")
    if rate is not None and not (as_number(rate) or 0) > 0:
        errors.append(f"{key}.requests_per_second is {rate!r}: it must be above 0.")
    for name in ("date_from", "date_to"):
        value = block.get(name)
        if key == "autocalls" and value and not _DATE.match(str(value)):
            errors.append(f"autocalls.{name} is {value!r}: use the YYYY-MM-DD format.")
    if key == "flextell":
        errors += flextell_auth_problems(block)
    known = {*provider.credentials, "api_url", "page_size", "requests_per_second"}
    known |= {f.name for f in provider.filters} | {p.name for p in provider.extras}
    errors += [
        f"{key}.{name} is not a {label} setting. Known settings: {', '.join(sorted(known))}."
        for name in sorted(set(block) - known)
    ]
    return errors


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
    """Every configured secret, for redaction."""
    values = []
    for provider in PROVIDERS:
        block = config.get(provider.key)
        if isinstance(block, dict):
            for name in provider.secrets:
                value = block.get(name)
                if isinstance(value, str) and value.strip():
                    values.append(value.strip())
    return values
