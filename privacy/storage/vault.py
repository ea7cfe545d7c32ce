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

import random
import threading
import time
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
    Index,
    LargeBinary,
    MetaData,
    RowMapping,
    String,
    Table,
    delete,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from contracts.pseudonyms import PseudonymLink
from privacy.addresses import HomeAddress
from privacy.key_encryption import KeyEncryptionKey, UnreadableError, seal, unseal
from privacy.pseudonyms import Pseudonymiser
from privacy.storage.erasure import erasing
from privacy.storage.subject_keys import SubjectKeyStore, subject_keys_table

K = TypeVar("K")
V = TypeVar("V")
HOUSEHOLD = "household"
PERSON = "person"
KNOWN_CACHE_SIZE = 100_000
DEPOSIT_ATTEMPTS = 10

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
        self._deposit_lock = threading.Lock()
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
        if not identities:
            return []
        for attempt in range(DEPOSIT_ATTEMPTS):
            depositor = _Depositor(self, pseudonymiser)
            try:
                # One deposit at a time per process: its threads would only collide on the
                # same new homes; other processes' collisions are retried.
                with self._deposit_lock, self._engine.begin() as connection:
                    links = depositor.deposit(connection, identities)
            except IntegrityError:  # another process stored one of them just now
                if attempt + 1 == DEPOSIT_ATTEMPTS:
                    raise
                time.sleep(random.uniform(0, 0.01 * (attempt + 1)))
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
        if not identities:
            return []
        depositor = _Depositor(self, pseudonymiser, store=False)
        with self._engine.connect() as connection:
            return depositor.deposit(connection, identities)

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

    def count_household(self, household: str) -> int:
        """How many rows `forget_household` would erase (a retention dry run)."""
        with self._engine.connect() as connection:
            subject = select(vault_identities.c.subject).where(
                vault_identities.c.pseudonym == household,
                vault_identities.c.kind == HOUSEHOLD,
            )
            return int(
                connection.execute(
                    select(func.count())
                    .select_from(vault_identities)
                    .where(vault_identities.c.subject.in_(subject))
                ).scalar_one()
            )

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
    """One deposit transaction for a batch of identities: settles every pseudonym (known,
    linked to an earlier key version's pseudonym, or new) with a few set-wise statements, not
    a round trip per person, and remembers what it settled for the vault's memory."""

    def __init__(
        self, vault: IdentityVault, pseudonymiser: Pseudonymiser, store: bool = True
    ) -> None:
        self.vault = vault
        self.pseudonymiser = pseudonymiser
        self.store = store
        self.households: dict[str, tuple[str, str]] = {}  # pseudonym -> (subject, first)
        self.persons: dict[tuple[str, str], str] = {}  # (pseudonym, subject) -> first
        self._keys: dict[str, bytes] = {}
        self._rows: list[dict[str, object]] = []
        self._connection: Connection | None = None

    def deposit(
        self, connection: Connection, identities: Sequence[Identity]
    ) -> list[tuple[PseudonymLink, ...]]:
        self._connection = connection
        self._settle_households(connection, identities)
        self._settle_persons(connection, identities)
        if self.store and self._rows:
            connection.execute(insert(vault_identities), self._rows)
        return [self._links(identity) for identity in identities]

    def _links(self, identity: Identity) -> tuple[PseudonymLink, ...]:
        subject, first = self.households[identity.household]
        links = [] if first == identity.household else [_link(HOUSEHOLD, identity.household, first)]
        for person, _bsn in identity.persons:
            person_first = self.persons[(person, subject)]
            if person_first != person:
                links.append(_link(PERSON, person, person_first))
        return tuple(dict.fromkeys(links))

    # --- households -------------------------------------------------------------------------

    def _settle_households(self, connection: Connection, identities: Sequence[Identity]) -> None:
        addresses = {i.household: i.address for i in identities}
        for pseudonym in addresses:
            remembered = self.vault.households.get(pseudonym)
            # A remembered household whose key is gone was erased (retention): look again.
            if remembered is not None and self.vault.keys.key(remembered[0]) is not None:
                self.households[pseudonym] = remembered
        unsettled = [p for p in addresses if p not in self.households]
        self.households.update(self._stored(connection, HOUSEHOLD, unsettled))
        earlier = self._earlier_households(
            connection, {p: addresses[p] for p in addresses if p not in self.households}
        )
        new = [p for p in addresses if p not in self.households]
        if not self.store:
            self.households.update((p, ("", p)) for p in new)
            return
        subjects = {p: str(uuid.uuid4()) for p in new}  # fresh ids: certainly without a key
        self._keys.update(self.vault.keys.create(subjects.values(), connection))
        self.households.update((p, (subject, p)) for p, subject in subjects.items())
        for pseudonym in [*new, *earlier]:
            subject, first = self.households[pseudonym]
            self._add(pseudonym, subject, HOUSEHOLD, first, addresses[pseudonym].canonical())

    def _earlier_households(
        self, connection: Connection, unknown: dict[str, HomeAddress]
    ) -> set[str]:
        """Settles new pseudonyms of households the vault knows under an earlier key
        version; returns those it settled so."""
        candidates = {
            self.pseudonymiser.household(address, version): (pseudonym, rank)
            for pseudonym, address in unknown.items()
            for rank, version in enumerate(self.pseudonymiser.earlier_versions())
        }
        found = self._stored(connection, HOUSEHOLD, list(candidates))
        settled = _newest_version_found(candidates, found)
        self.households.update(settled)
        return set(settled)

    # --- persons ----------------------------------------------------------------------------

    def _settle_persons(self, connection: Connection, identities: Sequence[Identity]) -> None:
        needed: dict[tuple[str, str], str] = {}
        for identity in identities:
            subject = self.households[identity.household][0]
            for person, bsn in identity.persons:
                remembered = self.vault.persons.get((person, subject))
                if remembered is not None:
                    self.persons[(person, subject)] = remembered
                elif (person, subject) not in self.persons:
                    needed[(person, subject)] = bsn
        if not needed:
            return
        rows = self._person_rows(connection, {person for person, _ in needed})
        first = {person: known for person, (_subjects, known) in rows.items()}
        first.update(self._earlier_persons(connection, needed, set(first)))
        for (person, subject), bsn in needed.items():
            settled = first.get(person, person)
            self.persons[(person, subject)] = settled
            stored_under = rows.get(person, (set(), ""))[0]
            if self.store and subject not in stored_under:
                self._add(person, subject, PERSON, settled, bsn)

    def _person_rows(
        self, connection: Connection, persons: set[str]
    ) -> dict[str, tuple[set[str], str]]:
        """Per stored person pseudonym: the households (subjects) holding it, and who it first
        was."""
        found: dict[str, tuple[set[str], str]] = {}
        for row in connection.execute(
            select(
                vault_identities.c.pseudonym,
                vault_identities.c.subject,
                vault_identities.c.first_known_as,
            ).where(vault_identities.c.kind == PERSON, vault_identities.c.pseudonym.in_(persons))
        ):
            found.setdefault(row.pseudonym, (set(), row.first_known_as))[0].add(row.subject)
        return found

    def _earlier_persons(
        self, connection: Connection, needed: dict[tuple[str, str], str], known: set[str]
    ) -> dict[str, str]:
        """First-known pseudonyms of persons new under this key but known under an earlier."""
        candidates = {
            self.pseudonymiser.person(bsn, version): (person, rank)
            for (person, _subject), bsn in needed.items()
            if person not in known
            for rank, version in enumerate(self.pseudonymiser.earlier_versions())
        }
        if not candidates:
            return {}
        rows = self._person_rows(connection, set(candidates))
        found = {earlier: first for earlier, (_subjects, first) in rows.items()}
        return _newest_version_found(candidates, found)

    # --- storing ------------------------------------------------------------------------------

    def _stored(
        self, connection: Connection, kind: str, pseudonyms: list[str]
    ) -> dict[str, tuple[str, str]]:
        """(subject, first-known) of stored rows of this kind, by pseudonym."""
        if not pseudonyms:
            return {}
        rows = connection.execute(
            select(
                vault_identities.c.pseudonym,
                vault_identities.c.subject,
                vault_identities.c.first_known_as,
            ).where(vault_identities.c.kind == kind, vault_identities.c.pseudonym.in_(pseudonyms))
        )
        return {row.pseudonym: (row.subject, row.first_known_as) for row in rows}

    def _add(self, pseudonym: str, subject: str, kind: str, first: str, plaintext: str) -> None:
        """Queues an identifier for storing, encrypted under its household's data key and
        bound to its row."""
        key = self._keys.get(subject)
        if key is None:
            key = self.vault.keys.key(subject, self._connection)
            if key is None:
                raise UnreadableError("this household's key was destroyed")
            self._keys[subject] = key
        self._rows.append(
            {
                "pseudonym": pseudonym,
                "subject": subject,
                "kind": kind,
                "first_known_as": first,
                "sealed": seal(key, plaintext.encode(), _row_context(pseudonym, subject, kind)),
                "created_at": datetime.now(UTC),
            }
        )


def _newest_version_found(
    candidates: dict[str, tuple[str, int]], found: dict[str, V]
) -> dict[str, V]:
    """For each new pseudonym, what was found under the newest earlier key version that has
    it. `candidates` maps an earlier pseudonym to (new pseudonym, rank: 0 = newest version)."""
    best: dict[str, tuple[int, V]] = {}
    for earlier, value in found.items():
        pseudonym, rank = candidates[earlier]
        if pseudonym not in best or rank < best[pseudonym][0]:
            best[pseudonym] = (rank, value)
    return {pseudonym: value for pseudonym, (_rank, value) in best.items()}


def _link(kind: str, pseudonym: str, first: str) -> PseudonymLink:
    return PseudonymLink.model_validate({"kind": kind, "pseudonym": pseudonym, "known_as": first})


def _open(key: bytes, row: RowMapping) -> str:
    context = _row_context(row["pseudonym"], row["subject"], row["kind"])
    return unseal(key, row["sealed"], context).decode()


def _key_context(subject: str) -> bytes:
    return f"signal-radar/vault/data-key|v1|{subject}".encode()


def _row_context(pseudonym: str, subject: str, kind: str) -> bytes:
    return f"signal-radar/vault/identity|v1|{kind}|{subject}|{pseudonym}".encode()
