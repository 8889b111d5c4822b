"""What the tap knows about one provider, written once: the settings derive their schema
and checks from it, and the stream its request. What differs between providers beyond
plain facts is a hook of the spec: its own checks, how it builds its auth, how it lists
the organisations a key can read, and how it reads an error envelope."""

from __future__ import annotations

import string
import typing as t
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import quote

import singer_sdk.typing as th

from tap_leads.auth.static import StaticAuth
from tap_leads.schemas import ACCOUNT_FIELD

if t.TYPE_CHECKING:
    from tap_leads.engine.endpoint import Auth
    from tap_leads.engine.pagination import Envelope

Settings = Mapping[str, t.Any]
#: GET a path below the account's api_url and return the JSON body (errors raised).
GetJson = Callable[[str], t.Any]


@dataclass(frozen=True)
class Filter:
    """A user filter, passed through to the API."""

    #: Setting name in the provider's block.
    name: str
    kind: type[th.JSONTypeHelper]
    description: str
    #: Query parameter of the API; the setting's name unless the API spells it otherwise.
    param: str = ""
    #: The values the API documents, when it takes only those; checked before any request.
    choices: tuple[str, ...] = ()

    @property
    def api_name(self) -> str:
        return self.param or self.name


@dataclass(frozen=True)
class CheckedSettings:
    """One set of settings under check: a block, the defaults of a block with accounts, or
    one account (its own settings over the block's, in merged)."""

    merged: Settings
    #: What is written at `where`: values are checked here, so a bad default shows once.
    own: Settings
    #: How messages name it: "flextell", or "flextell.accounts[acme]".
    where: str
    #: The account's name, or "default" for the single block.
    account: str
    #: Whether what must be set is checked (not for a block's defaults).
    complete: bool


@dataclass(frozen=True)
class AuthContext:
    """What building an account's auth needs beside its settings."""

    #: The account's name, or "default" for the single block.
    account: str
    #: How messages name the account's settings, e.g. "flextell.accounts[acme]".
    setting: str
    #: The run's request_timeout, in seconds.
    timeout: float
    #: Called with each secret that appears during the run, to mask it in logs.
    on_new_secret: Callable[[str], None] | None = None


def no_checks(settings: CheckedSettings) -> list[str]:
    return []


def no_organizations(settings: Settings, get_json: GetJson, prefix: str) -> list[str] | None:
    return None


def no_envelope_error(body: t.Any) -> str | None:
    return None


def no_headers(settings: Settings) -> dict[str, str]:
    return {}


def no_params(settings: Settings) -> dict[str, str]:
    return {}


def one_pass(settings: Settings) -> list[dict[str, str]]:
    return [{}]


def no_explanation(settings: Settings, prefix: str, detail: str) -> str | None:
    return None


def text(settings: Settings, name: str) -> str:
    """A setting as the stripped text sent on the wire."""
    value = settings.get(name)
    return "" if value is None else str(value).strip()


def bearer(setting: str) -> Callable[[Settings], dict[str, str]]:
    def auth_headers(settings: Settings) -> dict[str, str]:
        return {"Authorization": f"Bearer {text(settings, setting)}"}

    return auth_headers


# Compared and hashed by identity: each provider has one spec, and a dict field would
# make a value hash fail.
@dataclass(frozen=True, eq=False)
class ProviderSpec:
    """One provider: its stream, its settings and how its list-leads request is made."""

    key: str
    label: str
    stream_name: str
    primary_keys: tuple[str, ...]
    replication_key: str
    #: Setting name -> what it is. Each must be set, in the block or in every account.
    credentials: dict[str, str]
    #: Settings whose values are secret: marked in the schema and redacted from logs.
    secrets: tuple[str, ...]
    #: Default base URL; None when there is no public host, which makes api_url required.
    api_url: str | None
    max_page_size: int
    default_page_size: int
    #: Request path on api_url; {setting} placeholders take that setting, URL-quoted.
    path: str
    page_size_param: str
    #: How the provider's envelope is read: a class of tap_leads.engine.pagination.
    envelope: type[Envelope]
    #: Authentication headers for validated settings (a block, or an account's merged).
    auth_headers: Callable[[Settings], dict[str, str]]
    #: Settings named when the provider refuses the credentials.
    auth_settings: tuple[str, ...]
    page_param: str = "page"
    filters: tuple[Filter, ...] = ()
    #: Further settings, exactly as the schema declares them.
    extras: tuple[th.Property, ...] = ()
    #: Fields whose latest value tells when a lead last changed; the replication key if empty.
    change_keys: tuple[str, ...] = ()
    #: Credentials that configs write as a string or as an integer.
    string_or_integer: tuple[str, ...] = ()
    #: Headers besides authentication that every request carries.
    extra_headers: Callable[[Settings], dict[str, str]] = no_headers
    #: Query parameters the provider needs whatever the filters.
    fixed_params: Callable[[Settings], dict[str, str]] = no_params
    #: Extra query parameters of each listing pass, in the order they are read.
    passes: Callable[[Settings], list[dict[str, str]]] = one_pass
    #: A 404's meaning, given the settings, their prefix ("teli", "teli.accounts[acme]")
    #: and the provider's message (": …" or ""); None when it says nothing more.
    explain_404: Callable[[Settings, str, str], str | None] = no_explanation
    #: The package that holds the stream's JSON Schema, <stream_name>.json.
    schemas: str = "tap_leads.schemas"
    #: The provider's own checks of one set of settings, after the shared ones.
    checks: Callable[[CheckedSettings], list[str]] = no_checks
    #: The account's auth; None: fixed headers (auth_headers and extra_headers).
    build_auth: Callable[[Settings, AuthContext], Auth] | None = None
    #: The org_ids of the organisations to read, when the settings ask for every one the
    #: key can list (Teli's org_id "*"); None when the account is one listing.
    organizations: Callable[[Settings, GetJson, str], list[str] | None] = no_organizations
    #: What a 2xx body that is an error envelope says (Teli's success: false); None if not.
    envelope_error: Callable[[t.Any], str | None] = no_envelope_error

    # ----- settings -----------------------------------------------------------

    @property
    def required(self) -> tuple[str, ...]:
        """Settings that must be set: the credentials, and api_url without a default."""
        return (*self.credentials, *(("api_url",) if self.api_url is None else ()))

    @property
    def setting_names(self) -> frozenset[str]:
        """Every setting of the block (accounts aside) and of each account (name aside)."""
        return frozenset(
            {
                *self.credentials,
                "api_url",
                "page_size",
                "requests_per_second",
                *(f.name for f in self.filters),
                *(p.name for p in self.extras),
            }
        )

    def defaults(self) -> dict[str, t.Any]:
        """Values of the settings that have a default."""
        defaults: dict[str, t.Any] = {"page_size": self.default_page_size}
        if self.api_url is not None:
            defaults["api_url"] = self.api_url
        return defaults

    # ----- the request --------------------------------------------------------

    @property
    def change_fields(self) -> tuple[str, ...]:
        return self.change_keys or (self.replication_key,)

    def key_properties(self, *, accounts: bool) -> tuple[str, ...]:
        """The stream's key: the account's name first in the accounts form."""
        return (ACCOUNT_FIELD, *self.primary_keys) if accounts else self.primary_keys

    def page_size(self, settings: Settings) -> int:
        return int(settings.get("page_size") or self.default_page_size)

    def base_url(self, settings: Settings) -> str:
        return str(settings.get("api_url") or self.api_url or "").strip().rstrip("/")

    def request_path(self, settings: Settings, **values: t.Any) -> str:
        """The path with its placeholders filled from values, else from settings."""
        names = [name for _, name, _, _ in _FORMATTER.parse(self.path) if name]
        return self.path.format(
            **{name: quote(str(values.get(name, settings.get(name))), safe="") for name in names}
        )

    def params(self, settings: Settings) -> dict[str, t.Any]:
        """Query parameters of every request: filters under the API's names, the page size,
        then what the provider always needs. The page number is added per request."""
        params = {
            f.api_name: _query_value(settings[f.name])
            for f in self.filters
            if settings.get(f.name) not in (None, "")
        }
        params[self.page_size_param] = self.page_size(settings)
        params.update(self.fixed_params(settings))
        return params

    def headers(self, settings: Settings) -> dict[str, str]:
        """Authentication and the provider's other headers."""
        return {**self.auth_headers(settings), **self.extra_headers(settings)}

    def auth(self, settings: Settings, context: AuthContext) -> Auth:
        """The headers every request of the account carries, read at request time."""
        if self.build_auth is not None:
            return self.build_auth(settings, context)
        return StaticAuth(self.headers(settings))

    def credential_settings(self, prefix: str | None = None) -> tuple[str, ...]:
        """The settings to check after an authentication error, e.g. teli.accounts[acme].api_key."""
        return tuple(f"{prefix or self.key}.{name}" for name in self.auth_settings)

    @property
    def request_settings(self) -> tuple[str, ...]:
        """The settings that shape the request, named (under the block's or account's
        prefix) when the provider rejects it."""
        return (*(f.name for f in self.filters), "page_size")


def _query_value(value: t.Any) -> t.Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


_FORMATTER = string.Formatter()
