"""One database URL for the whole radar: the event store (eventsourcing) and the read models
(SQLAlchemy) live in the same database, SQLite by default and PostgreSQL for real deployments."""

from __future__ import annotations

import fcntl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

from privacy.key_encryption import FileKeyEncryptionKey
from privacy.lookup_digests import LookupDigests
from privacy.storage.access_log import AccessLog, Clock
from privacy.storage.access_log_sealing import LogSealing
from privacy.storage.sealed_rows import RowSealer
from services.settings import Settings

__all__ = [
    "Database",
    "log_sealing",
    "open_access_log",
    "row_sealer",
    "stored_utc",
]

SQLITE_BUSY_TIMEOUT_SECONDS = 30
KEK_FILE = "kek.json"
SCHEMA_LOCK_KEY = 0x5241444152  # "RADAR"
_HELD_SCHEMA_LOCKS = threading.local()


@dataclass(frozen=True)
class Database:
    """Where the radar's data lives, and how each library is told so; `keys_dir` holds the
    key-encryption key that wraps the event store's per-household data keys (outside the
    database; the default is the configured data directory's keys)."""

    url: str
    keys_dir: Path | None = None

    @classmethod
    def of(cls, settings: Settings) -> Database:
        """The radar database the settings name, with the settings' keys directory."""
        return cls(settings.resolved_database_url, settings.keys_dir)

    def kek_path(self) -> Path:
        """Where the development KEK file for this database's data keys is."""
        return (self.keys_dir or Settings().keys_dir) / KEK_FILE

    def key_encryption_key(self) -> FileKeyEncryptionKey:
        """The KEK for this database's data keys (development: a key file)."""
        return FileKeyEncryptionKey(self.kek_path())

    def lookup_digests(self) -> LookupDigests:
        """The digests lookups find pseudonyms and signal ids by (key beside the KEK)."""
        return LookupDigests.load_or_create(self.keys_dir or Settings().keys_dir)

    def access_log(self, engine: Engine, clock: Clock | None = None) -> AccessLog:
        """The access log on `engine`, able to record and show whom entries are about."""
        return open_access_log(engine, self.keys_dir, clock)

    def row_sealer(self, engine: Engine) -> RowSealer:
        """Digests and household-keyed sealing for the read models and receipts on `engine`
        (one of this database's engines)."""
        return row_sealer(engine, self.keys_dir)

    @property
    def is_sqlite(self) -> bool:
        return make_url(self.url).get_backend_name() == "sqlite"

    def sqlite_path(self) -> Path:
        database = make_url(self.url).database
        if not database or database == ":memory:":
            raise ValueError("the radar needs a file-based SQLite database")
        return Path(database)

    def eventsourcing_env(self) -> dict[str, str]:
        """Environment for the eventsourcing library's recorders."""
        if self.is_sqlite:
            path = self.sqlite_path()
            path.parent.mkdir(parents=True, exist_ok=True)
            return {
                "PERSISTENCE_MODULE": "eventsourcing.sqlite",
                "SQLITE_DBNAME": str(path),
                "SQLITE_LOCK_TIMEOUT": str(SQLITE_BUSY_TIMEOUT_SECONDS),
            }
        url = make_url(self.url)
        return {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": url.database or "radar",
            "POSTGRES_HOST": url.host or "127.0.0.1",
            "POSTGRES_PORT": str(url.port or 5432),
            "POSTGRES_USER": url.username or "radar",
            "POSTGRES_PASSWORD": url.password or "",
            "POSTGRES_CONNECT_TIMEOUT": "5",
            "POSTGRES_PRE_PING": "y",
            "POSTGRES_POOL_SIZE": "4",
            "POSTGRES_MAX_OVERFLOW": "4",
            "POSTGRES_LOCK_TIMEOUT": "10",
        }

    @contextmanager
    def schema_lock(self) -> Iterator[None]:
        """Serialises table creation across processes starting at the same time.

        PostgreSQL's CREATE TABLE IF NOT EXISTS is not safe against a concurrent twin (it
        can fail on the catalogue's unique index), so creators take an advisory lock first.
        SQLite serialises single statements, but the eventsourcing recorders create several
        tables and then record a migration row; two processes interleaving those steps can
        collide, so creators take an exclusive file lock next to the database.
        Re-entrant within a thread, so a helper that takes it may be called under it.
        """
        held: set[str] | None = getattr(_HELD_SCHEMA_LOCKS, "urls", None)
        if held is None:
            held = _HELD_SCHEMA_LOCKS.urls = set()
        if self.url in held:
            yield
            return
        held.add(self.url)
        try:
            with self._exclusive_schema_lock():
                yield
        finally:
            held.discard(self.url)

    @contextmanager
    def _exclusive_schema_lock(self) -> Iterator[None]:
        if self.is_sqlite:
            with self._sqlite_file_lock():
                yield
            return
        url = make_url(self.url).set(drivername="postgresql")
        with psycopg.connect(url.render_as_string(hide_password=False), autocommit=True) as conn:
            conn.execute("SELECT pg_advisory_lock(%s)", (SCHEMA_LOCK_KEY,))
            try:
                yield
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s)", (SCHEMA_LOCK_KEY,))

    @contextmanager
    def _sqlite_file_lock(self) -> Iterator[None]:
        path = self.sqlite_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        lock_path = path.with_name(path.name + ".schema-lock")
        with lock_path.open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def engine(self, **options: Any) -> Engine:
        """A SQLAlchemy engine on this database once its schema is this radar's: an empty
        database is made at the newest revision, any other not at it is refused
        (SchemaMismatchError says which command migrates it). Every process opens its
        database through here, so none reads or writes rows in a shape it does not know."""
        engine = self.unchecked_engine(**options)
        try:
            self.meet_schema(engine)
        except BaseException:
            engine.dispose()
            raise
        return engine

    def meet_schema(self, engine: Engine) -> None:
        # Imported here: the schema knows every slice's tables, and the slices import this.
        from services.schema.migrate import EmptyDatabaseError, SchemaMismatchError, meet_schema

        try:
            meet_schema(engine, self.display_url)
        except (EmptyDatabaseError, SchemaMismatchError):
            # Again under the lock: a twin starting at the same moment may be making the
            # tables (SQLite commits each CREATE on its own, the version row comes last).
            with self.schema_lock():
                meet_schema(engine, self.display_url, create=True)

    @property
    def display_url(self) -> str:
        """The URL without its password, for messages."""
        return make_url(self.url).render_as_string(hide_password=True)

    def unchecked_engine(self, **options: Any) -> Engine:
        """An engine whatever the schema: for migrating it, and for reading its version."""
        if self.is_sqlite:
            self.sqlite_path().parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(
                self.url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS}, **options
            )
            event.listen(engine, "connect", _sqlite_pragmas)
            return engine
        url = make_url(self.url).set(drivername="postgresql+psycopg")
        return create_engine(url, pool_pre_ping=True, pool_size=8, max_overflow=8, **options)


def stored_utc(moment: datetime) -> datetime:
    """A datetime read back from the database, in UTC: SQLite hands back naive values, which
    were stored as UTC."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def log_sealing(engine: Engine, keys_dir: Path | None = None) -> LogSealing:
    """The access log's digests and period keys, with the keys in `keys_dir` (default: the
    settings')."""
    keys = keys_dir or Settings().keys_dir
    return LogSealing(
        engine, FileKeyEncryptionKey(keys / KEK_FILE), LookupDigests.load_or_create(keys)
    )


def open_access_log(
    engine: Engine, keys_dir: Path | None = None, clock: Clock | None = None
) -> AccessLog:
    """The access log with its keys (entries name their subjects only sealed)."""
    return AccessLog(engine, log_sealing(engine, keys_dir), clock)


def row_sealer(engine: Engine, keys_dir: Path | None = None) -> RowSealer:
    """The row sealer on `engine` with the keys in `keys_dir` (default: the settings')."""
    keys = keys_dir or Settings().keys_dir
    return RowSealer(
        engine, FileKeyEncryptionKey(keys / KEK_FILE), LookupDigests.load_or_create(keys)
    )
