"""A data key made inside a transaction that then rolls back was never stored: the key store
must not go on handing it out from memory, or what is sealed under it in the next seconds could
never be opened again (the row key of a read model, the period key of the access log)."""

from __future__ import annotations

import pytest
from sqlalchemy import MetaData

from privacy.key_encryption import FileKeyEncryptionKey
from privacy.storage.subject_keys import SubjectKeyStore, subject_keys_table
from services.database import Database


class RolledBackError(Exception):
    pass


def test_a_key_made_in_a_rolled_back_transaction_is_not_remembered(database: Database) -> None:
    engine = database.engine()
    metadata = MetaData()
    table = subject_keys_table(metadata, "test_subject_keys")
    metadata.create_all(engine)
    keys = SubjectKeyStore(engine, FileKeyEncryptionKey(database.kek_path()), table, "test")

    with pytest.raises(RolledBackError), engine.begin() as connection:
        keys.key_or_new("subject-a", connection)
        keys.create(["subject-b"], connection)
        raise RolledBackError
    assert keys.key("subject-a") is None and keys.key("subject-b") is None

    with engine.begin() as connection:
        kept = keys.key_or_new("subject-a", connection)
    assert keys.key("subject-a") == kept


def test_keys_minted_for_a_transaction_are_stored_when_it_stores_them_and_forgotten_otherwise(
    database: Database,
) -> None:
    """`mint_absent` (a read model's new households: keys made before its rows are written,
    stored after them) hands a key out at once; stored, another process opens with it;
    rolled back before that, it is forgotten like any key made in the transaction."""
    engine = database.engine()
    metadata = MetaData()
    table = subject_keys_table(metadata, "test_minted_keys")
    metadata.create_all(engine)
    kek = FileKeyEncryptionKey(database.kek_path())
    keys = SubjectKeyStore(engine, kek, table, "test")
    assert keys.missing(["subject-a", "subject-b"]) == {"subject-a", "subject-b"}

    with pytest.raises(RolledBackError), engine.begin() as connection:
        keys.mint_absent(["subject-a"], connection)
        assert keys.key("subject-a") is not None, "sealing can start before the rows are written"
        raise RolledBackError
    assert keys.key("subject-a") is None

    keys.missing(["subject-a"])
    with engine.begin() as connection:
        minted = keys.mint_absent(["subject-a", "subject-b"], connection)
        made = keys.key("subject-a")
        keys.store_minted(minted, connection)
    elsewhere = SubjectKeyStore(engine, kek, table, "test")
    assert elsewhere.key("subject-a") == made and elsewhere.key("subject-b") is not None
