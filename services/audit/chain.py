"""The hash chain over the event store's global sequence.

A record's digest covers what the store holds for it: originator id, version, topic and the
state bytes exactly as stored. Payloads encrypted (or keys shredded) later hash the same, so
the chain keeps verifying. Each link also covers the notification id and the previous link, so
a record that is changed, removed, inserted or moved breaks the chain where it happened.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any
from uuid import UUID

GENESIS = "0" * 64


@dataclass(frozen=True)
class StoredRecord:
    """One row of the event store's notification log, as stored."""

    notification_id: int
    originator_id: str
    originator_version: int
    topic: str
    state: bytes

    @classmethod
    def of(cls, notification: Any) -> StoredRecord:
        """From an eventsourcing Notification (SQLite and PostgreSQL recorders alike)."""
        originator = notification.originator_id
        return cls(
            notification_id=int(notification.id),
            originator_id=str(originator if isinstance(originator, UUID) else UUID(originator)),
            originator_version=int(notification.originator_version),
            topic=str(notification.topic),
            state=bytes(notification.state),
        )

    @property
    def identity(self) -> tuple[str, int]:
        """What names an event independently of its place in the sequence."""
        return (self.originator_id, self.originator_version)

    def digest(self) -> str:
        """The record's content hash (length-prefixed fields: no two records collide by
        moving bytes between fields)."""
        hasher = hashlib.sha256()
        for part in (
            self.originator_id.encode(),
            str(self.originator_version).encode(),
            self.topic.encode(),
            self.state,
        ):
            hasher.update(len(part).to_bytes(8, "big"))
            hasher.update(part)
        return hasher.hexdigest()


def link(previous: str, notification_id: int, digest: str) -> str:
    """The chain hash after appending one record to the chain ending in `previous`."""
    return hashlib.sha256(f"{previous}\x1f{notification_id}\x1f{digest}".encode()).hexdigest()
