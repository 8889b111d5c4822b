"""Checks of one provider block and of each of its accounts, before any request."""

from __future__ import annotations

import difflib
import typing as t

from tap_leads.auth.token_store import DEFAULT_KEY
from tap_leads.providers.accounts import account_name_ok, account_prefix
from tap_leads.providers.spec import CheckedSettings, ProviderSpec
from tap_leads.values import a_kind, as_number, blank, has_line_break, is_http_url


def check_provider(spec: ProviderSpec, block: dict) -> list[str]:
    entries = block.get("accounts")
    if entries is None:
        return _check_settings(spec, block, block, spec.key)
    # The block's own settings are defaults: checked once here, and needed in no form.
    errors = _check_settings(spec, block, block, spec.key, complete=False)
    if not isinstance(entries, list):
        return [
            *errors,
            f"{spec.key}.accounts is {a_kind(entries)}: it must be a list of accounts, each "
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
                f"{where} is {a_kind(entry)}: each account is an object with a name and that "
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
        if blank(value):
            if complete:
                errors.append(missing(name, f"{key}.{name} is missing. Set it: {meaning}"))
        elif name in own and name in spec.secrets and has_line_break(value):
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
    elif "api_url" in own and api_url and not is_http_url(api_url):
        errors.append(f"{where}.api_url {api_url!r} is not an http(s) URL like https://host.")
    # A value of the wrong kind is a type problem (config/types.py), not a range problem.
    page_size = own.get("page_size")
    if type(page_size) is int and not 1 <= page_size <= spec.max_page_size:
        errors.append(
            f"{where}.page_size is {page_size!r}: {label} takes 1 to "
            f"{spec.max_page_size} leads per page."
        )
    errors += positive_number_problems(
        own.get("requests_per_second"), f"{where}.requests_per_second"
    )
    for choice in spec.filters:
        value = own.get(choice.name)
        if choice.choices and value is not None and value not in choice.choices:
            errors.append(
                f"{where}.{choice.name} is {value!r}: {label} takes one of "
                f"{', '.join(choice.choices)}."
            )
    store_key = account if account_name_ok(account) else DEFAULT_KEY
    errors += spec.checks(CheckedSettings(merged, own, where, store_key, complete))
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


def positive_number_problems(value: t.Any, setting: str) -> list[str]:
    """A decimal setting (a number, or numeric text): of its kind, then above 0."""
    if value is None:
        return []
    number = as_number(value)
    if number is None:
        return [f"{setting} is {value!r}: it must be a number, like 1.5."]
    if number <= 0:
        return [f"{setting} is {value!r}: it must be above 0."]
    return []
