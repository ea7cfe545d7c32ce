"""The identity vault: the only place identifiers are kept, encrypted, for lawful re-identification.

Ingest deposits each signal's address and BSNs here before it publishes the pseudonymised
signal. Every household gets its own random data key (wrapped by the key-encryption key, see
privacy.key_encryption); its address and the BSNs of the persons seen in it are encrypted under
that key, bound to the row they belong to. The vault lives in its own database, apart from the
event store and the read models, and nothing but the vault module ever sees its plaintext.

The vault is also where a key rotation keeps one person one person: a pseudonym made with a new
key version that the vault does not know yet is looked up under the earlier key versions (the
vault holds the identifier, so it can compute them); when found, the new pseudonym joins the same
household key and the deposit answers with a `PseudonymLink` to the pseudonym the radar first
knew. No identifier leaves the vault for that.
"""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Generic, TypeVar

from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    LargeBinary,
    MetaData,
    RowMapping,
    String,
    Table,
    delete,
    insert,
    select,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from contracts.pseudonyms import PseudonymLink
from privacy.addresses import HomeAddress
from privacy.erasure import erasing
from privacy.key_encryption import KeyEncryptionKey, UnreadableError, seal, unseal
from privacy.pseudonyms import Pseudonymiser
from privacy.subject_keys import SubjectKeyStore, subject_keys_table

K = TypeVar("K")
V = TypeVar("V")
HOUSEHOLD = "household"
PERSON = "person"
KNOWN_CACHE_SIZE = 100_000
DEPOSIT_ATTEMPTS = 3

metadata = MetaData()

vault_subject_keys = subject_keys_table(metadata, "vault_subject_keys")  # one per household

vault_identities = Table(
    "vault_identities",
    metadata,
    # A household's address under its own pseudonym, or a person's BSN in one household (a
    # person seen in two households has a row under each household's key).
    Column("pseudonym", String(64), primary_key=True),
    Column("subject", String(36), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("first_known_as", String(64), nullable=False, index=True),
    Column("sealed", LargeBinary, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)


@dataclass(frozen=True)
class Identity:
    """One signal's identifiers with the pseudonyms ingest made of them (current key)."""

    household: str
    address: HomeAddress
    persons: tuple[tuple[str, str], ...]  # (person pseudonym, BSN)


@dataclass(frozen=True)
class HouseholdIdentity:
    """Who a household is: its address and the BSNs of the persons seen in it."""

    household: str
    address: HomeAddress
    persons: dict[str, str]  # person pseudonym (as first known) -> BSN


class _Recent(Generic[K, V]):
    """A bounded, thread-safe memory of recently settled vault rows."""

    def __init__(self, size: int) -> None:
        self._items: OrderedDict[K, V] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        with self._lock:
            return self._items.get(key)

    def update(self, items: dict[K, V]) -> None:
        with self._lock:
            self._items.update(items)
            while len(self._items) > self._size:
                self._items.popitem(last=False)


class IdentityVault:
    """Deposits identities and answers re-identification; the privacy gate decides who may ask."""

    def __init__(self, engine: Engine, kek: KeyEncryptionKey) -> None:
        self._engine = engine
        self.keys = SubjectKeyStore(engine, kek, vault_subject_keys, "vault")
        metadata.create_all(engine)
        # Rows known to be stored, so a household or person seen before costs no round trip:
        # household pseudonym -> (subject, first-known pseudonym); (person, subject) -> first.
        self.households: _Recent[str, tuple[str, str]] = _Recent(KNOWN_CACHE_SIZE)
        self.persons: _Recent[tuple[str, str], str] = _Recent(KNOWN_CACHE_SIZE)

    def deposit(
        self, identities: Sequence[Identity], pseudonymiser: Pseudonymiser
    ) -> list[tuple[PseudonymLink, ...]]:
        """Stores what the vault does not hold yet, in one transaction; answers, per identity,
        the links of its pseudonyms to those the radar first knew (after a key rotation)."""
        for attempt in range(DEPOSIT_ATTEMPTS):
            depositor = _Depositor(self, pseudonymiser)
            try:
                with self._engine.begin() as connection:
                    links = [depositor.deposit(connection, identity) for identity in identities]
            except IntegrityError:  # another ingest process stored one of them just now
                if attempt + 1 == DEPOSIT_ATTEMPTS:
                    raise
                continue
            self.households.update(depositor.households)
            self.persons.update(depositor.persons)
            return links
        raise AssertionError("unreachable")

    def links(
        self, identities: Sequence[Identity], pseudonymiser: Pseudonymiser
    ) -> list[tuple[PseudonymLink, ...]]:
        """What `deposit` would answer, without storing anything (to recognise a re-sent
        signal after a key rotation before deciding to take it)."""
        depositor = _Depositor(self, pseudonymiser, store=False)
        with self._engine.connect() as connection:
            return [depositor.deposit(connection, identity) for identity in identities]

    def household_pseudonym(self, address: HomeAddress, pseudonymiser: Pseudonymiser) -> str:
        """The pseudonym the radar knows an address by: as first known (under whichever key
        version), else the current key's. For opening a timeline by address."""
        current = pseudonymiser.household(address)
        candidates = [current] + [
            pseudonymiser.household(address, v) for v in pseudonymiser.earlier_versions()
        ]
        with self._engine.connect() as connection:
            for pseudonym in candidates:
                first = connection.execute(
                    select(vault_identities.c.first_known_as).where(
                        vault_identities.c.pseudonym == pseudonym,
                        vault_identities.c.kind == HOUSEHOLD,
                    )
                ).scalar_one_or_none()
                if first is not None:
                    return str(first)
        return current

    def first_known_person(self, candidates: Sequence[str]) -> str | None:
        """The pseudonym the radar first knew a person by, given their pseudonyms under each
        key version (for an inzage, which starts from the BSN); None if the vault has none."""
        with self._engine.connect() as connection:
            return connection.execute(
                select(vault_identities.c.first_known_as)
                .where(
                    vault_identities.c.pseudonym.in_(candidates),
                    vault_identities.c.kind == PERSON,
                )
                .limit(1)
            ).scalar_one_or_none()

    def household_identity(self, household: str) -> HouseholdIdentity | None:
        """The address and member BSNs of a household (by any of its pseudonyms)."""
        with self._engine.connect() as connection:
            row = connection.execute(
                select(vault_identities).where(
                    vault_identities.c.pseudonym == household, vault_identities.c.kind == HOUSEHOLD
                )
            ).first()
            if row is None:
                return None
            key = self.data_key(connection, row.subject)
            members = connection.execute(
                select(vault_identities).where(
                    vault_identities.c.subject == row.subject, vault_identities.c.kind == PERSON
                )
            ).all()
        address = HomeAddress.from_canonical(_open(key, row._mapping))
        persons = {m.first_known_as: _open(key, m._mapping) for m in members}
        return HouseholdIdentity(row.first_known_as, address, persons)

    def person_bsn(self, person: str) -> str | None:
        """A person's BSN (by any of their pseudonyms)."""
        with self._engine.connect() as connection:
            row = connection.execute(
                select(vault_identities)
                .where(vault_identities.c.pseudonym == person, vault_identities.c.kind == PERSON)
                .limit(1)
            ).first()
            if row is None:
                return None
            return _open(self.data_key(connection, row.subject), row._mapping)

    def forget_household(self, household: str) -> int:
        """Erases a household's identities (retention): its rows go and its data key is
        destroyed, so no copy of the rows elsewhere opens either. A person also seen in
        another household keeps that household's row. Returns how many rows went."""
        with erasing(self._engine, [vault_identities]) as connection:
            subject = connection.execute(
                select(vault_identities.c.subject).where(
                    vault_identities.c.pseudonym == household,
                    vault_identities.c.kind == HOUSEHOLD,
                )
            ).scalar_one_or_none()
            if subject is None:
                return 0
            purged = connection.execute(
                delete(vault_identities).where(vault_identities.c.subject == subject)
            ).rowcount
        self.keys.destroy([subject])
        self.households = _Recent(KNOWN_CACHE_SIZE)
        self.persons = _Recent(KNOWN_CACHE_SIZE)
        return int(purged)

    def data_key(self, connection: Connection, subject: str) -> bytes:
        """A household's data key, unwrapped by the key-encryption key."""
        key = self.keys.key(subject, connection)
        if key is None:
            raise UnreadableError("this household's key was destroyed")
        return key

    def new_subject(self, connection: Connection) -> tuple[str, bytes]:
        """A new household subject with a fresh data key, stored wrapped."""
        subject = str(uuid.uuid4())
        return subject, self.keys.key_or_new(subject, connection)


class _Depositor:
    """One deposit transaction: settles each pseudonym (known, linked to an earlier key
    version's pseudonym, or new) and remembers what it settled for the vault's memory."""

    def __init__(
        self, vault: IdentityVault, pseudonymiser: Pseudonymiser, store: bool = True
    ) -> None:
        self.vault = vault
        self.pseudonymiser = pseudonymiser
        self.store = store
        self.households: dict[str, tuple[str, str]] = {}
        self.persons: dict[tuple[str, str], str] = {}
        self._keys: dict[str, bytes] = {}

    def deposit(self, connection: Connection, identity: Identity) -> tuple[PseudonymLink, ...]:
        household = identity.household
        subject, first = self._household(connection, identity)
        links = [] if first == household else [_link(HOUSEHOLD, household, first)]
        for person, bsn in identity.persons:
            person_first = self._person(connection, person, bsn, subject)
            if person_first != person:
                links.append(_link(PERSON, person, person_first))
        return tuple(dict.fromkeys(links))

    def _household(self, connection: Connection, identity: Identity) -> tuple[str, str]:
        """The household's subject and first-known pseudonym; stored when new."""
        found = self._settled_household(connection, identity.household)
        if found is not None:
            return found
        for version in self.pseudonymiser.earlier_versions():
            earlier = self._settled_household(
                connection, self.pseudonymiser.household(identity.address, version)
            )
            if earlier is not None:
                subject, first = earlier
                break
        else:
            if not self.store:
                return "", identity.household
            subject, key = self.vault.new_subject(connection)
            self._keys[subject] = key
            first = identity.household
        if self.store:
            row = (identity.household, subject, HOUSEHOLD, first)
            self._store(connection, row, identity.address.canonical())
        self.households[identity.household] = (subject, first)
        return subject, first

    def _settled_household(self, connection: Connection, pseudonym: str) -> tuple[str, str] | None:
        found = self.households.get(pseudonym)
        remembered = self.vault.households.get(pseudonym)
        # A remembered household whose key is gone was erased (retention): ask the database.
        if found is None and remembered is not None and self.vault.keys.key(remembered[0]):
            found = remembered
        if found is not None:
            return found
        row = connection.execute(
            select(vault_identities.c.subject, vault_identities.c.first_known_as).where(
                vault_identities.c.pseudonym == pseudonym, vault_identities.c.kind == HOUSEHOLD
            )
        ).first()
        if row is None:
            return None
        self.households[pseudonym] = (row.subject, row.first_known_as)
        return row.subject, row.first_known_as

    def _person(self, connection: Connection, person: str, bsn: str, subject: str) -> str:
        """The person's first-known pseudonym; their BSN is stored under this household."""
        settled = self.persons.get((person, subject)) or self.vault.persons.get((person, subject))
        if settled is not None:
            return settled
        rows = connection.execute(
            select(vault_identities.c.subject, vault_identities.c.first_known_as).where(
                vault_identities.c.pseudonym == person, vault_identities.c.kind == PERSON
            )
        ).all()
        first = rows[0].first_known_as if rows else self._earlier_person(connection, bsn)
        first = first or person
        if self.store and all(row.subject != subject for row in rows):
            self._store(connection, (person, subject, PERSON, first), bsn)
        self.persons[(person, subject)] = first
        return first

    def _earlier_person(self, connection: Connection, bsn: str) -> str | None:
        """The first-known pseudonym of this BSN under an earlier key version, if any."""
        for version in self.pseudonymiser.earlier_versions():
            first = connection.execute(
                select(vault_identities.c.first_known_as)
                .where(
                    vault_identities.c.pseudonym == self.pseudonymiser.person(bsn, version),
                    vault_identities.c.kind == PERSON,
                )
                .limit(1)
            ).scalar_one_or_none()
            if first is not None:
                return str(first)
        return None

    def _store(
        self,
        connection: Connection,
        row: tuple[str, str, str, str],
        plaintext: str,
    ) -> None:
        """Stores an identifier encrypted under its household's data key, bound to its row
        (pseudonym, subject, kind, first-known pseudonym)."""
        pseudonym, subject, kind, first = row
        key = self._keys.get(subject) or self.vault.data_key(connection, subject)
        self._keys[subject] = key
        connection.execute(
            insert(vault_identities).values(
                pseudonym=pseudonym,
                subject=subject,
                kind=kind,
                first_known_as=first,
                sealed=seal(key, plaintext.encode(), _row_context(pseudonym, subject, kind)),
                created_at=datetime.now(UTC),
            )
        )


def _link(kind: str, pseudonym: str, first: str) -> PseudonymLink:
    return PseudonymLink.model_validate({"kind": kind, "pseudonym": pseudonym, "known_as": first})


def _open(key: bytes, row: RowMapping) -> str:
    context = _row_context(row["pseudonym"], row["subject"], row["kind"])
    return unseal(key, row["sealed"], context).decode()


def _key_context(subject: str) -> bytes:
    return f"signal-radar/vault/data-key|v1|{subject}".encode()


def _row_context(pseudonym: str, subject: str, kind: str) -> bytes:
    return f"signal-radar/vault/identity|v1|{kind}|{subject}|{pseudonym}".encode()
