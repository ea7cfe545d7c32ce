"""What the first migration does to a store written before the radar's schema had versions:
its tables were made by the stores themselves as they opened, and a table made by an older
release may lack columns and indexes added since.

The record (keys, vault, receipts, access log, restrictions, checkpoints) gains the missing
columns (each nullable or with a default then, so the rows written before survive) and
indexes; nothing of it is dropped or rewritten. A read model whose tables lack a column was
written in an earlier format: its tables are made again empty and its position set to 0, so
the projector rebuilds it from the event store (its store's format check then records the
format)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import Connection, Inspector, MetaData, inspect, text
from sqlalchemy.schema import CreateColumn, CreateIndex


def adopt(
    connection: Connection, tables: MetaData, read_models: Mapping[str, Sequence[str]]
) -> None:
    """Creates the missing tables, then adds missing columns and indexes to the present ones;
    `read_models` maps each read model's position name to its tables."""
    present = inspect(connection)
    for name, names in read_models.items():
        if any(_missing_columns(present, tables, table) for table in names):
            _drop_for_rebuild(connection, present, name, names)
    present = inspect(connection)
    existing = set(present.get_table_names())
    tables.create_all(connection, checkfirst=True)
    for table in tables.sorted_tables:
        if table.name not in existing:
            continue
        for column in _missing_columns(present, tables, table.name):
            definition = CreateColumn(table.c[column]).compile(dialect=connection.dialect)
            connection.execute(text(f"ALTER TABLE {table.name} ADD COLUMN {definition}"))
        indexes = {index["name"] for index in present.get_indexes(table.name)}
        for index in table.indexes:
            if index.name not in indexes:
                connection.execute(CreateIndex(index))


def _missing_columns(present: Inspector, tables: MetaData, name: str) -> list[str]:
    if not present.has_table(name):
        return []
    stored = {column["name"] for column in present.get_columns(name)}
    return [column.name for column in tables.tables[name].columns if column.name not in stored]


def _drop_for_rebuild(
    connection: Connection, present: Inspector, name: str, names: Sequence[str]
) -> None:
    for table in names:
        if present.has_table(table):
            connection.execute(text(f"DROP TABLE {table}"))
    if present.has_table("projection_positions"):
        connection.execute(
            text("UPDATE projection_positions SET position = 0 WHERE name = :name"),
            {"name": name},
        )
    if present.has_table("projection_formats"):
        connection.execute(
            text("DELETE FROM projection_formats WHERE name = :name"), {"name": name}
        )
