"""Schema changes in place that every store needs: a table that gained columns after it was
created. Lives in privacy so its own tables (the access log) can migrate without the services."""

from __future__ import annotations

from sqlalchemy import Engine, MetaData, inspect, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.schema import CreateColumn


def add_missing_columns(engine: Engine, tables: MetaData) -> None:
    """Adds the columns a table gained after it was created (each nullable or with a server
    default, so rows written before survive); create_all creates missing tables only. A twin
    process adding the same column first is fine: the columns are looked up again."""
    for attempt in range(2):
        try:
            _add_missing_columns(engine, tables)
            return
        except DBAPIError:
            if attempt:
                raise


def _add_missing_columns(engine: Engine, tables: MetaData) -> None:
    present = inspect(engine)
    for table in tables.sorted_tables:
        if not present.has_table(table.name):
            continue
        existing = {column["name"] for column in present.get_columns(table.name)}
        for column in table.columns:
            if column.name in existing:
                continue
            definition = CreateColumn(column).compile(dialect=engine.dialect)
            with engine.begin() as connection:
                connection.execute(text(f"ALTER TABLE {table.name} ADD COLUMN {definition}"))
