"""Retiring a KEK version is what makes an erasure reach the copies of the database: a base
backup, pg_wal or a replica still holds the wrapped key of a household erased since, and
whoever holds the KEK could unwrap it. After `radar admin rotate-kek` re-wrapped the live keys
and `radar admin retire-kek` removed the old version, that copy opens with nothing, while every
live household still reads."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from privacy.key_encryption import FileKeyEncryptionKey, UnreadableError, WrappedKey
from services import bootstrap
from services.ledger.store import event_subject_keys
from services.settings import Settings
from testkit.processes import run_radar

ERASED, KEPT = "00000000-0000-4000-8000-00000000e4a5", "00000000-0000-4000-8000-0000000000cc"


def _backup_copy(settings: Settings, subject: str) -> WrappedKey:
    """The subject's wrapped key as a backup taken now would hold it."""
    parts = bootstrap.Parts(settings)
    try:
        with parts.engine.connect() as connection:
            row = connection.execute(
                select(event_subject_keys).where(event_subject_keys.c.subject == subject)
            ).one()
        return WrappedKey(row.kek_id, row.wrapped_key)
    finally:
        parts.close()


def test_a_retired_kek_leaves_a_backups_copy_of_an_erased_key_unopenable(
    settings: Settings,
) -> None:
    parts = bootstrap.Parts(settings)
    keys = parts.ledger.subject_keys
    erased_key, kept_key = keys.key_or_new(ERASED), keys.key_or_new(KEPT)
    backup = _backup_copy(settings, ERASED)
    keys.destroy([ERASED])  # retention erased the household after the backup was taken
    parts.close()

    refused = run_radar(settings, "admin", "retire-kek", "kek1")
    assert refused.returncode == 2 and "current KEK" in refused.stderr

    rotated = run_radar(settings, "admin", "rotate-kek")
    assert rotated.returncode == 0, rotated.stderr
    assert rotated.stdout.startswith("kek2: re-wrapped")

    kek = bootstrap.database(settings).key_encryption_key()
    context = f"signal-radar/event-store/data-key|v1|{ERASED}".encode()
    assert kek.unwrap(backup, context) == erased_key, "before retiring, the copy still opens"

    retired = run_radar(settings, "admin", "retire-kek", "kek1")
    assert retired.returncode == 0, retired.stderr
    assert "retired kek1" in retired.stdout

    after = bootstrap.database(settings).key_encryption_key()
    with pytest.raises(UnreadableError):
        after.unwrap(backup, context)
    live = bootstrap.Parts(settings)
    try:
        assert live.ledger.subject_keys.key(KEPT) == kept_key, "live households still read"
    finally:
        live.close()


def test_a_kek_version_with_keys_still_under_it_is_not_retired(settings: Settings) -> None:
    parts = bootstrap.Parts(settings)
    kept_key = parts.ledger.subject_keys.key_or_new(KEPT)
    parts.close()
    FileKeyEncryptionKey.rotate(bootstrap.database(settings).kek_path())  # nothing re-wrapped
    refused = run_radar(settings, "admin", "retire-kek", "kek1")
    assert refused.returncode == 2
    assert "1 data keys are still wrapped under kek1" in refused.stderr
    fresh = bootstrap.Parts(settings)
    try:
        assert fresh.ledger.subject_keys.key(KEPT) == kept_key, "kek1 was kept"
    finally:
        fresh.close()
