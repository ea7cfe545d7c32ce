"""The radar's tables are Alembic's: the migrations from nothing make exactly the tables the
code declares, a first start makes an empty database at the newest revision, and a process
refuses a database at another revision with the command that migrates it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from services.database import Database
from services.schema.migrate import (
    VERSION_TABLE,
    head_revision,
    schema_state,
    upgrade_database,
)
from services.schema.tables import REBUILT_READ_MODELS, project_metadata, project_table_names


def _differences(database: Database) -> list[object]:
    """What Alembic's autogenerate would change to make the database match the code's tables
    (the event store's tables are the library's, and left out)."""
    engine = database.unchecked_engine()
    ours = project_table_names()
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection,
                opts={
                    "include_name": lambda name, kind, _p: kind != "table" or name in ours,
                    "compare_type": True,
                },
            )
            return list(compare_metadata(context, project_metadata()))
    finally:
        engine.dispose()


def _revision(database: Database) -> str | None:
    engine = database.unchecked_engine()
    try:
        with engine.connect() as connection:
            return schema_state(connection).revision
    finally:
        engine.dispose()


def _stamp(database: Database, revision: str) -> None:
    engine = database.unchecked_engine()
    try:
        with engine.begin() as connection:
            if revision == "none":
                connection.execute(text(f"DROP TABLE {VERSION_TABLE}"))
            else:
                connection.execute(
                    text(f"UPDATE {VERSION_TABLE} SET version_num = :r"),  # noqa: S608
                    {"r": revision},
                )
    finally:
        engine.dispose()


def test_the_migrations_from_nothing_make_the_tables_the_code_declares(
    database: Database,
) -> None:
    before, after = upgrade_database(database)
    assert (before.revision, after.revision) == (None, head_revision())
    assert _differences(database) == []


def test_a_first_start_makes_an_empty_database_at_the_newest_revision(
    database: Database,
) -> None:
    database.engine().dispose()
    assert _revision(database) == head_revision()
    assert _differences(database) == []  # the same tables as the migrations make
    again = upgrade_database(database)
    assert again[0].revision == again[1].revision == head_revision()


def test_every_read_model_table_is_one_the_radar_owns() -> None:
    assert project_table_names() > REBUILT_READ_MODELS
    assert "access_log" not in REBUILT_READ_MODELS and "vault_identities" not in REBUILT_READ_MODELS


def _start_query_api(database: Database, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "RADAR_DATABASE_URL": database.url,
        "RADAR_DATA_DIR": str(tmp_path / "data"),
        "RADAR_QUERY_PORT": "0",
    }
    return subprocess.run(
        [sys.executable, "-m", "services.cli", "query"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("stored", "says"),
    [
        ("none", "made by a radar before schema versions"),
        ("0001", "is at schema revision 0001, this radar needs"),
        ("9999", "written by a newer radar than this one"),
    ],
)
def test_a_process_refuses_a_database_at_another_revision_and_names_the_command(
    database: Database, tmp_path: Path, stored: str, says: str
) -> None:
    upgrade_database(database)
    _stamp(database, stored)

    started = _start_query_api(database, tmp_path)

    assert started.returncode == 2, started.stderr
    assert says in started.stderr
    assert "Traceback" not in started.stderr
    if stored != "9999":
        assert "radar db upgrade" in started.stderr
        upgrade_database(database)
        assert _revision(database) == head_revision()
    else:
        with pytest.raises(Exception, match="newer radar"):
            upgrade_database(database)
        assert _revision(database) == "9999", "a newer radar's database is left as it was"
