"""Databases as a release before schema versions left them, for the tests of stores that
migrate rows written the old way: the old tables made by hand, then no version table."""

from __future__ import annotations

from sqlalchemy import text

from services.database import Database
from services.schema.migrate import VERSION_TABLE, upgrade_database


def made_before_schema_versions(database: Database) -> None:
    """Removes the version table, as a radar before stop 16 left the database (its stores
    made their tables as they opened)."""
    engine = database.unchecked_engine()
    try:
        with engine.begin() as connection:
            connection.execute(text(f"DROP TABLE IF EXISTS {VERSION_TABLE}"))
    finally:
        engine.dispose()


def upgraded_from_before_schema_versions(database: Database) -> None:
    """The operator's step after installing this release: `radar db upgrade`."""
    made_before_schema_versions(database)
    upgrade_database(database)
