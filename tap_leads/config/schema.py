"""The settings schema users see (`--about`), derived from the provider specs."""

from __future__ import annotations

from functools import cache

import singer_sdk.typing as th

from tap_leads.providers import PROVIDERS
from tap_leads.providers.spec import ProviderSpec

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


def _require_credentials_or_accounts(schema: dict, providers: tuple[ProviderSpec, ...]) -> dict:
    """A provider block needs its required settings, unless each account brings its own."""
    for spec in providers:
        block = schema["properties"][spec.key]
        block["anyOf"] = [{"required": list(spec.required)}, {"required": ["accounts"]}]
    return schema


@cache
def config_schema(providers: tuple[ProviderSpec, ...]) -> dict:
    """The config schema of a tap that reads these providers."""
    return _require_credentials_or_accounts(_properties(providers).to_dict(), providers)


def _properties(providers: tuple[ProviderSpec, ...]) -> th.PropertiesList:
    return th.PropertiesList(
        th.Property(
            "start_date",
            th.DateTimeType(nullable=True),
            description=(
                "On a first run, emit only leads changed at or after this time. "
                "Without it, every lead is emitted."
            ),
        ),
        *(_provider_schema(spec) for spec in providers),
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
                "The most requests in flight for the whole run, shared by every stream and "
                "account: all of them while answers take long, fewer when answers come at "
                "once and more would not go faster. Each provider account's own window "
                "within it halves on a 429 and grows back. 1 fetches sequentially."
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
            "detect_deletes",
            th.BooleanType(nullable=True),
            default=True,
            description=(
                "Keep, per account, which leads its list held (in the state), so that leads "
                "entering the list are emitted whatever their dates and leads leaving it are "
                "reported once in the stream deleted_leads. false: keep no membership."
            ),
        ),
        th.Property(
            "max_deleted_fraction",
            _DECIMAL,
            default=0.5,
            description=(
                "The largest share of an account's leads one run may report as deleted; "
                "above it nothing is reported, with a warning, and the next run compares "
                "with the same earlier walk."
            ),
        ),
        th.Property(
            "tombstones",
            th.BooleanType(nullable=True),
            default=False,
            description=(
                "Also emit each deleted lead into its own stream as its key and "
                "_sdc_deleted_at, for targets that remove rows with hard_delete."
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
    )


CONFIG_SCHEMA: dict = config_schema(PROVIDERS)
