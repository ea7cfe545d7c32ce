"""The positions of the read models: one row each, moved only from the value its writer read,
in the same transaction as the rows it writes (see read_model.py)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    delete,
    func,
    insert,
    inspect,
    select,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from privacy.storage.erasure import erasing
from privacy.storage.erasure_records import erased_places
from privacy.storage.sealed_rows import RowSealer
from services.database import row_sealer
from services.projections.read_model import ErasedMeanwhileError, PositionMovedError, place_of

metadata = MetaData()

positions = Table(
    "projection_positions",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("position", BigInteger, nullable=False),
)

# The format each read model's rows were written in; a read model without a row here was
# written in format 1 (pseudonyms and signal ids as they are, before sealed rows).
formats = Table(
    "projection_formats",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("format", Integer, nullable=False),
)


def ensure_position(engine: Engine, name: str) -> None:
    """Creates the read model's position row (at 0) if it is missing."""
    try:
        with engine.begin() as connection:
            if read_position(connection, name) is None:
                connection.execute(insert(positions).values(name=name, position=0))
    except IntegrityError:
        pass  # a twin starting at the same moment inserted it first


def ensure_format(engine: Engine, name: str, tables: MetaData, wanted: int) -> bool:
    """Drops and recreates the tables of a read model written in an earlier format and resets
    its position, so the projector rebuilds it from the event store in this one (a read model
    is derived: the event store is the record; dropping removes the old rows' table files
    too). Empty tables are left as they are: the migrations made them in the newest shape
    (a format that changes columns comes with a migration that remakes the tables, see
    services/schema/adoption.py). Returns whether it was rebuilt."""
    with engine.begin() as connection:
        stored = connection.execute(
            select(formats.c.format).where(formats.c.name == name)
        ).scalar_one_or_none()
        position = read_position(connection, name) or 0
    if stored == wanted:
        return False
    written = position > 0 or _holds_rows(engine, tables)
    outdated = written and (stored or 1) < wanted
    if outdated:
        tables.drop_all(engine)
        tables.create_all(engine)
        with engine.begin() as connection:
            reset_position(connection, name)
    try:
        with engine.begin() as connection:
            if stored is None:
                connection.execute(insert(formats).values(name=name, format=wanted))
            else:
                connection.execute(
                    update(formats).where(formats.c.name == name).values(format=wanted)
                )
    except IntegrityError:
        pass  # a twin starting at the same moment recorded it first
    return outdated


def _holds_rows(engine: Engine, tables: MetaData) -> bool:
    """Whether any of the tables has a row (empty ones, as a new database's, are not rebuilt)."""
    present = inspect(engine)
    with engine.connect() as connection:
        return any(
            connection.execute(select(table).limit(1)).first() is not None
            for table in tables.sorted_tables
            if present.has_table(table.name)
        )


def read_position(connection: Connection, name: str) -> int | None:
    return connection.execute(
        select(positions.c.position).where(positions.c.name == name)
    ).scalar_one_or_none()


def move_position(connection: Connection, name: str, expected: int, new_position: int) -> None:
    """Moves the position from `expected`; PositionMovedError if another writer moved it."""
    moved = connection.execute(
        update(positions)
        .where(positions.c.name == name, positions.c.position == expected)
        .values(position=new_position)
    )
    if moved.rowcount != 1:
        raise PositionMovedError(name)


@contextmanager
def moving_position(
    engine: Engine,
    name: str,
    expected: int,
    new_position: int,
    events: Sequence[tuple[int, Any]] = (),
) -> Iterator[Connection]:
    """A transaction for a read model's rows that also moves its position from `expected`
    (PositionMovedError, and nothing written, if another writer moved it), written from
    `events`: ErasedMeanwhileError, and nothing written, when retention erased some of them
    after they were read (asked after the rows are written, so within the write lock:
    privacy/storage/erasure_records.py says why that orders it against the erasure).

    On SQLite the position moves last. Its driver begins the transaction at the first write,
    and SQLite has one writer at a time: moved first, the position locked ingest and the
    aggregator out for the whole of the read model's work (half of the projector's time);
    moved last, only from its first row on. The reads before that are not in the transaction:
    another projector of the same read model moves the position too, so the final move fails
    and everything rolls back. On PostgreSQL first: a second projector then waits at the
    position row and finds it moved, rather than colliding with the first one's rows. A
    twin behind on SQLite may collide with the rows before it reaches the position: that is
    told as what it is, the position moved."""
    last = engine.dialect.name == "sqlite"
    try:
        with engine.begin() as connection:
            if not last:
                move_position(connection, name, expected, new_position)
            yield connection
            erased = erased_places(connection, (place_of(e) for _p, e in events))
            if erased:
                raise ErasedMeanwhileError(erased)
            if last:
                move_position(connection, name, expected, new_position)
    except IntegrityError as error:
        if not last:
            raise
        with engine.connect() as connection:
            if read_position(connection, name) == expected:
                raise
        raise PositionMovedError(name) from error


def reset_position(connection: Connection, name: str) -> None:
    connection.execute(update(positions).where(positions.c.name == name).values(position=0))


class PositionedTables:
    """A read model's tables (made by the migrations) and its position row in one database,
    the position read from the shared positions table. Subclasses name themselves and their
    tables."""

    name: str
    tables: MetaData
    format = 1  # raised when the rows' meaning changes: the read model is then rebuilt

    def __init__(self, engine: Engine, sealer: RowSealer | None = None) -> None:
        self.engine = engine
        self.sealer = sealer or row_sealer(engine)
        self.digests = self.sealer.digests
        ensure_position(engine, self.name)
        ensure_format(engine, self.name, self.tables, self.format)

    def position(self) -> int:
        """The last event-store notification id applied to this read model."""
        with self.engine.connect() as connection:
            return read_position(connection, self.name) or 0

    def stored_households(self, households: Sequence[str]) -> list[str]:
        """The households as their rows name them: digests from format 2 on."""
        if self.format >= 2:
            return self.digests.households(households)
        return list(households)

    def count_households(self, households: Sequence[str]) -> int:
        """How many rows `forget_households` would delete (a retention dry run)."""
        if not households:
            return 0
        about = [table for table in self.tables.sorted_tables if "household" in table.c]
        with self.engine.connect() as connection:
            return sum(
                connection.execute(
                    select(func.count())
                    .select_from(table)
                    .where(table.c.household.in_(self.stored_households(households)))
                ).scalar_one()
                for table in about
            )

    def forget_households(self, households: Sequence[str]) -> int:
        """Deletes every row about these households (retention enforcement: their events
        were erased, so a rebuild would not make these rows either); returns how many."""
        if not households:
            return 0
        deleted = 0
        about = [table for table in self.tables.sorted_tables if "household" in table.c]
        with erasing(self.engine, about) as connection:
            for table in about:
                result = connection.execute(
                    delete(table).where(table.c.household.in_(self.stored_households(households)))
                )
                deleted += result.rowcount
        return deleted
