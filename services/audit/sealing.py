"""The sealer: follows the event store, extends the hash chain over every stored record, and
signs checkpoints of the chain heads at intervals (published to Kafka as well).

It runs in the projector process as one more follower. The chain lives in a table of its own,
one row per record, so that `verify` can say exactly which record no longer matches.
"""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import structlog
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import (
    BigInteger,
    Column,
    Engine,
    Index,
    MetaData,
    String,
    Table,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from privacy.storage.access_log import access_log
from services import metrics
from services.audit.chain import GENESIS, StoredRecord, link
from services.audit.checkpoint_topic import CheckpointPublisher
from services.audit.checkpoints import Checkpoint, audit_checkpoints, new_checkpoint
from services.audit.lineage import audit_store, unsigned_restore
from services.audit.settings import AuditSettings
from services.ledger.application import SignalLedger

log = structlog.get_logger("radar.audit.sealer")

PUBLISH_RETRY_SECONDS = 5.0

metadata = MetaData()

audit_event_chain = Table(
    "audit_event_chain",
    metadata,
    Column("notification_id", BigInteger, primary_key=True, autoincrement=False),
    Column("ordinal", BigInteger, nullable=False),  # how many records the chain holds up to here
    Column("originator_id", String(36), nullable=False),
    Column("originator_version", BigInteger, nullable=False),
    Column("digest", String(64), nullable=False),
    Column("chain_hash", String(64), nullable=False),
    # A record sealed once can never be sealed again: a store reordered behind the sealer's back
    # makes sealing stop (and verify say where) instead of sealing the forgery.
    Index("audit_event_chain_identity", "originator_id", "originator_version", unique=True),
)


def store_id(engine: Engine) -> str:
    """This event store's name in its checkpoints, made on first use: one Kafka topic may
    carry the checkpoints of several stores (test, acceptance, production)."""
    for _ in range(2):
        with engine.connect() as connection:
            found = connection.execute(select(audit_store.c.store_id)).scalars().first()
        if found is not None:
            return str(found)
        with contextlib.suppress(IntegrityError), engine.begin() as connection:
            connection.execute(insert(audit_store).values(store_id=str(uuid.uuid4())))
    raise RuntimeError("could not name the event store")


@dataclass(frozen=True)
class ChainHead:
    """The last sealed record: where the next one links on."""

    notification_id: int
    ordinal: int
    chain_hash: str


EMPTY_CHAIN = ChainHead(0, 0, GENESIS)


def chain_rows(head: ChainHead, records: Sequence[StoredRecord]) -> list[dict[str, Any]]:
    """The chain-table rows that extend `head` with `records` (in notification order)."""
    rows: list[dict[str, Any]] = []
    previous, ordinal = head.chain_hash, head.ordinal
    for record in records:
        digest = record.digest()
        previous = link(previous, record.notification_id, digest)
        ordinal += 1
        rows.append(
            {
                "notification_id": record.notification_id,
                "ordinal": ordinal,
                "originator_id": record.originator_id,
                "originator_version": record.originator_version,
                "digest": digest,
                "chain_hash": previous,
            }
        )
    return rows


def chain_head(connection: Connection) -> ChainHead:
    row = connection.execute(
        select(
            audit_event_chain.c.notification_id,
            audit_event_chain.c.ordinal,
            audit_event_chain.c.chain_hash,
        )
        .order_by(audit_event_chain.c.notification_id.desc())
        .limit(1)
    ).first()
    return EMPTY_CHAIN if row is None else ChainHead(row[0], row[1], row[2])


def access_log_head(connection: Connection) -> tuple[int, str] | None:
    row = connection.execute(
        select(access_log.c.seq, access_log.c.entry_hash).order_by(access_log.c.seq.desc()).limit(1)
    ).first()
    return None if row is None else (int(row[0]), str(row[1]))


def last_checkpoint(connection: Connection) -> Checkpoint | None:
    row = connection.execute(
        select(audit_checkpoints.c.body, audit_checkpoints.c.signature)
        .order_by(audit_checkpoints.c.seq.desc())
        .limit(1)
    ).first()
    return None if row is None else Checkpoint(row[0], row[1])


def newest_sealed_at(engine: Engine) -> datetime | None:
    """When the newest checkpoint was sealed (None before the first), for its age metric."""
    with engine.connect() as connection:
        newest = last_checkpoint(connection)
    return None if newest is None else datetime.fromisoformat(newest.content["sealed_at"])


class Sealer:
    """A Follower: seals new records, signs checkpoints, publishes unpublished checkpoints.

    An idle step costs one select: the chain head is kept in memory (checked against the table
    in the transaction that extends it) and checkpoint bookkeeping is read only when one may
    be due.
    """

    def __init__(
        self,
        ledger: SignalLedger,
        engine: Engine,
        signing_key: Ed25519PrivateKey,
        publisher: CheckpointPublisher | None,
        settings: AuditSettings,
        clock: Callable[[], float] = time.monotonic,
        signs_restore: bool = False,
    ) -> None:
        self._ledger = ledger
        # Only the restore's own commands (radar backup restore, restore-keys, check) sign a
        # restore's lineage: signed by the sealer, a row anyone wrote into the database would
        # turn a truncation into a restore.
        self._signs_restore = signs_restore
        self._refused_restore = False
        self._engine = engine
        self._key = signing_key
        self._publisher = publisher
        self._settings = settings
        self._clock = clock
        self._store = store_id(engine)
        self._head: ChainHead | None = None
        self._sealed_since_check = 0
        self._checked_at = float("-inf")
        self._wake = threading.Event()
        self._publishing: threading.Thread | None = None

    def step(self) -> int:
        """Seals the next batch; returns how many records it sealed (0 when caught up)."""
        sealed = self.seal_batch()
        signed = self.checkpoint_if_due(caught_up=sealed < self._settings.seal_batch_records)
        if signed is not None or self._publishing is None:
            self._wake_publisher()  # the first step also publishes what an earlier run left
        return sealed

    def catch_up(self) -> int:
        """Seals everything stored so far and signs a checkpoint of it."""
        total = 0
        while sealed := self.seal_batch():
            total += sealed
            self.checkpoint_if_due(caught_up=False)
        self.checkpoint_if_due(caught_up=True, force=True)
        self.publish_pending()
        return total

    def seal_batch(self) -> int:
        """Extends the chain with the next records of the store; 0 when there are none (or
        another sealer got there first)."""
        if self._head is None:
            with self._engine.connect() as connection:
                self._head = chain_head(connection)
        head = self._head
        notifications = self._ledger.notifications.after(
            head.notification_id, self._settings.seal_batch_records
        )
        if not notifications:
            return 0
        rows = chain_rows(head, [StoredRecord.of(n) for n in notifications])
        try:
            with self._engine.begin() as connection:
                if chain_head(connection) != head:
                    self._head = None  # another sealer moved on: start from its head
                    return 0
                connection.execute(insert(audit_event_chain), rows)
        except IntegrityError:
            log.warning("sealing refused: a record is sealed already or another sealer moved on")
            self._head = None
            return 0
        last = rows[-1]
        self._head = ChainHead(last["notification_id"], last["ordinal"], last["chain_hash"])
        self._sealed_since_check += len(rows)
        return len(rows)

    def checkpoint_if_due(self, caught_up: bool, force: bool = False) -> Checkpoint | None:
        """Signs a checkpoint every N sealed records, or when idle with something unsigned."""
        idle = self._settings.checkpoint_idle_seconds
        if not force and (
            (caught_up and self._clock() - self._checked_at < idle)
            or (
                not caught_up and self._sealed_since_check < self._settings.checkpoint_every_records
            )
        ):
            return None
        self._checked_at = self._clock()
        with self._engine.connect() as connection:
            head = chain_head(connection)
            access_head = access_log_head(connection)
            previous = last_checkpoint(connection)
            restore = unsigned_restore(connection, self._store, previous)
        signed_records = 0 if previous is None else int(previous.content["events"]["records"])
        signed_access = None if previous is None else previous.content["access_log"]
        unsigned = head.ordinal - signed_records
        access_moved = access_head is not None and (
            signed_access is None or signed_access["seq"] != access_head[0]
        )
        self._sealed_since_check = unsigned
        if restore is not None and not self._signs_restore:
            self._refuse_unconfirmed(restore)
            return None
        if not (unsigned or access_moved or restore):
            return None
        if not (
            force or caught_up or restore or unsigned >= self._settings.checkpoint_every_records
        ):
            return None
        checkpoint = new_checkpoint(
            self._key,
            store=self._store,
            seq=1 if previous is None else previous.seq + 1,
            previous=previous,
            notification_id=head.notification_id,
            records=head.ordinal,
            chain_hash=head.chain_hash,
            access_log_head=access_head,
            sealed_at=(sealed_at := datetime.now(UTC)),
            restore=restore,  # a restored store's first checkpoint: where its epoch began
        )
        try:
            with self._engine.begin() as connection:
                connection.execute(
                    insert(audit_checkpoints).values(
                        seq=checkpoint.seq,
                        notification_id=checkpoint.notification_id,
                        body=checkpoint.body,
                        signature=checkpoint.signature,
                        previous=checkpoint.content["previous"],
                    )
                )
        except IntegrityError:
            return None  # another sealer signed this place in the chain
        self._sealed_since_check = 0
        metrics.checkpoint_sealed(sealed_at)
        return checkpoint

    def _refuse_unconfirmed(self, restore: dict[str, Any]) -> None:
        if not self._refused_restore:
            log.warning(
                "checkpoints wait for a restore to be signed: the database records a restore "
                "no checkpoint signs yet; if this database was restored from a backup, run "
                "`radar backup check` with its keys in place, otherwise it was not written by "
                "a restore",
                parent_store=restore["parent_store"],
                notification_id=restore["notification_id"],
            )
        self._refused_restore = True

    def publish_pending(self) -> int:
        """Publishes unpublished checkpoints now (the background thread does so otherwise)."""
        return 0 if self._publisher is None else publish_pending(self._engine, self._publisher)

    def _wake_publisher(self) -> None:
        """Kafka is slow or down at times: publishing must never hold up the projections that
        share this process, so a background thread does it."""
        if self._publisher is None:
            return
        if self._publishing is None:
            self._publishing = threading.Thread(
                target=self._publish_forever, name="checkpoint-publisher", daemon=True
            )
            self._publishing.start()
        self._wake.set()

    def _publish_forever(self) -> None:
        assert self._publisher is not None
        while True:
            self._wake.wait(PUBLISH_RETRY_SECONDS)
            self._wake.clear()
            try:
                publish_pending(self._engine, self._publisher)
            except Exception as error:  # the database may be restarting: retry
                log.warning("publishing checkpoints failed", error=type(error).__name__)

    def close(self) -> None:
        if self._publisher is not None:
            self._publisher.close()


def publish_pending(engine: Engine, publisher: CheckpointPublisher) -> int:
    """Publishes checkpoints not yet on Kafka, oldest first; returns how many."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(audit_checkpoints.c.seq, audit_checkpoints.c.body, audit_checkpoints.c.signature)
            .where(audit_checkpoints.c.published_at.is_(None))
            .order_by(audit_checkpoints.c.seq)
            .limit(100)
        ).all()
    if not rows or not publisher.publish([Checkpoint(r[1], r[2]) for r in rows]):
        return 0
    with engine.begin() as connection:
        connection.execute(
            update(audit_checkpoints)
            .where(audit_checkpoints.c.seq.in_([r[0] for r in rows]))
            .values(published_at=datetime.now(UTC))
        )
    log.info("checkpoints published", count=len(rows), last_seq=rows[-1][0])
    return len(rows)
