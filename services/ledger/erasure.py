"""After retention: histories whose keys were destroyed (crypto-shredding). A mixin of
SignalLedger (services/ledger/application.py): what the ledger carries on of a household whose
earlier events can no longer be read, and the cached copies it must drop for it."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Repository
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import Mapper

from radar.case import case_id
from radar.household import Household, household_id
from services.ledger.notifications import ErasedEventError, NotificationLog

A = TypeVar("A", bound=Aggregate)


class ErasedHistories:
    """Reading on where an erased history left off; provided to the ledger."""

    if TYPE_CHECKING:  # provided by SignalLedger

        @property
        def repository(self) -> Repository[UUID]: ...

        @property
        def notifications(self) -> NotificationLog: ...

        mapper: Mapper[UUID]

        def unreadable_among(self, aggregate_ids: Sequence[UUID]) -> set[UUID]: ...

    def _forget_erased(self, pseudonyms: set[str]) -> None:
        """Drops cached aggregates of households (and cases) whose keys were destroyed since
        they were cached, so nothing of an erased history is carried into new events."""
        ids = [i for p in pseudonyms for i in (household_id(p), case_id(p))]
        cache = self.repository.cache
        if cache is None or not ids:
            return
        for aggregate_id in self.unreadable_among(ids):
            with contextlib.suppress(KeyError):
                cache.get(aggregate_id, evict=True)

    def _household_after_erasure(self, hid: UUID, pseudonym: str | None) -> Household:
        """What the radar recorded about a household since its history was erased."""
        if pseudonym is None:
            pseudonym = next(
                (
                    getattr(event, "household", None)
                    for event in self.notifications.readable_events_of(hid)
                    if getattr(event, "household", None)
                ),
                None,
            )
            if pseudonym is None:
                raise AggregateNotFoundError(hid)
        return self._continued_after_erasure(Household(pseudonym))

    def _continued_after_erasure(self, fresh: A) -> A:
        """`fresh`, a new aggregate whose creation is not recorded, continued where the
        erased stream with its id left off, with every event recorded since applied. For an
        aggregate that was never stored, `fresh` itself (to be created)."""
        stored_events = self.notifications.stored_events_of(fresh.id)
        if not stored_events:
            return fresh
        fresh.collect_events()
        aggregate: Any = fresh
        for stored in stored_events:
            try:
                event: Any = self.mapper.to_domain_event(stored)
            except ErasedEventError:
                aggregate.version = stored.originator_version
                continue
            aggregate = event.mutate(aggregate)
        continued: A = aggregate
        return continued
