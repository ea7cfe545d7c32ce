"""How the event store seals an event's state under its aggregate's data key, and the last
check before a batch of events commits: each is sealed under the key stored now.

A process remembers keys for a few seconds (privacy.storage.subject_keys), and seals a batch
before its transaction begins. Retention may destroy a household's key in between. Without a
check, events about a household with new signals would commit sealed under a destroyed key:
unreadable from the start, a signal lost without anyone knowing. So inside the transaction,
after the events are inserted and before the commit, the fence reads the key rows of the
batch's aggregates and opens one event of each with its row's key; when a row is gone, or is
another key, the store refuses the batch (IntegrityError, as a version conflict): the writer
forgets what it cached and writes again on fresh state, under a new key.

Why inside the transaction orders it against retention (SubjectKeyStore.destroy_unless): on
SQLite the fence runs after the batch's insert, holding the one write lock, so it sees any
destruction committed before and none can commit until the batch does; on PostgreSQL it
holds the key rows (FOR SHARE) until the commit, so a destruction waits for the batch (and
then sees its events) or the batch waits for the destruction (and then finds the row gone).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import IntegrityError, StoredEvent

from privacy.key_encryption import UnreadableError, unseal
from privacy.storage.subject_keys import SubjectKeyStore

ENCRYPTED = b"\x01rse"  # marks an encrypted state; states written before encryption are JSON
SUBJECTS_PER_QUERY = 500  # well under SQLite's bound on parameters per statement


def bound_to(stored: StoredEvent) -> bytes:
    """What a state's ciphertext is bound to: moved to another place in the log, it fails."""
    return (
        f"signal-radar/event-state|v1|{stored.originator_id}|"
        f"{stored.originator_version}|{stored.topic}"
    ).encode()


class KeyFence:
    """Refuses a batch of events sealed under a key that is no longer the stored one."""

    def __init__(self, keys: SubjectKeyStore, table: str) -> None:
        self._keys = keys
        self._table = table

    def check(self, cursor: Any, stored_events: Sequence[StoredEvent], postgres: bool) -> None:
        """Within the batch's transaction, on its DB-API cursor (the library's recorder's)."""
        first_of: dict[str, StoredEvent] = {}
        for stored in stored_events:
            if bytes(stored.state[: len(ENCRYPTED)]) == ENCRYPTED:
                first_of.setdefault(str(stored.originator_id), stored)
        if not first_of:
            return
        mark, lock = ("%s", " FOR SHARE") if postgres else ("?", "")
        subjects = sorted(first_of)
        rows: dict[str, tuple[str, bytes]] = {}
        for start in range(0, len(subjects), SUBJECTS_PER_QUERY):
            chunk = subjects[start : start + SUBJECTS_PER_QUERY]
            marks = ", ".join([mark] * len(chunk))  # the table is ours, the values bound
            select = f"SELECT subject, kek_id, wrapped_key FROM {self._table}"  # noqa: S608
            cursor.execute(f"{select} WHERE subject IN ({marks}){lock}", chunk)
            for row in cursor.fetchall():
                rows[row["subject"]] = (row["kek_id"], bytes(row["wrapped_key"]))
        stale = [s for s, stored in first_of.items() if not self._opens(s, rows.get(s), stored)]
        if stale:
            raise IntegrityError(
                f"{len(stale)} aggregates' events were sealed under a key destroyed meanwhile"
            )

    def _opens(self, subject: str, row: tuple[str, bytes] | None, stored: StoredEvent) -> bool:
        if row is None:
            return False
        key = self._keys.stored_key(subject, *row)[0]
        try:
            unseal(key, bytes(stored.state)[len(ENCRYPTED) :], bound_to(stored))
        except UnreadableError:
            return False
        return True
