"""LeadData: reading and changing the leads an account serves, now or scheduled (see
mutations.py for the listing orders).

Every method that takes `account` (default: the "default" account) and `org` (Teli only: an
organisation's unique_id or name; default: the account's first one) works on that account's
leads."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from .data import TeliWorld
from .mutations import listing, mutate, schedule
from .registry import Registry
from .store import Lead, ScheduledMutation


class LeadData:
    def __init__(self, registry: Registry) -> None:
        self._registry = registry

    def primary_key(self, provider: str) -> str:
        """The field that identifies a lead: what touch() and soft_delete() take."""
        return self._registry.dataset(provider).world.key

    def teli_user_unique_id(
        self, user_id: str, account: str | None = None, org: str | None = None
    ) -> str:
        """The unique_id (what the user_id filter takes) of the Teli user whose UUID id a lead
        carries in its user_id field."""
        world = self._registry.dataset("teli", account, org).world
        assert isinstance(world, TeliWorld)
        for user in world.users:
            if user["id"] == user_id:
                return user["unique_id"]
        raise KeyError(f"no Teli user with id {user_id!r}")

    def leads(
        self, provider: str, account: str | None = None, org: str | None = None
    ) -> list[Lead]:
        """The leads a filterless listing returns, in creation order. The dicts are the
        emulator's own: read them, change them only through touch/add/soft_delete."""
        dataset = self._registry.dataset(provider, account, org)
        with dataset.lock:
            return list(dataset.live)

    def trashed(
        self, provider: str = "flextell", account: str | None = None, org: str | None = None
    ) -> list[Lead]:
        dataset = self._registry.dataset(provider, account, org)
        with dataset.lock:
            return list(dataset.trashed)

    def touch(
        self,
        provider: str,
        ids: Iterable[Any],
        when: datetime | None = None,
        account: str | None = None,
        org: str | None = None,
    ) -> list[Lead]:
        """Set the replication key of these leads (by primary key) to `when`, default now; two
        calls without `when` always get strictly increasing values."""
        return self._registry.dataset(provider, account, org).touch(ids, when)

    def add(
        self, provider: str, n: int, account: str | None = None, org: str | None = None
    ) -> list[Lead]:
        """Append n new leads, created now."""
        return self._registry.dataset(provider, account, org).add(n)

    def soft_delete(
        self,
        ids: Iterable[Any],
        provider: str = "flextell",
        account: str | None = None,
        org: str | None = None,
    ) -> list[Lead]:
        """Move these leads to the trash, with deleted_at (and updated_at) set to now."""
        return self._registry.dataset(provider, account, org).soft_delete(ids)

    def restore(
        self,
        provider: str,
        ids: Iterable[Any],
        when: datetime | None = None,
        account: str | None = None,
        org: str | None = None,
    ) -> list[Lead]:
        """Bring deleted leads (by primary key) back into the listings with their old dates,
        or with their replication key set to `when`."""
        return self._registry.dataset(provider, account, org).restore(ids, when)

    # Lists that change while they are read

    def listing(
        self, provider: str, account: str | None = None, org: str | None = None
    ) -> list[Lead]:
        """The leads of a filterless listing, in the provider's default order."""
        return listing(self._registry.api(provider, account, org))

    def listed_keys(
        self, provider: str, account: str | None = None, org: str | None = None
    ) -> list[Any]:
        """The primary keys of every lead a filterless listing returns, in listing order."""
        key = self.primary_key(provider)
        return [lead[key] for lead in self.listing(provider, account, org)]

    def mutate(
        self,
        provider: str,
        kind: str,
        *,
        account: str | None = None,
        org: str | None = None,
        **options: Any,
    ) -> list[Any]:
        """Change the list now; returns the primary keys of the leads concerned.

        kind "delete" (ids=[...], positions=[...] or n=N with start=S): the leads vanish and
        everything after them moves up; on Flextell they are soft-deleted into trashed=true.
        "insert_front" (n=N): N new leads, listed first. "move_front" (ids, positions or n and
        start; touch=True): the leads move to the head of the order, their replication key set to
        now unless touch=False. Positions count from 0 in the listing order."""
        return mutate(self._registry.api(provider, account, org), kind, **options)

    def schedule_mutation(
        self,
        provider: str,
        kind: str,
        *,
        after_page: int | None = None,
        after_requests: int | None = None,
        account: str | None = None,
        org: str | None = None,
        **options: Any,
    ) -> ScheduledMutation:
        """mutate() right after the emulator has served page `after_page` of any listing of this
        provider (that response still shows the old list), or after the `after_requests`-th list
        response from now; with both, the first response for that page from the N-th on."""
        mutation = schedule(
            self._registry.api(provider, account, org),
            kind,
            after_page=after_page,
            after_requests=after_requests,
            **options,
        )
        self._registry.mutations.append(mutation)
        return mutation

    def delete_leads(
        self, provider: str, *, after_page: int | None = None, **options: Any
    ) -> list[Any] | ScheduledMutation:
        """mutate(provider, "delete", ...) now, or scheduled when after_page/after_requests is
        given."""
        return self._change(provider, "delete", after_page, options)

    def insert_front(
        self, provider: str, n: int, *, after_page: int | None = None, **options: Any
    ) -> list[Any] | ScheduledMutation:
        return self._change(provider, "insert_front", after_page, {**options, "n": n})

    def move_to_front(
        self, provider: str, *, after_page: int | None = None, **options: Any
    ) -> list[Any] | ScheduledMutation:
        return self._change(provider, "move_front", after_page, options)

    def scheduled_mutations(self) -> list[ScheduledMutation]:
        """Every mutation scheduled since the data was last reset, fired or not."""
        return list(self._registry.mutations)

    def _change(
        self, provider: str, kind: str, after_page: int | None, options: dict[str, Any]
    ) -> list[Any] | ScheduledMutation:
        if after_page is None and options.get("after_requests") is None:
            options.pop("after_requests", None)
            return self.mutate(provider, kind, **options)
        return self.schedule_mutation(provider, kind, after_page=after_page, **options)
