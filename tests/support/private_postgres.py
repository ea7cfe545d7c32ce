"""A PostgreSQL cluster of the test's own, started by the project's deploy script: its whole
directory (pages, pg_wal) and its base backups can then be read byte for byte without other
tests' data in the way."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg

from testkit.processes import REPO

SCRIPT = REPO / "deploy" / "postgres" / "postgres.sh"


@dataclass(frozen=True)
class PrivateCluster:
    directory: Path  # the cluster dir: data/ (PGDATA, pg_wal included) and the server log
    port: int

    def url(self, database: str = "radar") -> str:
        return f"postgresql://radar:radar@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        with psycopg.connect(self.url(), autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def checkpoint(self) -> None:
        """Flushes every dirty page to the data files (so the pages, not only the WAL, are
        what a scan reads), and closes the current WAL segment."""
        with psycopg.connect(self.url(), autocommit=True) as connection:
            connection.execute("CHECKPOINT")
            connection.execute("SELECT pg_switch_wal()")

    def base_backup(self, into: Path) -> Path:
        """A base backup (pg_basebackup, WAL included) as an operator would take it."""
        binary = _binary("pg_basebackup")
        subprocess.run(
            [str(binary), "-d", self.url(), "-D", str(into), "-X", "stream", "-c", "fast"],
            check=True,
            capture_output=True,
            timeout=120,
        )
        return into


def every_byte(*directories: Path) -> bytes:
    """The contents of every file below the directories, as one haystack."""
    return b"\n".join(
        path.read_bytes()
        for directory in directories
        for path in sorted(directory.rglob("*"))
        if path.is_file() and not path.is_symlink()
    )


@contextmanager
def private_cluster() -> Iterator[PrivateCluster]:
    """A fresh cluster in a temporary directory on a free loopback port, removed after."""
    # made by the deploy script, reachable by the postgres OS user when we are root
    cluster = PrivateCluster(Path(f"/var/tmp/radar-pg-{uuid.uuid4().hex[:12]}"), _free_port())
    env = {**os.environ, "RADAR_PG_DIR": str(cluster.directory), "RADAR_PG_PORT": str(cluster.port)}
    try:
        subprocess.run(
            [str(SCRIPT), "start"], env=env, check=True, capture_output=True, timeout=180
        )
        yield cluster
    finally:
        subprocess.run([str(SCRIPT), "clean"], env=env, capture_output=True, timeout=120)
        shutil.rmtree(cluster.directory, ignore_errors=True)


def _binary(name: str) -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    if not found:
        raise FileNotFoundError(f"{name} not found: run `make pg-up` (it installs PostgreSQL)")
    return found[-1]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
