"""Does the keys directory hold the keys this database was written with?

Every key file is created on first use, so a radar started on restored data with an empty (or
another deployment's) keys directory would make new keys and serve rows nobody can open, and new
pseudonyms that never meet the old ones. So every serving process checks first: the KEK must
unwrap a stored data key of each store, and every key whose fingerprint the database recorded
(the lookup-digest key, each pseudonym key version, the checkpoint signing key) must be present
and the same. Fingerprints are keyed hashes of the keys: they reveal nothing about them.

A key first seen (a fresh deployment, a database from before this check) is recorded, never
created here: the services make their keys as they always did, and the next start or backup
records them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Column, DateTime, Engine, MetaData, String, Table, inspect, select
from sqlalchemy.exc import IntegrityError

from privacy.key_encryption import FileKeyEncryptionKey, UnreadableError
from privacy.lookup_digests import LOOKUP_KEY_FILE
from privacy.registers import MalformedFileError
from privacy.storage.access_log_sealing import period_keys
from privacy.storage.sealed_rows import row_subject_keys
from privacy.storage.subject_keys import SubjectKeyStore
from privacy.storage.vault_rows import vault_subject_keys
from services.audit.settings import checkpoint_key_path
from services.database import KEK_FILE, Database
from services.ledger.store import event_subject_keys
from services.settings import Settings

metadata = MetaData()
key_fingerprints = Table(
    "key_fingerprints",
    metadata,
    Column("name", String(128), primary_key=True),  # file name, '#version' for a keyring's
    Column("fingerprint", String(64), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
)

# Each store of data keys wrapped by the KEK, with the purpose bound into its wraps.
RADAR_KEY_STORES = (
    (event_subject_keys, "event-store"),
    (row_subject_keys, "read-model"),
    (period_keys, "access-log"),
)
VAULT_KEY_STORES = ((vault_subject_keys, "vault"),)
_FINGERPRINT_CONTEXT = b"signal-radar/key-fingerprint|v1"


class KeysDoNotFitError(MalformedFileError):
    """The keys directory lacks, or holds other, keys than the data was written with; answered
    like any malformed file at a service's start: one message, exit status 2, no traceback."""


@dataclass(frozen=True)
class KeyProblem:
    file: str
    problem: str

    def line(self) -> str:
        return f"  {self.file}: {self.problem}"


def fingerprint(secret: bytes) -> str:
    """A keyed hash of a key: equal for the same key, telling nothing about it."""
    return hmac.new(secret, _FINGERPRINT_CONTEXT, hashlib.sha256).hexdigest()[:32]


def present_fingerprints(settings: Settings) -> dict[str, str]:
    """The fingerprints of the keys in the keys directory now (absent files are absent)."""
    found: dict[str, str] = {}
    lookup = settings.keys_dir / LOOKUP_KEY_FILE
    if lookup.exists():
        found[LOOKUP_KEY_FILE] = fingerprint(lookup.read_bytes())
    keyring = settings.pseudonym_keyring_path
    if keyring.exists():
        document = json.loads(keyring.read_text(encoding="utf-8"))
        for version, value in document["keys"].items():
            found[f"{keyring.name}#{version}"] = fingerprint(base64.b64decode(value))
    checkpoint = checkpoint_key_path(settings)
    if checkpoint.exists():
        found[checkpoint.name] = fingerprint(checkpoint.read_bytes())
    return found


def recorded_fingerprints(engine: Engine) -> dict[str, str]:
    with engine.connect() as connection:
        rows = connection.execute(select(key_fingerprints)).all()
    return {row.name: row.fingerprint for row in rows}


def key_problems(settings: Settings) -> list[KeyProblem]:
    """What is missing or wrong in the keys directory for the configured databases; records
    the fingerprints of keys not recorded yet when nothing is wrong."""
    database = Database.of(settings)
    vault = Database(settings.resolved_vault_url, settings.keys_dir)
    problems: list[KeyProblem] = []
    with database.schema_lock():
        engine = database.engine()
        try:
            recorded = recorded_fingerprints(engine)
            present = present_fingerprints(settings)
            problems += _fingerprint_problems(recorded, present)
            problems += _kek_problems(database, engine, RADAR_KEY_STORES)
            if vault.url != database.url and _exists(vault):
                vault_engine = vault.engine()
                try:
                    problems += _kek_problems(vault, vault_engine, VAULT_KEY_STORES)
                finally:
                    vault_engine.dispose()
            if not problems:
                _record(engine, {k: v for k, v in present.items() if k not in recorded})
        finally:
            engine.dispose()
    return _unique(problems)


def require_keys(settings: Settings) -> None:
    """Refuses to go on (KeysDoNotFitError, naming each file) when the keys do not fit the
    data: a radar that cannot read its data must not serve it."""
    problems = key_problems(settings)
    if problems:
        raise KeysDoNotFitError(refusal_text(settings.keys_dir, problems))


def refusal_text(keys_dir: Path, problems: list[KeyProblem]) -> str:
    return "\n".join(
        [
            f"the keys directory {keys_dir} does not hold the keys this radar's data was "
            "written with:",
            *(problem.line() for problem in problems),
            "put the files of the key backup (`radar backup keys`) there; the radar does not "
            "serve data it cannot read",
        ]
    )


def _fingerprint_problems(recorded: dict[str, str], present: dict[str, str]) -> list[KeyProblem]:
    problems = []
    for name, expected in sorted(recorded.items()):
        file, _, version = name.partition("#")
        what = f"key version {version}" if version else "the key"
        if name not in present:
            problems.append(KeyProblem(file, f"missing ({what}, which the data was written with)"))
        elif present[name] != expected:
            problems.append(KeyProblem(file, f"holds another key ({what} does not match)"))
    return problems


def _kek_problems(
    database: Database, engine: Engine, stores: tuple[tuple[Table, str], ...]
) -> list[KeyProblem]:
    """The KEK must open one stored data key of every store that holds any."""
    for table, purpose in stores:
        subject = _first_subject(engine, table)
        if subject is None:
            continue
        if not database.kek_path().exists():
            return [KeyProblem(KEK_FILE, "missing (it wraps the stored data keys)")]
        try:
            kek = FileKeyEncryptionKey(database.kek_path())
            SubjectKeyStore(engine, kek, table, purpose).key(subject)
        except (UnreadableError, ValueError):
            return [KeyProblem(KEK_FILE, f"holds other keys (cannot unwrap the {purpose} keys)")]
    return []


def _first_subject(engine: Engine, table: Table) -> str | None:
    if not inspect(engine).has_table(table.name):
        return None
    with engine.connect() as connection:
        found = connection.execute(select(table.c.subject).limit(1)).scalar()
    return None if found is None else str(found)


def _exists(database: Database) -> bool:
    """A vault that was never opened has no file yet: nothing in it to check."""
    return not database.is_sqlite or database.sqlite_path().exists()


def _record(engine: Engine, fingerprints: dict[str, str]) -> None:
    for name, value in fingerprints.items():
        try:
            with engine.begin() as connection:
                connection.execute(
                    key_fingerprints.insert().values(
                        name=name, fingerprint=value, recorded_at=datetime.now(UTC)
                    )
                )
        except IntegrityError:  # recorded meanwhile by a process not under our lock
            continue


def _unique(problems: list[KeyProblem]) -> list[KeyProblem]:
    return list(dict.fromkeys(problems))
