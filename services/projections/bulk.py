"""Set-wise writes for read models: many rows in one statement (issue 15, the rebuild as a
bulk load). PostgreSQL takes them by COPY, inside the writer's transaction, so the rows and
the position still move together; SQLite (and anything else) by one executemany."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import JSON, Table, insert
from sqlalchemy.engine import Connection

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
