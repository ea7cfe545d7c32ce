"""Read-model checkpoints (issue 15): a copy of a read model's rows at a known position, kept
in the same database, so that recovering the read model (lost, corrupt, or behind after a
restore) copies them back and replays only the events after that position.

The copy's rows are the live rows as stored: digests and sealed values, sealed under the
households' row keys and bound to the live table's name, so they open after recovery exactly
as before, and an erased household's rows in the copy open for nobody. A sealed row that was
changed no longer opens, but a row deleted or added would go unnoticed; so the checkpoint
records a digest over every copied row in key order, keyed with the deployment's lookup key
(outside the database): recovery recomputes it and refuses a copy that does not match.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    delete,
    insert,
    select,
)
from sqlalchemy.engine import Connection

from privacy.lookup_digests import LookupDigests
from services.projections.positions import read_position
from services.projections.swap import fresh_tables

CHECKPOINT = "_checkpoint"  # the suffix of a read model's checkpoint copies
DIGEST_KIND = "projection-checkpoint"

metadata = MetaData()

checkpoints = Table(
    "projection_checkpoints",
    metadata,
    Column("name", String(64), primary_key=True),  # the read model's
    Column("position", BigInteger, nullable=False),  # the last notification the copy holds
    Column("format", Integer, nullable=False),  # the read model's format when taken
    Column("rows", BigInteger, nullable=False),
    Column("digest", String(64), nullable=False),  # keyed, over the copied rows in key order
    Column("taken_at", DateTime(timezone=True), nullable=False),
)


class CheckpointError(Exception):
    """No usable checkpoint: of another format, or its copy does not match its digest."""


class NoCheckpointError(CheckpointError):
    """The read model has no checkpoint (none was taken)."""


@dataclass(frozen=True)
class Checkpoint:
    name: str
    position: int
    format: int
    rows: int
    digest: str
    taken_at: datetime


def checkpoint_tables(live: MetaData) -> MetaData:
    """The checkpoint copies of a read model's tables (no secondary indexes: read whole)."""
    return fresh_tables(live, CHECKPOINT)


def take(
    connection: Connection,
    name: str,
    fmt: int,
    live: MetaData,
    copies: MetaData,
    digests: LookupDigests,
) -> Checkpoint:
    """Replaces the read model's checkpoint by a copy of its live rows and their position,
    within the caller's transaction. It writes first, then reads the position: on SQLite the
    write lock is then held (no projector commits in between), on PostgreSQL the caller's
    REPEATABLE READ snapshot shows the rows and the position together."""
    copied = [(t, copies.tables[f"{t.name}{CHECKPOINT}"]) for t in live.sorted_tables]
    for _table, copy in copied:
        connection.execute(delete(copy))
    position = read_position(connection, name) or 0
    for table, copy in copied:
        connection.execute(insert(copy).from_select(list(table.c.keys()), select(table)))
    digest, rows = fingerprint(connection, live, copies, digests)
    found = Checkpoint(name, position, fmt, rows, digest, datetime.now(UTC))
    connection.execute(delete(checkpoints).where(checkpoints.c.name == name))
    connection.execute(insert(checkpoints).values(found.__dict__))
    return found


def verified(
    connection: Connection,
    name: str,
    fmt: int,
    live: MetaData,
    copies: MetaData,
    digests: LookupDigests,
) -> Checkpoint:
    """The read model's checkpoint, its copy checked against its digest; CheckpointError."""
    row = connection.execute(select(checkpoints).where(checkpoints.c.name == name)).first()
    if row is None:
        raise NoCheckpointError(f"{name}: no checkpoint has been taken")
    found = Checkpoint(**row._asdict())
    if found.format != fmt:
        raise CheckpointError(f"{name}: the checkpoint is of format {found.format}, not {fmt}")
    digest, rows = fingerprint(connection, live, copies, digests)
    if (digest, rows) != (found.digest, found.rows):
        raise CheckpointError(f"{name}: the checkpoint's rows do not match its digest")
    return found


def fingerprint(
    connection: Connection, live: MetaData, copies: MetaData, digests: LookupDigests
) -> tuple[str, int]:
    """(keyed digest, row count) of the copies' rows, in primary-key order."""
    running = hashlib.sha256()
    rows = 0
    for table in live.sorted_tables:
        copy = copies.tables[f"{table.name}{CHECKPOINT}"]
        running.update(f"{table.name}\n".encode())
        ordered = select(copy).order_by(*copy.primary_key.columns)
        for row in connection.execute(ordered):
            running.update(repr(_without_trailing_nulls(row)).encode() + b"\n")
            rows += 1
    return digests.of(DIGEST_KIND, running.hexdigest()), rows


def _without_trailing_nulls(row: Sequence[object]) -> tuple[object, ...]:
    """A row's values as the digest sees them, without the NULLs it ends in: a nullable column
    added at the end of a table (a migration's additive change) leaves the digest of a
    checkpoint taken before it as it was, so the checkpoint still verifies after the upgrade."""
    values = [_plain(v) for v in row]
    while values and values[-1] is None:
        values.pop()
    return tuple(values)


def _plain(value: object) -> object:
    """A value as the digest sees it, the same however the driver hands it back."""
    if isinstance(value, memoryview):
        return bytes(value)
    if isinstance(value, datetime):
        return value if value.tzinfo is None else value.astimezone(UTC).replace(tzinfo=None)
    return value


@contextmanager
def snapshot(engine: Engine) -> Iterator[Connection]:
    """A write transaction whose reads all see one moment (PostgreSQL: REPEATABLE READ; on
    SQLite the first write takes the database's one write lock)."""
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            connection = connection.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            yield connection
