"""Where a database's schema stands against this radar's, and moving it: every process checks
before it touches data (Database.engine), `radar db upgrade` migrates.

An empty database is made at the newest revision at once (nothing in it to migrate). A
database at an older revision, or made before the schema had versions, is refused with the
command that migrates it; one at a revision this radar does not know (a newer release wrote
it) is refused too: this code would misread it."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect

from services.database import Database
from services.schema.errors import EmptyDatabaseError, SchemaMismatchError

__all__ = [
    "EmptyDatabaseError",
    "SchemaMismatchError",
    "meet_schema",
    "schema_state",
    "upgrade",
    "upgrade_database",
]

VERSION_TABLE = "radar_schema_version"
MIGRATIONS = Path(__file__).parent / "migrations"
UPGRADE_COMMAND = "radar db upgrade"

# Alembic says at INFO which implementation it uses on every call; `radar db` says what it did.
logging.getLogger("alembic").setLevel(logging.WARNING)


@dataclass(frozen=True)
class SchemaState:
    """A database's revision (None: no version table) against this radar's newest."""

    revision: str | None
    head: str
    known: bool  # the revision is one of this radar's (or None)
    has_tables: bool  # any table the radar owns is present

    @property
    def current(self) -> bool:
        return self.revision == self.head

    @property
    def empty(self) -> bool:
        return self.revision is None and not self.has_tables

    def describe(self) -> str:
        """One line for `radar status` and `radar db current`."""
        if self.current:
            return f"{self.revision} (current)"
        if self.empty:
            return f"empty (made at {self.head} on first start)"
        if self.revision is None:
            return f"no version: made before schema versions; run {UPGRADE_COMMAND}"
        if not self.known:
            return f"{self.revision}: newer than this radar (knows up to {self.head})"
        return f"{self.revision}: older than this radar's {self.head}; run {UPGRADE_COMMAND}"


def alembic_config(connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def scripts() -> ScriptDirectory:
    return ScriptDirectory(str(MIGRATIONS))


def head_revision() -> str:
    head = scripts().get_current_head()
    assert head is not None, "the migrations have one head"
    return head


def schema_state(connection: Connection) -> SchemaState:
    from services.schema.tables import project_table_names

    revision = MigrationContext.configure(
        connection, opts={"version_table": VERSION_TABLE}
    ).get_current_revision()
    known = revision is None or revision in {s.revision for s in scripts().walk_revisions()}
    present = set(inspect(connection).get_table_names())
    return SchemaState(revision, head_revision(), known, bool(present & project_table_names()))


def mismatch_message(state: SchemaState, where: str) -> str:
    if state.revision is None:
        return (
            f"the database {where} was made by a radar before schema versions; back it up "
            f"(radar backup create) and run `{UPGRADE_COMMAND}` with the same settings"
        )
    if not state.known:
        return (
            f"the database {where} is at schema revision {state.revision}, written by a newer "
            f"radar than this one (it knows up to {state.head}); run that release, or restore "
            "the backup taken before its upgrade"
        )
    return (
        f"the database {where} is at schema revision {state.revision}, this radar needs "
        f"{state.head}; back it up (radar backup create) and run `{UPGRADE_COMMAND}` with the "
        "same settings"
    )


def meet_schema(engine: Engine, where: str, *, create: bool = False) -> SchemaState:
    """Returns the state of a database at the newest revision, SchemaMismatchError for one
    that is not. An empty one raises EmptyDatabaseError, or with `create` (the caller holds the
    schema lock) is made at the newest revision: all tables at once, then stamped."""
    with engine.begin() as connection:
        state = schema_state(connection)
        if state.current:
            return state
        if not state.empty:
            raise SchemaMismatchError(mismatch_message(state, where))
        if not create:
            raise EmptyDatabaseError(where)
        from services.schema.tables import project_metadata

        project_metadata().create_all(connection)
        command.stamp(alembic_config(connection), "head")
        return schema_state(connection)


def upgrade(engine: Engine) -> tuple[SchemaState, SchemaState]:
    """Migrates the database to this radar's newest revision in one transaction (PostgreSQL
    and SQLite both make DDL transactional); returns the state before and after."""
    with engine.begin() as connection:
        before = schema_state(connection)
        if not before.known:
            raise SchemaMismatchError(mismatch_message(before, "to upgrade"))
        if not before.current:
            command.upgrade(alembic_config(connection), "head")
        return before, schema_state(connection)


def upgrade_database(database: Database) -> tuple[SchemaState, SchemaState]:
    """`upgrade` under the database's schema lock (no process may create tables meanwhile)."""
    engine = database.unchecked_engine()
    try:
        with database.schema_lock():
            return upgrade(engine)
    finally:
        engine.dispose()
