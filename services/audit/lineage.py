"""A restore begins a new audit epoch, recorded in the checkpoint chain itself.

The lost radar went on signing checkpoints after the backup; the restored one records the same
Kafka signals again as new records. So a restore gives the store a new store id (checkpoints
carry it, and the Kafka copy is keyed by it) and records its lineage here: the parent store,
the backup's position (its last notification and record count) and newest checkpoint, and
when. The first checkpoint the new store signs carries that lineage in its signed body and
links to the parent's checkpoint the backup holds, so `verify` can tell the lost radar's later
checkpoints (what the restore does not hold) from tampering. A lineage row no checkpoint signs
proves nothing (anyone who can write the database could add one), and verify says so.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    DateTime,
    MetaData,
    String,
    Table,
    delete,
    func,
    insert,
    select,
)

from services.audit.checkpoints import Checkpoint, audit_checkpoints
from services.database import stored_utc

metadata = MetaData()

# The store's name in its checkpoints: one row (a Kafka topic may carry several stores').
audit_store = Table(
    "audit_store",
    metadata,
    Column("store_id", String(36), primary_key=True),
)

audit_lineage = Table(
    "audit_lineage",
    metadata,
    Column("store_id", String(36), primary_key=True),  # the store the restore began
    Column("parent_store_id", String(36), nullable=False),  # the store the backup was taken of
    Column("parent_notification_id", BigInteger, nullable=False),  # the backup's position
    Column("parent_records", BigInteger, nullable=False),  # records the backup holds
    Column("parent_checkpoint_seq", BigInteger, nullable=False),  # its newest checkpoint (0: none)
    Column("restored_at", DateTime(timezone=True), nullable=False),
)


@dataclass(frozen=True)
class Restore:
    """One restore: `store` began at `parent`'s notification `notification_id`."""

    store: str
    parent: str
    notification_id: int
    records: int
    checkpoint_seq: int
    restored_at: datetime

    def signed_form(self) -> dict[str, Any]:
        """What the new store's first checkpoint signs under `restore`."""
        return {
            "parent_store": self.parent,
            "notification_id": self.notification_id,
            "records": self.records,
            "checkpoint_seq": self.checkpoint_seq,
            "restored_at": stored_utc(self.restored_at).isoformat(),
        }

    def notice(self, lost: Sequence[Checkpoint], source: str | None) -> str:
        """The line `verify` prints: what the restore holds of the parent, and what not
        (`source`: where the lost radar's checkpoints were looked for; None: nowhere)."""
        where = (
            f"restored on {self.signed_form()['restored_at']} from store {self.parent} at "
            f"notification {self.notification_id} (its checkpoint {self.checkpoint_seq})"
        )
        if source is None:
            return f"{where}: with no external copy, what the lost radar signed after it is unseen"
        if not lost:
            return f"{where}: {source} holds no checkpoint the lost radar signed after it"
        seqs = sorted({c.seq for c in lost})
        newest = max(lost, key=lambda c: c.seq)
        missing = max(0, int(newest.content["events"]["records"]) - self.records)
        return (
            f"{where}: the lost radar's checkpoints {seqs[0]}..{seqs[-1]} ({len(seqs)} on "
            f"{source}, up to notification {newest.notification_id}: {missing} records after "
            "the backup) are not in this store; this store's own checkpoints follow from "
            f"{self.checkpoint_seq + 1}"
        )


@dataclass(frozen=True)
class Lineage:
    """The current store and the restores it descends from, oldest first."""

    store: str
    restores: tuple[Restore, ...] = ()

    @property
    def stores(self) -> frozenset[str]:
        return frozenset({self.store, *(r.parent for r in self.restores)})

    def owner(self, seq: int) -> str:
        """The store that signed checkpoint `seq` of this database's chain."""
        for restore in self.restores:
            if seq <= restore.checkpoint_seq:
                return restore.parent
        return self.store

    def restore_from(self, parent: str) -> Restore | None:
        """The restore that left `parent` behind (its later checkpoints are not held)."""
        return next((r for r in self.restores if r.parent == parent), None)


def lineage(connection: Connection, store: str) -> Lineage:
    """The restores `store` descends from, read by following the parent links."""
    restores: list[Restore] = []
    current, seen = store, {store}
    while (row := _row(connection, current)) is not None and row.parent not in seen:
        restores.insert(0, row)
        current = row.parent
        seen.add(current)
    return Lineage(store, tuple(restores))


def unsigned_restore(
    connection: Connection, store: str, previous: Checkpoint | None
) -> dict[str, Any] | None:
    """The lineage the next checkpoint must carry: this store's restore, while the newest
    checkpoint is still the parent's (or there is none)."""
    if previous is not None and previous.store == store:
        return None
    restore = _row(connection, store)
    return None if restore is None else restore.signed_form()


def record_restore(
    connection: Connection, notification_id: int, records: int, restored_at: datetime
) -> Restore | None:
    """Gives the restored store a new id and records where it came from; None when the
    backup's store never named itself (no checkpoint was ever signed in it)."""
    parent = connection.execute(select(audit_store.c.store_id)).scalars().first()
    if parent is None:
        return None
    newest = connection.execute(select(func.max(audit_checkpoints.c.seq))).scalar()
    restore = Restore(
        str(uuid.uuid4()), str(parent), notification_id, records, int(newest or 0), restored_at
    )
    connection.execute(
        insert(audit_lineage).values(
            store_id=restore.store,
            parent_store_id=restore.parent,
            parent_notification_id=notification_id,
            parent_records=records,
            parent_checkpoint_seq=restore.checkpoint_seq,
            restored_at=restored_at,
        )
    )
    connection.execute(delete(audit_store))
    connection.execute(insert(audit_store).values(store_id=restore.store))
    return restore


def _row(connection: Connection, store: str) -> Restore | None:
    table = audit_lineage
    row = connection.execute(select(table).where(table.c.store_id == store)).first()
    if row is None:
        return None
    return Restore(
        store=str(row.store_id),
        parent=str(row.parent_store_id),
        notification_id=int(row.parent_notification_id),
        records=int(row.parent_records),
        checkpoint_seq=int(row.parent_checkpoint_seq),
        restored_at=stored_utc(row.restored_at),
    )
