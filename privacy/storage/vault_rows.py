"""The identity vault's tables and how one row is sealed, opened and found.

A row is found by the lookup digest of its pseudonym (privacy.lookup_digests), never by the
pseudonym itself: the vault's database, its WAL, replicas and backups keep old row versions,
and a pseudonym there would tell whom a row is about to anyone holding the radar's data. Its
identifier (address or BSN) is sealed under the household's data key bound to the plain
pseudonym, as it always was (the caller knows the pseudonym when it looks a row up). What the
vault must answer without knowing it (a household's members, a pseudonym as first known) is
sealed beside it, in `names`, bound to the row's digest and household.

Rows written before digests (format 1: pseudonyms as they are, no `names`) are rewritten in
place once, in one transaction (`migrate`): only the columns change, the sealed identifier is
left as it is, since its context binds the plain pseudonym either way.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    bindparam,
    delete,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from privacy.key_encryption import seal, unseal
from privacy.lookup_digests import LookupDigests
from privacy.storage.erasure import erasing
from privacy.storage.subject_keys import SubjectKeyStore, subject_keys_table

HOUSEHOLD = "household"
PERSON = "person"
FORMAT = 2
VAULT = "vault_identities"
MIGRATION_BATCH = 500

metadata = MetaData()

vault_subject_keys = subject_keys_table(metadata, "vault_subject_keys")  # one per household

vault_identities = Table(
    VAULT,
    metadata,
    # A household's address under its own pseudonym, or a person's BSN in one household (a
    # person seen in two households has a row under each household's key). The pseudonyms
    # are stored as their lookup digests.
    Column("pseudonym", String(64), primary_key=True),
    Column("subject", String(36), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("first_known_as", String(64), nullable=False, index=True),
    Column("sealed", LargeBinary, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # {"pseudonym", "first_known_as"} under the household's key; None only in format 1
    Column("names", LargeBinary),
    # One household, one row under its own pseudonym: two ingest processes meeting a new
    # home at once must not give it two keys (the loser's insert fails and it retries).
    Index(
        "vault_one_row_per_household",
        "pseudonym",
        unique=True,
        sqlite_where=text("kind = 'household'"),
        postgresql_where=text("kind = 'household'"),
    ),
)

# The format the vault's rows are in; without a row here, format 1.
vault_formats = Table(
    "vault_formats",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("format", Integer, nullable=False),
)


@dataclass(frozen=True)
class Names:
    """What a row is about, as the radar knows it: its pseudonym and who that first was."""

    pseudonym: str
    first_known_as: str


def new_row(
    digests: LookupDigests,
    key: bytes,
    names: Names,
    subject: str,
    kind: str,
    identifier: str,
) -> dict[str, Any]:
    """A row to insert: the identifier sealed bound to the plain pseudonym, the names sealed
    bound to the digest, the digests in the clear for lookups."""
    return {
        "pseudonym": digests.of(kind, names.pseudonym),
        "subject": subject,
        "kind": kind,
        "first_known_as": digests.of(kind, names.first_known_as),
        "sealed": seal(key, identifier.encode(), row_context(names.pseudonym, subject, kind)),
        "names": seal_names(digests, key, names, subject, kind),
        "created_at": datetime.now(UTC),
    }


def seal_names(digests: LookupDigests, key: bytes, names: Names, subject: str, kind: str) -> bytes:
    plain = json.dumps({"pseudonym": names.pseudonym, "first_known_as": names.first_known_as})
    context = _names_context(digests.of(kind, names.pseudonym), subject, kind)
    return seal(key, plain.encode(), context)


def open_names(key: bytes, row: Any) -> Names:
    """Who a stored row is about; UnreadableError if it was altered or moved."""
    opened = json.loads(
        unseal(key, row.names, _names_context(row.pseudonym, row.subject, row.kind))
    )
    return Names(opened["pseudonym"], opened["first_known_as"])


def open_identifier(key: bytes, row: Any, pseudonym: str) -> str:
    """The address or BSN of a row found by this (plain) pseudonym."""
    return unseal(key, row.sealed, row_context(pseudonym, row.subject, row.kind)).decode()


def row_context(pseudonym: str, subject: str, kind: str) -> bytes:
    return f"signal-radar/vault/identity|v1|{kind}|{subject}|{pseudonym}".encode()


def _names_context(pseudonym_digest: str, subject: str, kind: str) -> bytes:
    return f"signal-radar/vault/names|v1|{kind}|{subject}|{pseudonym_digest}".encode()


# --- format 1 -> 2 ----------------------------------------------------------------------------


def migrate(engine: Engine, keys: SubjectKeyStore, digests: LookupDigests) -> int:
    """Rewrites format-1 rows to digests and sealed names, once; returns how many rows. A row
    whose household key is gone opens for nobody any more, so it is deleted."""
    with engine.connect() as connection:
        if _stored_format(connection) == FORMAT:
            return 0
    try:
        with erasing(engine, [vault_identities]) as connection:
            if _stored_format(connection) == FORMAT:  # a twin did it meanwhile
                return 0
            done = _rewrite(connection, keys, digests)
            connection.execute(insert(vault_formats).values(name=VAULT, format=FORMAT))
    except IntegrityError:  # a twin recorded the format first: its transaction did the work
        return 0
    return done


def _stored_format(connection: Connection) -> int | None:
    return connection.execute(
        select(vault_formats.c.format).where(vault_formats.c.name == VAULT)
    ).scalar_one_or_none()


def _rewrite(connection: Connection, keys: SubjectKeyStore, digests: LookupDigests) -> int:
    table = vault_identities
    where = (table.c.pseudonym == bindparam("old_pseudonym")) & (
        table.c.subject == bindparam("old_subject")
    )
    rewrite = (
        update(table)
        .where(where)
        .values(
            pseudonym=bindparam("new_pseudonym"),
            first_known_as=bindparam("new_first"),
            names=bindparam("new_names"),
        )
    )
    done = 0
    while rows := connection.execute(
        select(table).where(table.c.names.is_(None)).limit(MIGRATION_BATCH)
    ).all():
        changes: list[dict[str, Any]] = []
        gone: list[dict[str, Any]] = []
        for row in rows:
            old = {"old_pseudonym": row.pseudonym, "old_subject": row.subject}
            key = keys.key(row.subject, connection)
            if key is None:
                gone.append(old)
                continue
            names = Names(row.pseudonym, row.first_known_as)
            changes.append(
                {
                    **old,
                    "new_pseudonym": digests.of(row.kind, row.pseudonym),
                    "new_first": digests.of(row.kind, row.first_known_as),
                    "new_names": seal_names(digests, key, names, row.subject, row.kind),
                }
            )
        if changes:
            connection.execute(rewrite, changes)
        if gone:
            connection.execute(delete(table).where(where), gone)
        done += len(rows)
    return done
