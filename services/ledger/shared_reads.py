"""Decoded events shared by the readers of one process's notification log.

The projector keeps seven read models, each reading the log from its own position, so most
events were decoded three times over (a signal recorded is read by five of them): a fifth of
the projector's work. The readers move within a batch or two of each other, so a small
window of recently decoded events serves them all.

An event is handed out again only while its household's data key is the one it was opened
with: a household erased meanwhile (its key destroyed, or a new one made after) reads as
erased at once, exactly as the event decoded afresh would. Readers treat events as values
(nothing in a read model changes an event it was given).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Mapper, StoredEvent

from privacy.storage.subject_keys import SubjectKeyStore

SHARED_EVENTS = 4096
"""How many decoded events are kept: the spread of seven read models' positions at the
projector's batch of 1,000, with room (a few MB)."""


class SharedReads:
    """Decodes stored events with a mapper, keeping the latest few for the next reader."""

    def __init__(
        self, mapper: Mapper[UUID], keys: SubjectKeyStore, capacity: int = SHARED_EVENTS
    ) -> None:
        self._mapper = mapper
        self._keys = keys
        self._capacity = capacity
        self._events: OrderedDict[tuple[UUID | str, int], tuple[bytes, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, stored: StoredEvent) -> Any:
        """The domain event of a stored event (ErasedEventError when its key is gone)."""
        place = (stored.originator_id, stored.originator_version)
        key = self._keys.key(str(stored.originator_id))
        with self._lock:
            found = self._events.get(place)
        if found is not None and key is not None and found[0] == key:
            return found[1]
        event = self._mapper.to_domain_event(stored)  # raises when erased
        if key is not None:
            with self._lock:
                self._events[place] = (key, event)
                if len(self._events) > self._capacity:
                    self._events.popitem(last=False)
        return event
