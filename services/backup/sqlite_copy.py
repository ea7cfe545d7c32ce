"""SQLite copies through the online backup API: consistent while the aggregator writes.

`sqlite3.Connection.backup` with its default of one step copies every page inside one read
transaction, so the copy is the database as of one commit; in WAL mode writers are not blocked
meanwhile. The copy is switched to a rollback journal so that it is one self-contained file.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from services.database import SQLITE_BUSY_TIMEOUT_SECONDS

SIDE_FILES = ("-wal", "-shm", "-journal")


def copy_out(source: Path, target: Path) -> None:
    """A consistent copy of the live database `source` into the new file `target`."""
    with (
        closing(sqlite3.connect(source, timeout=SQLITE_BUSY_TIMEOUT_SECONDS)) as live,
        closing(sqlite3.connect(target)) as copy,
    ):
        live.backup(copy)
        copy.execute("PRAGMA journal_mode=DELETE")


def copy_in(backup: Path, target: Path) -> None:
    """Writes the backup file into the (absent or empty) database file `target`."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(backup)) as source, closing(sqlite3.connect(target)) as restored:
        source.backup(restored)


def holds_data(path: Path) -> bool:
    """Whether a restore into `path` would overwrite something: a non-empty file, or one with
    write-ahead or journal files beside it."""
    if path.exists() and path.stat().st_size > 0:
        return True
    return any(path.with_name(path.name + suffix).exists() for suffix in SIDE_FILES)
