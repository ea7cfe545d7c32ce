"""A vault written the old way (format 1: pseudonyms as they are, in `pseudonym` and
`first_known_as`) on SQLite and PostgreSQL: opened by this version, its rows are rewritten in
place once to lookup digests and sealed names, and the vault still re-identifies, links the
pseudonyms of a later key version to those first known, and erases a household."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Column, DateTime, LargeBinary, MetaData, String, Table, insert, select

from privacy.addresses import HomeAddress
from privacy.key_encryption import FileKeyEncryptionKey, seal
from privacy.lookup_digests import LookupDigests
from privacy.pseudonyms import Pseudonymiser, PseudonymKeyring
from privacy.storage.subject_keys import SubjectKeyStore, subject_keys_table
from privacy.storage.vault import Identity, IdentityVault, vault_identities
from privacy.storage.vault_rows import migrate
from services.database import Database
from tests.support.inspection import database_bytes

PARENT, CHILD, LATER = "111222333", "123456782", "908301662"  # synthetic, pass the elfproef
HOME = HomeAddress.normalised("3511 AB", 12, "bis")


def _keys(path: Path) -> Pseudonymiser:
    return Pseudonymiser(PseudonymKeyring.load_or_create(path))


def _old_vault(database: Database, kek: FileKeyEncryptionKey, rows: list[tuple[str, ...]]) -> None:
    """The vault tables as format 1 made them, with rows (pseudonym, kind, first known,
    identifier) of one household, each sealed under its key with format 1's context."""
    legacy = MetaData()
    keys_table = subject_keys_table(legacy, "vault_subject_keys")
    identities = Table(
        "vault_identities",
        legacy,
        Column("pseudonym", String(64), primary_key=True),
        Column("subject", String(36), primary_key=True),
        Column("kind", String(16), nullable=False),
        Column("first_known_as", String(64), nullable=False, index=True),
        Column("sealed", LargeBinary, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
    )
    engine = database.engine()
    legacy.create_all(engine)
    subject = str(uuid.uuid4())
    key = SubjectKeyStore(engine, kek, keys_table, "vault").key_or_new(subject)
    with engine.begin() as connection:
        for pseudonym, kind, first, identifier in rows:
            context = f"signal-radar/vault/identity|v1|{kind}|{subject}|{pseudonym}".encode()
            connection.execute(
                insert(identities).values(
                    pseudonym=pseudonym,
                    subject=subject,
                    kind=kind,
                    first_known_as=first,
                    sealed=seal(key, identifier.encode(), context),
                    created_at=datetime.now(UTC),
                )
            )
    engine.dispose()


def test_a_vault_written_the_old_way_is_migrated_and_still_reidentifies_links_and_erases(
    database: Database, tmp_path: Path
) -> None:
    path = tmp_path / "pseudonyms.json"
    k1 = _keys(path)
    PseudonymKeyring.rotate(path)
    k2 = _keys(path)
    kek = FileKeyEncryptionKey(tmp_path / "kek.json")
    # The household and the parent as first known under k1; the child first seen under k2,
    # at the time the household's k2 pseudonym was linked to its k1 one.
    home1, home2 = k1.household(HOME), k2.household(HOME)
    parent, child = k1.person(PARENT), k2.person(CHILD)
    _old_vault(
        database,
        kek,
        [
            (home1, "household", home1, HOME.canonical()),
            (home2, "household", home1, HOME.canonical()),
            (parent, "person", parent, PARENT),
            (child, "person", child, CHILD),
        ],
    )
    digests = LookupDigests.load_or_create(tmp_path)

    vault = IdentityVault(database.engine(), kek, digests)
    assert migrate(database.engine(), vault.keys, digests) == 0, "once is enough"

    shown = [home1, home2, parent, child, k2.person(PARENT)]
    engine = database.engine()
    with engine.connect() as connection:
        rows = connection.execute(select(vault_identities)).all()
    engine.dispose()
    assert len(rows) == 4 and all(row.names is not None for row in rows)
    stored = b"".join(str(value).encode() for row in rows for value in row[:4])
    assert [p for p in shown if p.encode() in stored] == []
    if database.is_sqlite:  # nor in the file's free pages or its write-ahead log
        assert [p for p in shown if p.encode() in database_bytes(database)] == []

    for pseudonym in (home1, home2):
        identity = vault.household_identity(pseudonym)
        assert identity is not None and identity.household == home1
        assert identity.address == HOME
        assert identity.persons == {parent: PARENT, child: CHILD}
    assert vault.person_bsn(parent) == PARENT and vault.person_bsn(child) == CHILD
    assert vault.household_pseudonym(HOME, k2) == home1
    assert vault.first_known_person([k2.person(PARENT), parent]) == parent

    # A signal under k2 naming the parent and someone new: linked to the first-known ones.
    (links,) = vault.deposit([Identity(home2, HOME, ((k2.person(PARENT), PARENT),
                                                     (k2.person(LATER), LATER)))], k2)  # fmt: skip
    assert {(link.kind, link.pseudonym, link.known_as) for link in links} == {
        ("household", home2, home1),
        ("person", k2.person(PARENT), parent),
    }
    identity = vault.household_identity(home2)
    assert identity is not None
    assert identity.persons == {parent: PARENT, child: CHILD, k2.person(LATER): LATER}

    assert vault.count_household(home1) == 6
    assert vault.forget_household(home1) == 6
    assert vault.household_identity(home2) is None and vault.person_bsn(parent) is None
