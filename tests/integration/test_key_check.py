"""The key check every serving process runs first (services/backup/key_check.py): keys that do
not fit the data are named, missing or another deployment's, instead of new ones being made."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from privacy.key_encryption import FileKeyEncryptionKey
from privacy.lookup_digests import LookupDigests
from privacy.pseudonyms import PseudonymKeyring
from services.backup.key_check import KeysDoNotFitError, key_problems, require_keys
from services.database import KEK_FILE, Database
from services.settings import Settings


def _problems(settings: Settings) -> dict[str, str]:
    return {p.file: p.problem for p in key_problems(settings)}


def _make_keys(settings: Settings) -> None:
    FileKeyEncryptionKey(settings.keys_dir / KEK_FILE)
    LookupDigests.load_or_create(settings.keys_dir)
    PseudonymKeyring.load_or_create(settings.pseudonym_keyring_path)


def test_keys_that_do_not_fit_the_data_are_named(tmp_path: Path, database: Database) -> None:
    settings = Settings(data_dir=tmp_path / "data", database_url=database.url)
    assert _problems(settings) == {}  # a fresh deployment: nothing to fit yet
    _make_keys(settings)
    engine = database.engine()
    database.row_sealer(engine).keys.key_or_new("household-1")  # a data key, wrapped
    engine.dispose()
    assert _problems(settings) == {}  # first seen: recorded
    kept = tmp_path / "kept-keys"
    shutil.move(settings.keys_dir, kept)

    assert _problems(settings) == {
        "kek.json": "missing (it wraps the stored data keys)",
        "lookup-digest.key": "missing (the key, which the data was written with)",
        "pseudonym-keys.json": "missing (key version k1, which the data was written with)",
    }
    _make_keys(settings)  # another deployment's keys, made afresh
    assert _problems(settings) == {
        "kek.json": "holds other keys (cannot unwrap the read-model keys)",
        "lookup-digest.key": "holds another key (the key does not match)",
        "pseudonym-keys.json": "holds another key (key version k1 does not match)",
    }
    with pytest.raises(KeysDoNotFitError, match=r"lookup-digest\.key: holds another key"):
        require_keys(settings)

    shutil.rmtree(settings.keys_dir)
    shutil.move(kept, settings.keys_dir)
    require_keys(settings)  # the right keys again: it serves
