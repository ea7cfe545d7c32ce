"""The read side of the ledger's notification log: every stored event in the order it was
recorded, for what follows the store (projectors, the audit sealer and verifier, the
point-in-time replay, retention).

Readers get notifications by position and the domain events they still hold; nothing outside
the ledger reaches through to its recorder or mapper. An event whose household was erased at the
end of its retention period (its key destroyed) keeps its place in the log but has no content:
`readable` passes over it, so a reader moves past it without reading anything.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import (
    ApplicationRecorder,
    Mapper,
    MapperDeserialisationError,
    Notification,
    StoredEvent,
)

PAGE_SIZE = 500  # notifications per select when walking the whole log

Prefetch = Callable[[Iterable[str]], None]
"""Told the originator ids of notifications about to be read (a store with per-aggregate keys
fetches them in one query)."""


class ErasedEventError(MapperDeserialisationError):
    """A stored event whose content was erased: its household's key was destroyed when its
    retention period ended (crypto-shredding). The event's place in the log remains."""


class NotificationLog:
    """The ledger's notifications, read by position (notification id)."""

    def __init__(
        self,
        recorder: ApplicationRecorder,
        mapper: Mapper[UUID],
        prefetch: Prefetch,
        read: Callable[[StoredEvent], Any] | None = None,
    ) -> None:
        self._recorder = recorder
        self._mapper = mapper
        self._prefetch = prefetch
        # How a notification becomes its domain event: the mapper's, or a store's own that
        # shares what its readers decoded (services/ledger/shared_reads.py).
        self._read = read or mapper.to_domain_event

    def after(
        self,
        position: int,
        limit: int,
        topics: Sequence[str] = (),
        stop: int | None = None,
    ) -> Sequence[Notification]:
        """Up to `limit` notifications after `position` (up to `stop`, inclusive), of these
        topics (all when none are given), as stored: content still encrypted."""
        return self._recorder.select_notifications(
            start=position,
            limit=limit,
            stop=stop,
            topics=topics,
            inclusive_of_start=False,
        )

    def readable(self, notifications: Iterable[Notification]) -> list[tuple[int, Any]]:
        """(notification id, domain event) for each notification whose content still exists;
        erased ones (retention) are passed over: they have a place in the log, no content."""
        notifications = list(notifications)
        self._prefetch(str(n.originator_id) for n in notifications)
        events = []
        for notification in notifications:
            try:
                events.append((notification.id, self._read(notification)))
            except ErasedEventError:
                continue
        return events

    def all_readable(self, topics: Sequence[str] = ()) -> Iterator[tuple[int, Any]]:
        """Every readable event in the log, in recorded order, page by page."""
        position = 0
        while page := self.after(position, PAGE_SIZE, topics):
            yield from self.readable(page)
            position = page[-1].id

    def last_id(self) -> int:
        """The id of the notification recorded last; 0 for an empty log."""
        return self._recorder.max_notification_id() or 0

    def stored_events_of(self, aggregate_id: UUID) -> Sequence[StoredEvent]:
        """Every stored event of one aggregate, as stored (erased ones included)."""
        return self._recorder.select_events(aggregate_id)

    def readable_events_of(self, aggregate_id: UUID) -> Iterator[Any]:
        """The domain events of one aggregate whose content still exists."""
        for stored in self.stored_events_of(aggregate_id):
            with contextlib.suppress(ErasedEventError):
                yield self._mapper.to_domain_event(stored)
