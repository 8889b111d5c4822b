"""The /_control/ endpoints, for driving a running emulator from another process.

GET  /_control/requests      the request log
GET  /_control/config        a complete tap config
POST /_control/faults        {"provider": "sela", "kind": "rate_limit", "times": 2, ...},
                             {"provider": "teli", "latency_ms": 50}, {"latency_ms": 50},
                             {"clear": true}, or a list of these
POST /_control/reset         back to the state at start: seeded data, no faults, empty log
POST /_control/touch         {"provider": "sela", "ids": [28001], "when": "2026-11-01T00:00:00Z"}
POST /_control/add           {"provider": "autocalls", "n": 5}
POST /_control/soft_delete   {"ids": [3, 4]}
POST /_control/restore       {"provider": "teli", "ids": ["17…x…"], "when": null}: deleted
                             leads listed again, with their old dates unless "when" is given
POST /_control/mutate        {"provider": "sela", "kind": "delete", "positions": [0, 1]}: now
POST /_control/mutations     {"provider": "nexus_erp", "kind": "move_front", "n": 3,
                             "touch": false, "after_page": 2}: scheduled (after_page and/or
                             after_requests); kinds delete, insert_front, move_front
GET  /_control/mutations     every scheduled mutation: fired or not, the keys it concerned
GET  /_control/listed?provider=sela   the primary keys a filterless listing returns, in order
GET  /_control/config?accounts=true  the accounts form (also include_default, teli_all_orgs)
GET  /_control/accounts      per provider, every account: credentials, leads, revoked, limit
POST /_control/accounts      {"provider": "sela", "account": "acme", "revoked": true}
POST /_control/teli_orgs     {"account": "partner", "name": "West", "leads": 40}
POST /_control/rate_limits   {"provider": "sela", "account": "acme", "per_second": 5,
                             "burst": 5, "max_concurrent": 2} (neither: lifted), {"clear": true}
                             or a list of these
POST /_control/quotas        {"provider": "flextell", "quota": "25/s", "account": "acme",
                             "enforced": true}: an announced quota (emulator/quota.py) on one
                             account, or on every account without "account"; "quota": null
                             goes back to the default; a list of these

Every endpoint that changes or reads leads, and /faults, also takes "account" (default: the
provider's "default" account) and, for Teli, "org" (an organisation's unique_id or name).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import orjson

from .client_config import ClientConfigs
from .lead_data import LeadData
from .registry import Registry
from .requestlog import RequestLog
from .wire import Request, Response, json_response


@dataclass(frozen=True)
class Controlled:
    """What the control endpoints drive: the emulator's parts, and its reset."""

    registry: Registry
    data: LeadData
    configs: ClientConfigs
    log: RequestLog
    reset: Callable[[], None]


def control_response(emulator: Controlled, request: Request, body: bytes) -> Response:
    action = request.path.removeprefix("/_control/")
    try:
        payload = orjson.loads(body) if body else {}
        if request.method == "GET" and action == "requests":
            return json_response(200, [record.as_json() for record in emulator.log.all()])
        if request.method == "GET" and action == "config":
            flags = {name: value.lower() in ("1", "true") for name, value in request.query}
            if not flags.get("accounts"):
                return json_response(200, emulator.configs.tap_config())
            flags.pop("accounts")
            return json_response(200, emulator.configs.accounts_config(**flags))
        if request.method == "GET" and action in _READERS:
            return json_response(200, _READERS[action](emulator, dict(request.query)))
        if request.method != "POST" or action not in _ACTIONS:
            return json_response(404, {"error": f"no control endpoint {request.method} {action}"})
        return json_response(200, _ACTIONS[action](emulator, payload))
    except (ValueError, KeyError, TypeError) as exc:
        return json_response(400, {"error": str(exc)})


def _faults(emulator: Controlled, payload: Any) -> dict[str, Any]:
    for item in payload if isinstance(payload, list) else [payload]:
        options = dict(item)
        provider = options.pop("provider", None)
        account = options.pop("account", None)
        if options.pop("clear", False):
            emulator.registry.clear_faults()
        elif "latency_ms" in options and provider is None:
            emulator.registry.latency_ms = float(options["latency_ms"])
        elif "latency_ms" in options:
            emulator.registry.faults(provider, account).latency_ms = float(options["latency_ms"])
        else:
            emulator.registry.faults(provider, account).add(options.pop("kind"), **options)
    accounts = {
        name: {
            account: [asdict(fault) for fault in emulator.registry.faults(name, account).pending]
            for account in emulator.registry.account_names(name)
            if emulator.registry.faults(name, account).pending
        }
        for name in emulator.registry.names
    }
    return {
        "accounts": {name: pending for name, pending in accounts.items() if pending},
        "latency_ms": emulator.registry.latency_ms,
        "providers": {
            name: {
                "latency_ms": emulator.registry.faults(name).latency_ms,
                "pending": [asdict(fault) for fault in emulator.registry.faults(name).pending],
            }
            for name in emulator.registry.names
        },
    }


def _reset(emulator: Controlled, payload: Any) -> dict[str, Any]:
    emulator.reset()
    return {"reset": True}


def _touch(emulator: Controlled, payload: Any) -> dict[str, Any]:
    when = datetime.fromisoformat(payload["when"]) if payload.get("when") else None
    touched = emulator.data.touch(payload["provider"], payload["ids"], when, **_whose(payload))
    return {"touched": len(touched)}


def _add(emulator: Controlled, payload: Any) -> dict[str, Any]:
    provider = payload["provider"]
    key = emulator.data.primary_key(provider)
    added = emulator.data.add(provider, int(payload["n"]), **_whose(payload))
    return {"added": [lead[key] for lead in added]}


def _soft_delete(emulator: Controlled, payload: Any) -> dict[str, Any]:
    provider = payload.get("provider", "flextell")
    return {"deleted": len(emulator.data.soft_delete(payload["ids"], provider, **_whose(payload)))}


def _restore(emulator: Controlled, payload: Any) -> dict[str, Any]:
    when = datetime.fromisoformat(payload["when"]) if payload.get("when") else None
    back = emulator.data.restore(payload["provider"], payload["ids"], when, **_whose(payload))
    return {"restored": len(back)}


def _whose(payload: dict[str, Any]) -> dict[str, Any]:
    return {"account": payload.get("account"), "org": payload.get("org")}


def _accounts(emulator: Controlled, payload: Any) -> dict[str, Any]:
    for item in payload if isinstance(payload, list) else [payload]:
        if "revoked" in item:
            change = emulator.registry.revoke if item["revoked"] else emulator.registry.reinstate
            change(item["provider"], item.get("account"))
    return emulator.registry.describe_accounts()


def _describe_accounts(emulator: Controlled, query: dict[str, str]) -> dict[str, Any]:
    return emulator.registry.describe_accounts()


def _teli_orgs(emulator: Controlled, payload: Any) -> dict[str, Any]:
    leads = payload.get("leads")
    added = emulator.registry.add_teli_org(
        payload.get("account"), payload.get("name"), None if leads is None else int(leads)
    )
    return {"added": added, "organizations": emulator.registry.teli_orgs(payload.get("account"))}


def _rate_limits(emulator: Controlled, payload: Any) -> dict[str, Any]:
    for item in payload if isinstance(payload, list) else [payload]:
        options = dict(item)
        if options.pop("clear", False):
            emulator.registry.clear_rate_limits()
            continue
        emulator.registry.set_rate_limit(
            options.pop("provider"), options.pop("account", None), **options
        )
    return {
        provider: {entry["name"]: entry["rate_limit"] for entry in entries if entry["rate_limit"]}
        for provider, entries in emulator.registry.describe_accounts().items()
    }


def _quotas(emulator: Controlled, payload: Any) -> dict[str, Any]:
    for item in payload if isinstance(payload, list) else [payload]:
        emulator.registry.set_quota(
            item["provider"],
            item.get("quota"),
            account=item.get("account"),
            enforced=bool(item.get("enforced", True)),
        )
    return {
        provider: {entry["name"]: entry["quota"] for entry in entries if "quota" in entry}
        for provider, entries in emulator.registry.describe_accounts().items()
    }


def _mutate(emulator: Controlled, payload: Any) -> dict[str, Any]:
    options = dict(payload)
    changed = emulator.data.mutate(options.pop("provider"), options.pop("kind"), **options)
    return {"changed": changed}


def _schedule(emulator: Controlled, payload: Any) -> dict[str, Any]:
    options = dict(payload)
    mutation = emulator.data.schedule_mutation(
        options.pop("provider"), options.pop("kind"), **options
    )
    return mutation.as_json()


def _mutations(emulator: Controlled, query: dict[str, str]) -> list[dict[str, Any]]:
    return [mutation.as_json() for mutation in emulator.data.scheduled_mutations()]


def _listed(emulator: Controlled, query: dict[str, str]) -> dict[str, Any]:
    options = dict(query)
    provider = options.pop("provider")
    return {"provider": provider, "keys": emulator.data.listed_keys(provider, **options)}


_READERS = {
    "mutations": _mutations,
    "listed": _listed,
    "accounts": _describe_accounts,
}

_ACTIONS = {
    "faults": _faults,
    "reset": _reset,
    "touch": _touch,
    "add": _add,
    "soft_delete": _soft_delete,
    "restore": _restore,
    "mutate": _mutate,
    "mutations": _schedule,
    "accounts": _accounts,
    "teli_orgs": _teli_orgs,
    "rate_limits": _rate_limits,
    "quotas": _quotas,
}
