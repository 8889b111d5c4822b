"""Checks of one provider block and of each of its accounts, before any request."""

from __future__ import annotations

import difflib
import re
import typing as t
from decimal import Decimal
from urllib.parse import urlsplit

from tap_leads.auth.flextell import flextell_auth_problems
from tap_leads.providers import ProviderSpec
from tap_leads.providers.accounts import account_name_ok, account_prefix

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_JSON_KINDS = {list: "array", str: "string", int: "number", float: "number", bool: "boolean"}


def check_provider(spec: ProviderSpec, block: dict) -> list[str]:
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
    if page_size is not None and not (is_int(page_size) and 1 <= page_size <= spec.max_page_size):
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


def is_int(value: t.Any) -> bool:
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
