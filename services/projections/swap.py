"""Build-then-swap for a read model (issue 15): a rebuild fills fresh tables beside the live
ones while these keep answering, then one transaction swaps them in, so a query never sees a
half-built read model, and the live tables keep their names (the names are a contract).

The fresh tables are loaded without their secondary indexes (a bulk load into an index costs
a B-tree insert per row); PostgreSQL builds them on the fresh tables before the swap and
renames them with the tables, SQLite (which has no ALTER INDEX ... RENAME, and whose readers
keep reading the old tables' snapshot under WAL meanwhile) builds them inside the swap.

The swap moves the read model's position to where the build stopped, first thing in its
transaction, and only if the live read model is not beyond it (else the build loads the rest
and tries again: the read model never goes back). A live projector whose transaction began
before the swap commits first (its rows land in the old tables, which the swap then drops);
one that begins after finds its expected position gone (PositionMovedError, nothing written)
and carries on from the build's position, in the new tables.

Erasure does not go through the event log: retention enforcement deletes a household's rows
from the live tables (and destroys its keys). A build that read the household's events before
that would bring its rows back, so the swap takes the live tables' locks, and deletes from the
fresh tables every household the live tables held when the build began and hold no more.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from sqlalchemy import Engine, Index, MetaData, Table, delete, select, text, update
from sqlalchemy.engine import Connection
from sqlalchemy.schema import CreateIndex

from services.projections.positions import positions

FRESH = "__rebuild"  # the suffix of the tables a rebuild fills


def fresh_tables(live: MetaData, suffix: str = FRESH) -> MetaData:
    """Copies of the live tables under names ending in `suffix`, without secondary indexes."""
    fresh = MetaData()
    for table in live.sorted_tables:
        copy = table.to_metadata(fresh, name=f"{table.name}{suffix}")
        for index in list(copy.indexes):
            copy.indexes.discard(index)
        for column in copy.columns:
            column.index = None  # else a further copy (the schema registry's) makes them again
    return fresh


def fresh_table(fresh: MetaData, live: Table, suffix: str = FRESH) -> Table:
    return fresh.tables[f"{live.name}{suffix}"]


def create_fresh(engine: Engine, fresh: MetaData) -> None:
    """Empty fresh tables (a rebuild interrupted before its swap left its own: dropped)."""
    fresh.drop_all(engine)
    fresh.create_all(engine)


def drop_fresh(engine: Engine, fresh: MetaData) -> None:
    fresh.drop_all(engine)


ERASED_PER_STATEMENT = 5_000  # SQLite's bound on parameters per statement is 32,766


def households_held(connection: Connection, tables: MetaData) -> frozenset[str]:
    """The households (digests) the tables hold a row about."""
    about = [table for table in tables.sorted_tables if "household" in table.c]
    return frozenset(
        household
        for table in about
        for household in connection.execute(select(table.c.household).distinct()).scalars()
    )


def swap_in(
    engine: Engine,
    name: str,
    live: MetaData,
    fresh: MetaData,
    position: int,
    held_at_start: frozenset[str] = frozenset(),
    erased_meanwhile: Callable[[Connection], Iterable[str]] | None = None,
    suffix: str = FRESH,
) -> bool:
    """Replaces the live tables by the fresh ones and sets the read model's position to
    `position` (what the fresh tables hold), in one transaction; unless the live read model
    is beyond `position` by then (a projector moved on while the build finished): then
    nothing changes and False says so (the caller loads the rest and tries again), so a
    reader never sees the read model go back. Households of `held_at_start` (what the live
    tables held when the build began) that the live tables no longer hold were erased
    meanwhile: the fresh tables lose them too, as they lose those `erased_meanwhile` names
    (asked within the swap's transaction: the households whose loaded events an erasure took
    since they were loaded)."""
    if engine.dialect.name == "postgresql":  # on the fresh tables first: readers not blocked
        with engine.begin() as connection:
            for table in live.sorted_tables:
                for index in table.indexes:
                    fresh_index = _fresh_index(index, fresh, suffix)
                    connection.execute(CreateIndex(fresh_index, if_not_exists=True))
    with engine.begin() as connection:
        # first the position row: it orders this swap against a live projector (see above)
        moved = connection.execute(
            update(positions)
            .where(positions.c.name == name, positions.c.position <= position)
            .values(position=position)
        )
        if moved.rowcount != 1:
            connection.rollback()
            return False
        if connection.dialect.name == "postgresql":  # no erasure slips in after the look
            tables = ", ".join(_quoted(connection, t.name) for t in live.sorted_tables)
            connection.execute(text(f"LOCK TABLE {tables} IN ACCESS EXCLUSIVE MODE"))
        erased = held_at_start - households_held(connection, live)
        if erased_meanwhile is not None:
            erased |= set(erased_meanwhile(connection))
        _forget(connection, fresh, sorted(erased))
        for table in reversed(live.sorted_tables):
            connection.execute(text(f"DROP TABLE {_quoted(connection, table.name)}"))
        for table in live.sorted_tables:
            _rename(connection, table, suffix)
    return True


def _forget(connection: Connection, fresh: MetaData, households: Sequence[str]) -> None:
    about = [table for table in fresh.sorted_tables if "household" in table.c]
    for start in range(0, len(households), ERASED_PER_STATEMENT):
        chunk = households[start : start + ERASED_PER_STATEMENT]
        for table in about:
            connection.execute(delete(table).where(table.c.household.in_(chunk)))


def _rename(connection: Connection, table: Table, suffix: str) -> None:
    quote = connection.dialect.identifier_preparer.quote
    fresh_name = f"{table.name}{suffix}"
    connection.execute(text(f"ALTER TABLE {quote(fresh_name)} RENAME TO {quote(table.name)}"))
    if connection.dialect.name != "postgresql":
        for index in table.indexes:
            connection.execute(CreateIndex(index))
        return
    connection.execute(
        text(
            f"ALTER TABLE {quote(table.name)} RENAME CONSTRAINT "
            f"{quote(f'{fresh_name}_pkey')} TO {quote(f'{table.name}_pkey')}"
        )
    )
    for index in table.indexes:
        assert index.name is not None
        fresh_index = quote(_fresh_index_name(index.name, suffix))
        connection.execute(text(f"ALTER INDEX {fresh_index} RENAME TO {quote(index.name)}"))


def _fresh_index(index: Index, fresh: MetaData, suffix: str) -> Index:
    assert index.name is not None and index.table is not None
    table = fresh.tables[f"{index.table.name}{suffix}"]
    return Index(
        _fresh_index_name(index.name, suffix),
        *(table.c[column.name] for column in index.columns),
        unique=index.unique,
    )


def _fresh_index_name(name: str, suffix: str) -> str:
    return f"{name}{suffix}"


def _quoted(connection: Connection, name: str) -> str:
    return connection.dialect.identifier_preparer.quote(name)
