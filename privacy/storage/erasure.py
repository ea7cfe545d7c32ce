"""Deleting so that the bytes are gone, not just the rows: for erasure at the end of retention
and for destroyed keys.

SQLite keeps deleted rows in free pages and in the write-ahead log unless told otherwise;
PostgreSQL keeps dead tuples until a vacuum, and a plain VACUUM leaves their bytes in the page.
So erasing deletes with SQLite's secure_delete on and then truncates the WAL, and on PostgreSQL
rewrites the touched tables (VACUUM FULL, a short exclusive lock).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from sqlalchemy import Engine, Table, text
from sqlalchemy.engine import Connection


@contextmanager
def erasing(engine: Engine, tables: Sequence[Table]) -> Iterator[Connection]:
    """A transaction whose deletes from `tables` leave no readable copy behind."""
    sqlite = engine.dialect.name == "sqlite"
    with engine.begin() as connection:
        if sqlite:
            connection.execute(text("PRAGMA secure_delete = ON"))
        yield connection
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as raw:
        if sqlite:
            raw.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
            return
        for table in tables:
            raw.execute(text(f'VACUUM FULL "{table.name}"'))
