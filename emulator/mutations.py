"""Lists that move while a client reads them: deletes, inserts at the head of the listing order
and moves to its head, applied at once or scheduled to fire right after a page is served.

"Listing order" is the order of a filterless listing with the provider's default sort: creation
order for Teli and Sela, next call then newest for Nexus ERP, newest created_at for Flextell and
highest id for Autocalls. Positions count from 0 in that order, at the moment the change applies.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from .data.clock import SECOND, to_us
from .data.nexus_erp import stamp as nexus_stamp
from .providers.base import Listing, ProviderAPI
from .store import Lead, ScheduledMutation

KINDS = ("delete", "insert_front", "move_front")
# The selection of a filterless listing in each provider's default order.
DEFAULT_SELECTIONS: dict[str, tuple[Any, ...]] = {
    "teli": (None, None, None),
    "nexus_erp": (None, None, None),
    "flextell": (None, None, None, None, "created_at", "desc", False),
    "sela": (None, None, None, None),
    "autocalls": (None, None, None, None, None),
}
# Where a lead created now is listed first without help: newest created_at, highest id.
NEWEST_FIRST = frozenset({"flextell", "autocalls"})
_QUARTER_HOUR = 900 * SECOND
_ids = itertools.count(1)


def listing(api: ProviderAPI) -> list[Lead]:
    """The leads of a filterless listing, in the provider's default order."""
    with api.dataset.lock:
        return list(api.rows(Listing(None, 1, DEFAULT_SELECTIONS[api.name])))


def check(api: ProviderAPI, kind: str, options: dict[str, Any]) -> None:
    """Refuse a change that could not apply, before it is scheduled to run inside a request."""
    if kind not in KINDS:
        raise ValueError(f"unknown mutation {kind!r}; expected one of {list(KINDS)}")
    unknown = set(options) - {"ids", "positions", "n", "start", "touch"}
    if unknown:
        raise ValueError(f"unknown mutation options {sorted(unknown)}")
    if kind == "insert_front":
        if not isinstance(options.get("n"), int) or options["n"] < 1:
            raise ValueError("insert_front needs n >= 1")
        return
    chosen = [name for name in ("ids", "positions", "n") if options.get(name) is not None]
    if len(chosen) != 1:
        raise ValueError(f"{kind} needs exactly one of ids, positions or n")
    if options.get("ids") is not None:
        api.dataset.find(_as_list(options["ids"]))
    if any(p < 0 for p in options.get("positions") or ()):
        raise ValueError("positions count from 0")


def apply(
    api: ProviderAPI,
    kind: str,
    *,
    ids: Iterable[Any] | Any | None = None,
    positions: Iterable[int] | None = None,
    n: int | None = None,
    start: int = 0,
    touch: bool = True,
) -> list[Any]:
    """Make the change now; the primary keys of the leads it deleted, created or moved."""
    dataset, key = api.dataset, api.world.key
    with dataset.lock:
        if kind == "insert_front":
            assert n is not None
            created = _lead(api, dataset.add(n), created=True)
            return [lead[key] for lead in created]
        if ids is not None:
            chosen = dataset.find(_as_list(ids))
        else:
            order = listing(api)
            wanted = range(start, start + (n or 0)) if positions is None else positions
            chosen = [order[p] for p in dict.fromkeys(wanted) if 0 <= p < len(order)]
        keys = [lead[key] for lead in chosen]
        if not keys:
            return []
        if kind == "delete":
            # Flextell deletes softly: the lead moves to trashed=true. The others forget it.
            if api.name == "flextell":
                dataset.soft_delete(keys)
            else:
                dataset.remove(keys)
            return keys
        if touch:
            dataset.touch(keys)
        _lead(api, chosen, created=False)
        return keys


def schedule(
    api: ProviderAPI,
    kind: str,
    *,
    after_page: int | None = None,
    after_requests: int | None = None,
    **options: Any,
) -> ScheduledMutation:
    options = {name: _plain(value) for name, value in options.items()}
    check(api, kind, options)
    if after_page is not None and after_page < 1:
        raise ValueError("after_page counts from 1")
    if after_requests is not None and after_requests < 1:
        raise ValueError("after_requests counts from 1")
    mutation = ScheduledMutation(
        id=next(_ids),
        kind=kind,
        after_page=after_page,
        after_requests=after_requests or 1,
        apply=lambda: apply(api, kind, **options),
        options=options,
    )
    with api.dataset.lock:
        api.dataset.schedule.append(mutation)
    return mutation


def _lead(api: ProviderAPI, leads: list[Lead], *, created: bool) -> list[Lead]:
    """Put these leads at the head of the listing order; returns them in their new order."""
    dataset = api.dataset
    if api.name == "nexus_erp":
        # The documented order starts with the earliest next call: schedule these calls before
        # every other one, as a user rescheduling them would.
        moved = {id(lead) for lead in leads}
        planned = [
            lead["nextCallAt"]
            for lead in dataset.live
            if lead["nextCallAt"] is not None and id(lead) not in moved
        ]
        earliest = to_us(datetime.fromisoformat(min(planned))) if planned else _now_us()
        earliest -= earliest % _QUARTER_HOUR
        for n, lead in enumerate(leads):
            lead["nextCallAt"] = nexus_stamp(earliest - (len(leads) - n) * _QUARTER_HOUR)
        dataset.changed()
    elif created and api.name in NEWEST_FIRST and not dataset.front:
        # Newest and highest-numbered already, so first without any help, the last one first.
        return leads[::-1]
    else:
        dataset.pin(leads)
    return leads


def _as_list(ids: Iterable[Any] | Any) -> list[Any]:
    return [ids] if isinstance(ids, str | int) else list(ids)


def _plain(value: Any) -> Any:
    # Iterables become lists: checked once, applied later, and shown by the control surface.
    if isinstance(value, str | bytes | dict) or not isinstance(value, Iterable):
        return value
    return list(value)


def _now_us() -> int:
    return to_us(datetime.now(UTC))


def mutate(api: ProviderAPI, kind: str, **options: Any) -> list[Any]:
    """Check the change as schedule() does, then make it now."""
    options = {name: _plain(value) for name, value in options.items()}
    check(api, kind, options)
    return apply(api, kind, **options)
