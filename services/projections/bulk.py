"""Set-wise writes for read models: many rows in one statement (issue 15, the rebuild as a
bulk load). PostgreSQL takes them by COPY, inside the writer's transaction, so the rows and
the position still move together; SQLite (and anything else) by one executemany."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import JSON, LargeBinary, Table, delete, insert
from sqlalchemy.engine import Connection, Dialect

COPY_FROM_ROWS = 64  # below this an executemany costs no more than the COPY's round trips


def insert_rows(connection: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Inserts the rows (each with the same keys) in one set-wise statement. COPY takes plain
    columns only: a table with JSON columns (a list would go in as an array) is given to
    one executemany, which SQLAlchemy's types serialise."""
    if not rows:
        return
    if (
        connection.dialect.name != "postgresql"
        or len(rows) < COPY_FROM_ROWS
        or any(isinstance(column.type, JSON) for column in table.columns)  # COPY: no JSON types
    ):
        connection.execute(insert(table), list(rows))
        return
    columns = list(rows[0])
    driver = connection.connection.driver_connection
    quote = connection.dialect.identifier_preparer.quote
    names = ", ".join(quote(column) for column in columns)
    statement = f"COPY {quote(table.name)} ({names}) FROM STDIN"
    with driver.cursor() as cursor, cursor.copy(statement) as copy:  # type: ignore[union-attr]
        for row in rows:
            copy.write_row([row[column] for column in columns])


class PendingInserts:
    """The rows one read-model batch adds, inserted together (one set-wise statement per
    table) instead of one statement each: a projector's per-row INSERT cost SQLAlchemy more
    than SQLite did (building and caching a statement per row). Whatever reads or changes the
    tables next goes through `connection`, which writes the pending rows first, so it sees
    them; they are in the batch's transaction either way."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._rows: dict[Table, dict[Any, Mapping[str, Any]]] = {}
        self._replacing: dict[Table, str | None] = {}  # each table's, from its first row

    def add(self, table: Table, row: Mapping[str, Any], replacing: str | None = None) -> None:
        """A row to insert (tables are written in the order they were first added to). With
        `replacing`, a column of the table: the row replaces the one stored or pending with
        the same value there (the latest wins)."""
        if self._replacing.setdefault(table, replacing) != replacing:
            raise ValueError(f"{table.name}: every row replaces by the same column, or none")
        pending = self._rows.setdefault(table, {})
        if replacing is None:
            pending[len(pending)] = row
            return
        pending.pop(row[replacing], None)  # the latest goes last: inserted in arrival order
        pending[row[replacing]] = row

    @property
    def connection(self) -> Connection:
        """The batch's transaction with every pending row written."""
        self.flush()
        return self._connection

    @property
    def unflushed(self) -> Connection:
        """The batch's transaction, pending rows not yet written: only for what touches none
        of the pending tables (making a household's row key)."""
        return self._connection

    def flush(self) -> None:
        for table, rows in self._rows.items():
            column = self._replacing.get(table)
            if column is not None:
                replaced = table.c[column].in_(list(rows))
                self._connection.execute(delete(table).where(replaced))
            insert_rows(self._connection, table, list(rows.values()))
        self._rows.clear()


def insert_tuples(
    connection: Connection, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """Inserts rows given as value tuples (in `columns` order) through the driver itself: a
    rebuild's bulk load, where SQLAlchemy's per-row parameter processing of `insert_rows`
    was most of the insert's cost. Values go through each column type's bind processor
    (SQLite stores datetimes as text in SQLAlchemy's format), then one COPY (PostgreSQL) or
    one executemany. Plain columns only (no JSON)."""
    if not rows:
        return
    dialect = connection.dialect
    quote = dialect.identifier_preparer.quote
    names = ", ".join(quote(column) for column in columns)
    driver = connection.connection.driver_connection
    if dialect.name == "postgresql":
        statement = f"COPY {quote(table.name)} ({names}) FROM STDIN"
        with driver.cursor() as cursor, cursor.copy(statement) as copy:  # type: ignore[union-attr]
            for row in rows:
                copy.write_row(row)
        return
    rows = _bound(dialect, table, columns, rows)
    marks = ", ".join("?" for _ in columns)
    cursor = driver.cursor()  # type: ignore[union-attr]
    try:
        statement = f"INSERT INTO {quote(table.name)} ({names}) VALUES ({marks})"  # noqa: S608
        cursor.executemany(statement, rows)
    finally:
        cursor.close()


def _bound(
    dialect: Dialect, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> Sequence[Sequence[Any]]:
    """The rows with each value as its column type binds it on this dialect (bytes go to the
    driver as they are)."""
    active = []
    for index, column in enumerate(columns):
        kind = table.c[column].type
        processor = None if isinstance(kind, LargeBinary) else kind._cached_bind_processor(dialect)
        if processor is not None:
            active.append((index, processor))
    if not active:
        return rows
    bound = []
    for row in rows:
        values = list(row)
        for index, processor in active:
            if values[index] is not None:
                values[index] = processor(values[index])
        bound.append(values)
    return bound
