"""The receipts tables and the format their rows are in, with the one-time migration of rows
written before lookup digests (format 1) to digests and sealed households (format 2).

Receipts are not a projection: nothing can rebuild them (the event store does not know which
event id a publisher used for what, nor who published a signal when it reached the radar
before corrections existed), so format-1 rows are rewritten in place, once, in one transaction,
under the schema lock. Each step is derived from what the row holds: the id's and household's
digests, the fingerprint keyed over the unkeyed hash format 1 stored. The rewrite erases as
it goes (privacy.storage.erasure), so the old values do not stay in free pages either.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    bindparam,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from privacy.lookup_digests import FINGERPRINT, LookupDigests
from privacy.storage.erasure import erasing
from privacy.storage.sealed_rows import RowSealer

FORMAT = 2
PLAIN_ID_LENGTH = 36  # a UUID as text; a digest is 32 characters
BATCH = 1000
RECEIPTS = "ingest_receipts"

metadata = MetaData()

ingest_receipts = Table(
    "ingest_receipts",
    metadata,
    Column("event_id", String(36), primary_key=True),  # the signal id's digest
    Column("fingerprint", String(64), nullable=False),  # keyed
    Column("organisation", String(64), nullable=False),
    Column("accepted_at", DateTime(timezone=True), nullable=False),
    Column("household", String(64)),  # its digest, as first known; None on receipts from before
    Column("sealed_household", LargeBinary),  # the pseudonym, under the household's row key
)

correction_receipts = Table(
    "ingest_correction_receipts",
    metadata,
    Column("correction_id", String(36), primary_key=True),  # digests, as a signal's id
    Column("corrects", String(36), nullable=False, index=True),
    Column("kind", String(16), nullable=False),
    Column("fingerprint", String(64), nullable=False),  # keyed
    Column("accepted_at", DateTime(timezone=True), nullable=False),
)

# The format the receipts are stored in; without a row here, format 1 (ids, pseudonyms and
# unkeyed fingerprints as they are).
receipt_formats = Table(
    "ingest_receipt_formats",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("format", Integer, nullable=False),
)


def keyed_fingerprint(digests: LookupDigests, unkeyed: str) -> str:
    """The stored fingerprint: keyed, so a copy of the table cannot confirm a guessed signal;
    over the unkeyed hash, so that format-1 rows (which stored that hash) can be migrated."""
    return digests.once(FINGERPRINT, unkeyed)


def receipt_row(household_digest: str, event_digest: str) -> str:
    """What a receipt's sealed household is bound to (so it opens in that row only)."""
    return f"{RECEIPTS}|{household_digest}|{event_digest}"


def stored_format(connection: Connection) -> int | None:
    return connection.execute(
        select(receipt_formats.c.format).where(receipt_formats.c.name == RECEIPTS)
    ).scalar_one_or_none()


def migrate_receipts(engine: Engine, sealer: RowSealer) -> int:
    """Rewrites format-1 receipts in place (a no-op once done); returns how many rows."""
    with engine.connect() as connection:
        if stored_format(connection) == FORMAT:
            return 0
    try:
        with erasing(engine, [ingest_receipts, correction_receipts]) as connection:
            if stored_format(connection) == FORMAT:  # a twin did it meanwhile
                return 0
            rewritten = _receipts(connection, sealer) + _corrections(connection, sealer.digests)
            connection.execute(insert(receipt_formats).values(name=RECEIPTS, format=FORMAT))
    except IntegrityError:  # a twin recorded the format first: its transaction did the work
        return 0
    return rewritten


def _receipts(connection: Connection, sealer: RowSealer) -> int:
    digests = sealer.digests
    table = ingest_receipts
    statement = (
        update(table)
        .where(table.c.event_id == bindparam("old_id"))
        .values(
            event_id=bindparam("new_id"),
            fingerprint=bindparam("new_fingerprint"),
            household=bindparam("new_household"),
            sealed_household=bindparam("new_sealed"),
        )
    )
    done = 0
    while rows := _plain(connection, table, table.c.event_id):
        changes: list[dict[str, Any]] = []
        for row in rows:
            event_digest = digests.signal(row.event_id)
            household_digest = sealed = None
            if row.household is not None:
                household_digest = digests.household(row.household)
                where = receipt_row(household_digest, event_digest)
                sealed = sealer.seal(row.household, where, row.household, connection)
            changes.append(
                {
                    "old_id": row.event_id,
                    "new_id": event_digest,
                    "new_fingerprint": keyed_fingerprint(digests, row.fingerprint),
                    "new_household": household_digest,
                    "new_sealed": sealed,
                }
            )
        connection.execute(statement, changes)
        done += len(changes)
    return done


def _corrections(connection: Connection, digests: LookupDigests) -> int:
    table = correction_receipts
    statement = (
        update(table)
        .where(table.c.correction_id == bindparam("old_id"))
        .values(
            correction_id=bindparam("new_id"),
            corrects=bindparam("new_corrects"),
            fingerprint=bindparam("new_fingerprint"),
        )
    )
    done = 0
    while rows := _plain(connection, table, table.c.correction_id):
        changes = [
            {
                "old_id": row.correction_id,
                "new_id": digests.signal(row.correction_id),
                "new_corrects": digests.signal(row.corrects),
                "new_fingerprint": keyed_fingerprint(digests, row.fingerprint),
            }
            for row in rows
        ]
        connection.execute(statement, changes)
        done += len(changes)
    return done


def _plain(connection: Connection, table: Table, key: Any) -> list[Any]:
    """A batch of rows still keyed by a plain id (the rewritten ones no longer are)."""
    return list(
        connection.execute(
            select(table).where(func.length(key) == PLAIN_ID_LENGTH).limit(BATCH)
        ).all()
    )
