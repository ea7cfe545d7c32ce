"""What a backup holds, said in its manifest.json: read from the copied data itself (the SQLite
copy, or the PostgreSQL snapshot the dump was made in), so the position it names is the one the
data has: the event store's last notification, the Kafka offsets recorded with it (from where a
restored aggregator resumes), each read model's position, the schema and format versions of the
tables that carry one, the audit checkpoints, the key fingerprints and every table's row count.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, inspect, select, text
from sqlalchemy.exc import SQLAlchemyError

from services.backup.key_check import key_fingerprints

MANIFEST = "manifest.json"
KEYS_MANIFEST = "keys-manifest.json"
MANIFEST_FORMAT = 1
FORMAT_TABLES = ("projection_formats", "ingest_receipt_formats", "vault_formats")
# The eventsourcing library's tables: (events, tracking, notification id column) per engine; on
# PostgreSQL it names them after the application (SignalLedger).
LEDGER_TABLES = {
    "sqlite": ("stored_events", "tracking", "rowid"),
    "postgresql": ("signalledger_events", "signalledger_tracking", "notification_id"),
}
KAFKA_TRACKING_PREFIX = "kafka:"  # services.ledger.consumer.tracking_name


class BackupError(Exception):
    """A backup or restore that cannot be done as asked; nothing was changed."""


def facts(connection: Connection) -> dict[str, Any]:
    """What the database on `connection` holds, as of its transaction."""
    tables = sorted(inspect(connection).get_table_names())
    found: dict[str, Any] = {
        "tables": {name: _count(connection, name) for name in tables},
    }
    events, tracking, notification_id = LEDGER_TABLES[connection.dialect.name]
    if events in tables:
        last = connection.execute(text(f"SELECT MAX({notification_id}) FROM {events}")).scalar()  # noqa: S608
        found["event_store"] = {
            "last_notification_id": int(last or 0),
            "kafka_offsets": _kafka_offsets(connection, tracking) if tracking in tables else {},
        }
    if "projection_positions" in tables:
        found["read_model_positions"] = _pairs(connection, "projection_positions", "position")
    found["formats"] = {t: _pairs(connection, t, "format") for t in FORMAT_TABLES if t in tables}
    if "audit_checkpoints" in tables:
        newest = connection.execute(
            text("SELECT seq, notification_id FROM audit_checkpoints ORDER BY seq DESC LIMIT 1")
        ).first()
        found["audit_checkpoints"] = (
            None if newest is None else {"seq": newest[0], "notification_id": newest[1]}
        )
    if key_fingerprints.name in tables:
        rows = connection.execute(select(key_fingerprints)).all()
        found["key_fingerprints"] = {row.name: row.fingerprint for row in rows}
    return found


def _count(connection: Connection, table: str) -> int:
    quoted = connection.dialect.identifier_preparer.quote(table)
    return int(connection.execute(text(f"SELECT count(*) FROM {quoted}")).scalar_one())  # noqa: S608


def _kafka_offsets(connection: Connection, table: str) -> dict[str, int]:
    """The Kafka offsets recorded with the events (a restored aggregator resumes after them)."""
    try:
        rows = connection.execute(
            text(f"SELECT application_name, notification_id FROM {table}")  # noqa: S608
        ).all()
    except SQLAlchemyError:  # another layout of the library's tracking table
        return {}
    return {r[0]: int(r[1]) for r in rows if str(r[0]).startswith(KAFKA_TRACKING_PREFIX)}


def _pairs(connection: Connection, table: str, value: str) -> dict[str, int]:
    rows = connection.execute(text(f"SELECT name, {value} FROM {table}")).all()  # noqa: S608
    return {str(r[0]): int(r[1]) for r in rows}


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def new_manifest(kind: str, **content: Any) -> dict[str, Any]:
    return {
        "kind": kind,
        "manifest_format": MANIFEST_FORMAT,
        "created_at": datetime.now(UTC).isoformat(),
        "radar_version": version("signal-radar"),
        **content,
    }


def write_manifest(path: Path, manifest: dict[str, Any]) -> None:
    """Written last, atomically: a backup directory without its manifest is not a backup."""
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    temporary.replace(path)


def read_manifest(directory: Path, name: str, kind: str) -> dict[str, Any]:
    path = directory / name
    if not path.exists():
        raise BackupError(f"{directory} is not a complete backup: it has no {name}")
    manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    if manifest.get("kind") != kind or manifest.get("manifest_format") != MANIFEST_FORMAT:
        raise BackupError(f"{path} is not a {kind} manifest of format {MANIFEST_FORMAT}")
    return manifest


def check_files(directory: Path, files: dict[str, str]) -> None:
    """Every file the manifest names is there with its SHA-256: a damaged copy restores nothing."""
    for name, expected in sorted(files.items()):
        path = directory / name
        if not path.exists():
            raise BackupError(f"{path} is missing from the backup")
        if sha256_of(path) != expected:
            raise BackupError(f"{path} does not match its SHA-256 in the manifest: damaged")
