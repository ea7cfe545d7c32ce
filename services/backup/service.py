"""`radar backup`'s use cases: a data backup (every database the radar uses, with a manifest),
a key backup kept apart from it, a restore into empty targets, and the key check.

The data backup holds no key: its rows are sealed under per-household keys wrapped by the KEK and
its lookups are keyed digests, so a stolen data backup without the key backup reveals nothing.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from privacy.keyfiles import write_secret_file
from services.audit.lineage import audit_lineage, record_restore
from services.audit.service import sign_restore
from services.backup import postgres_copy, sqlite_copy
from services.backup.key_check import KeyProblem, key_problems, present_fingerprints
from services.backup.manifest import (
    KEYS_MANIFEST,
    LEDGER_TABLES,
    MANIFEST,
    BackupError,
    check_files,
    facts,
    new_manifest,
    read_manifest,
    sha256_of,
    write_manifest,
)
from services.database import Database
from services.schema.errors import SchemaMismatchError
from services.settings import Settings

DATA_BACKUP = "signal-radar data backup"
KEY_BACKUP = "signal-radar key backup"
SQLITE, POSTGRESQL = "sqlite", "postgresql"


@dataclass(frozen=True)
class Store:
    """One database of the radar: the radar's own (event store, read models, access log...)
    or the identity vault's, which may be the same database."""

    name: str
    database: Database

    @property
    def engine(self) -> str:
        return SQLITE if self.database.is_sqlite else POSTGRESQL

    @property
    def file_name(self) -> str:
        return f"{self.name}.db" if self.database.is_sqlite else f"{self.name}.pgdump"


def stores(settings: Settings) -> list[Store]:
    """The radar's databases, each once; the radar's first (the vault is written before the
    event store at ingest, so a vault copied after the radar's holds every identity it needs)."""
    radar = Store("radar", Database.of(settings))
    vault = Store("vault", Database(settings.resolved_vault_url, settings.keys_dir))
    return [radar] if vault.database.url == radar.database.url else [radar, vault]


def create(settings: Settings, directory: Path) -> dict[str, Any]:
    """Copies every database of the radar into `directory` (new or empty), consistently while
    the radar runs, and writes the manifest; returns it."""
    _refuse_non_empty_directory(directory)
    problems = key_problems(settings)  # records the fingerprints of the keys in use
    if problems:
        raise BackupError(
            _keys_text(settings, problems, "a backup now would hold data no key opens")
        )
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    databases: dict[str, Any] = {}
    for store in stores(settings):
        target = directory / store.file_name
        found = _copy_out(store, target)
        if found is None:
            continue  # an SQLite file never opened (a vault no signal reached): nothing to keep
        os.chmod(target, 0o600)
        databases[store.name] = {
            "engine": store.engine,
            "file": target.name,
            "sha256": sha256_of(target),
            "bytes": target.stat().st_size,
            **found,
        }
    radar = databases.get("radar", {})
    manifest = new_manifest(
        DATA_BACKUP,
        databases=databases,
        event_store=radar.get("event_store"),
        vault_in_radar_database=len(stores(settings)) == 1,
        keys={
            "included": False,
            "fingerprints": radar.get("key_fingerprints", {}),
            "note": "the key files are not in this backup: `radar backup keys DIR` copies "
            "them, to be kept apart (another medium, another custodian)",
        },
    )
    write_manifest(directory / MANIFEST, manifest)
    return manifest


def _copy_out(store: Store, target: Path) -> dict[str, Any] | None:
    """Copies one database into `target`; returns what the copy holds (read from the copy,
    or from the snapshot the dump was made in), None when there is no database to copy."""
    if store.database.is_sqlite:
        source = store.database.sqlite_path()
        if not source.exists():
            return None
        sqlite_copy.copy_out(source, target)
        engine = create_engine(f"sqlite:///{target}")
        try:
            with engine.connect() as connection:
                return facts(connection)
        finally:
            engine.dispose()
    with postgres_copy.snapshot(store.database.url) as (connection, snapshot_id, major):
        found = facts(connection)
        postgres_copy.dump(store.database.url, snapshot_id, major, target)
    return {**found, "server_major_version": major}


def backup_keys(settings: Settings, directory: Path) -> dict[str, Any]:
    """Copies every key file of the keys directory into `directory` (new or empty, owner-only)
    with a manifest of their names and SHA-256."""
    _refuse_non_empty_directory(directory)
    files = _key_files(settings.keys_dir)
    if not files:
        raise BackupError(f"{settings.keys_dir} holds no key files")
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    for path in files:
        write_secret_file(directory / path.name, path.read_bytes())
    manifest = new_manifest(
        KEY_BACKUP,
        files={path.name: sha256_of(path) for path in files},
        fingerprints=present_fingerprints(settings),
    )
    write_manifest(directory / KEYS_MANIFEST, manifest)
    return manifest


def restore(settings: Settings, directory: Path, keys: Path | None) -> list[KeyProblem]:
    """Restores the backup in `directory` into the databases the settings name, which must be
    empty, and the key backup `keys` (if given) into the empty keys directory; returns what is
    then still missing or wrong in the keys directory (the restored radar refuses to serve
    until nothing is)."""
    manifest = read_manifest(directory, MANIFEST, DATA_BACKUP)
    check_files(directory, {d["file"]: d["sha256"] for d in manifest["databases"].values()})
    targets = _targets(settings, manifest)
    occupied = [str(t.database.url) for t in targets.values() if _holds_data(t)]
    if occupied:
        raise BackupError(
            "a backup restores only into empty databases; these hold data already: "
            + ", ".join(_safe_url(url) for url in occupied)
            + " (make a new database, or another RADAR_DATA_DIR)"
        )
    key_manifest = _checked_key_backup(settings, keys) if keys is not None else None
    for name, entry in sorted(manifest["databases"].items()):
        target = targets[name]
        source = directory / entry["file"]
        if target.database.is_sqlite:
            sqlite_copy.copy_in(source, target.database.sqlite_path())
        else:
            postgres_copy.restore(target.database.url, source)
    _record_restore(settings, manifest["databases"]["radar"])
    if keys is not None and key_manifest is not None:
        _copy_keys(settings, keys, key_manifest)
    return _signed_when_keys_fit(settings)


def restore_keys(settings: Settings, keys: Path) -> list[KeyProblem]:
    """Puts a key backup into the empty keys directory (the keys' custodian may come after
    the data's); returns what is then still missing or wrong."""
    _copy_keys(settings, keys, _checked_key_backup(settings, keys))
    return _signed_when_keys_fit(settings)


def _record_restore(settings: Settings, radar: dict[str, Any]) -> None:
    """A restore begins a new audit epoch (services/audit/lineage.py): a new store id and its
    lineage, the backup's position, so the lost radar's later checkpoints are not taken for
    tampering. Written on the unchecked engine: a backup at an older schema revision records
    its restore too (then the lineage table is made as revision 0003 makes it; the upgrade
    leaves it)."""
    if "audit_store" not in radar["tables"]:
        return  # a database that was never sealed: no checkpoint to tell apart
    position = int((radar.get("event_store") or {}).get("last_notification_id", 0))
    records = int(radar["tables"].get(LEDGER_TABLES[radar["engine"]][0], 0))
    engine = Database.of(settings).unchecked_engine()
    try:
        with engine.begin() as connection:
            audit_lineage.create(connection, checkfirst=True)
            record_restore(connection, position, records, datetime.now(UTC))
    finally:
        engine.dispose()


def _signed_when_keys_fit(settings: Settings) -> list[KeyProblem]:
    """What is missing or wrong in the keys directory; when nothing is, the restore's first
    checkpoint is signed at once, so `radar audit verify` before the first start sees it."""
    problems = key_problems(settings)
    if not problems:
        with contextlib.suppress(SchemaMismatchError):  # signed after `radar db upgrade`
            sign_restore(settings)
    return problems


def _copy_keys(settings: Settings, keys: Path, manifest: dict[str, Any]) -> None:
    settings.keys_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    for file_name in sorted(manifest["files"]):
        write_secret_file(settings.keys_dir / file_name, (keys / file_name).read_bytes())


def check(settings: Settings) -> list[KeyProblem]:
    """The key check; with the keys in place it also signs a restore not signed yet (one
    restored before its keys came by hand, or before `radar db upgrade`)."""
    return _signed_when_keys_fit(settings)


def _targets(settings: Settings, manifest: dict[str, Any]) -> dict[str, Store]:
    here = {store.name: store for store in stores(settings)}
    if set(manifest["databases"]) - set(here):
        raise BackupError(
            "the backup holds the vault in a database of its own, but RADAR_VAULT_URL names "
            "the radar's database: set RADAR_VAULT_URL to an empty database of its own"
        )
    for name, entry in manifest["databases"].items():
        if entry["engine"] != here[name].engine:
            raise BackupError(
                f"the backup's {name} database is {entry['engine']}, the target is "
                f"{here[name].engine}: restore into the same kind of database"
            )
    return {name: here[name] for name in manifest["databases"]}


def _holds_data(store: Store) -> bool:
    if store.database.is_sqlite:
        return sqlite_copy.holds_data(store.database.sqlite_path())
    return postgres_copy.holds_data(store.database.url)


def _checked_key_backup(settings: Settings, keys: Path) -> dict[str, Any]:
    manifest = read_manifest(keys, KEYS_MANIFEST, KEY_BACKUP)
    check_files(keys, manifest["files"])
    already = _key_files(settings.keys_dir)
    if already:
        raise BackupError(
            f"the keys directory {settings.keys_dir} holds key files already "
            f"({', '.join(p.name for p in already)}): restore keys only into an empty one"
        )
    return manifest


def _key_files(keys_dir: Path) -> list[Path]:
    """The key files: everything in the keys directory but its lock and temporary files."""
    if not keys_dir.is_dir():
        return []
    return sorted(p for p in keys_dir.iterdir() if p.is_file() and not p.name.startswith("."))


def _refuse_non_empty_directory(directory: Path) -> None:
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise BackupError(f"{directory} is not an empty directory: a backup goes into a new one")


def _keys_text(settings: Settings, problems: list[KeyProblem], why: str) -> str:
    lines = [f"the keys directory {settings.keys_dir} does not fit the data ({why}):"]
    return "\n".join([*lines, *(problem.line() for problem in problems)])


def _safe_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)
