"""PostgreSQL copies with `pg_dump --format=custom` and `pg_restore`, by the binaries of the
server's own major version (Debian installs them under /usr/lib/postgresql/<major>/bin, where
deploy/postgres/postgres.sh finds them too).

The dump runs in a snapshot exported by a repeatable-read transaction that stays open meanwhile,
so what the manifest says about the store (its position, the Kafka offsets) is read from exactly
the data the dump holds.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, create_engine, text
from sqlalchemy.engine import make_url

DEBIAN_BINARIES = Path("/usr/lib/postgresql")
USER_SCHEMAS = "table_schema NOT IN ('pg_catalog', 'information_schema')"


class PostgresToolError(Exception):
    """pg_dump or pg_restore is missing, of another major version, or failed."""


def _engine_url(url: str) -> str:
    return make_url(url).set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """The URL for libpq without its password, and an environment that carries it instead
    (a password on a command line is visible to every user of the machine)."""
    parsed = make_url(url).set(drivername="postgresql")
    env = dict(os.environ)
    if parsed.password is not None:
        env["PGPASSWORD"] = str(parsed.password)
    return parsed.set(password=None).render_as_string(hide_password=False), env


def server_major(connection: Connection) -> int:
    return int(connection.execute(text("SHOW server_version_num")).scalar_one()) // 10000


def binary(name: str, major: int) -> Path:
    """pg_dump or pg_restore of the server's major version (an older one cannot read a newer
    server; a newer one writes dumps an older pg_restore refuses)."""
    debian = DEBIAN_BINARIES / str(major) / "bin" / name
    if debian.exists():
        return debian
    found = shutil.which(name)
    if found is not None:
        version = subprocess.run([found, "--version"], capture_output=True, text=True, check=False)
        match = re.search(r"(\d+)(?:\.\d+)?", version.stdout)
        if match is not None and int(match.group(1)) == major:
            return Path(found)
    raise PostgresToolError(
        f"no {name} of PostgreSQL {major} (looked in {debian.parent} and on PATH): install "
        f"postgresql-client-{major}"
    )


@contextmanager
def snapshot(url: str) -> Iterator[tuple[Connection, str, int]]:
    """A repeatable-read transaction, its exported snapshot id and the server's major
    version; the snapshot stays usable by pg_dump until the block ends."""
    engine = create_engine(_engine_url(url), isolation_level="REPEATABLE READ")
    try:
        with engine.connect() as connection:
            major = server_major(connection)
            snapshot_id = str(connection.execute(text("SELECT pg_export_snapshot()")).scalar_one())
            yield connection, snapshot_id, major
            connection.rollback()
    finally:
        engine.dispose()


def dump(url: str, snapshot_id: str, major: int, target: Path) -> None:
    """pg_dump of the database as of the exported snapshot, in the custom format."""
    address, env = _libpq(url)
    _run(
        [
            str(binary("pg_dump", major)),
            "--format=custom",
            f"--snapshot={snapshot_id}",
            "--no-password",
            f"--file={target}",
            f"--dbname={address}",
        ],
        env,
    )


def restore(url: str, dump_file: Path) -> None:
    """pg_restore into the (empty) database, in one transaction: all of it or nothing. Owners
    and grants are the target's: the restoring role owns what it restores."""
    engine = create_engine(_engine_url(url))
    try:
        with engine.connect() as connection:
            major = server_major(connection)
    finally:
        engine.dispose()
    address, env = _libpq(url)
    _run(
        [
            str(binary("pg_restore", major)),
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "--single-transaction",
            "--no-password",
            f"--dbname={address}",
            str(dump_file),
        ],
        env,
    )


def holds_data(url: str) -> bool:
    """Whether the database has any table of its own (a restore wants an empty database)."""
    engine = create_engine(_engine_url(url))
    try:
        with engine.connect() as connection:
            query = f"SELECT count(*) FROM information_schema.tables WHERE {USER_SCHEMAS}"  # noqa: S608
            return int(connection.execute(text(query)).scalar_one()) > 0
    finally:
        engine.dispose()


def _run(argv: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tool = Path(argv[0]).name
        raise PostgresToolError(f"{tool} failed (exit {done.returncode}): {done.stderr.strip()}")
