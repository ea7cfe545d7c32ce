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

No column holds a pseudonym as it is: rows are found by the pseudonyms' lookup digests and
what must be answered (a pseudonym as first known, a household's members) is sealed under the
household's key (privacy.storage.vault_rows, which also migrates rows written before).
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Engine, delete, func, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from contracts.pseudonyms import HOUSEHOLD_PREFIX, PERSON_PREFIX
from contracts.pseudonyms_v2 import domain_of
from privacy.addresses import HomeAddress
from privacy.key_encryption import KeyEncryptionKey, UnreadableError
from privacy.lookup_digests import LookupDigests
from privacy.pseudonyms import LocalIdentifier, Pseudonymiser
from privacy.storage.erasure import erasing
from privacy.storage.subject_keys import SubjectKeyStore
from privacy.storage.vault_deposit import AnyLink, Depositor
from privacy.storage.vault_rows import (
    HOUSEHOLD,
    PERSON,
    migrate,
    open_identifier,
    open_names,
    vault_identities,
    vault_subject_keys,
)

__all__ = [
    "HouseholdIdentity",
    "Identity",
    "IdentityVault",
    "vault_identities",
    "vault_subject_keys",
]

K = TypeVar("K")
V = TypeVar("V")
KNOWN_CACHE_SIZE = 100_000
DEPOSIT_ATTEMPTS = 10


@dataclass(frozen=True)
class Identity:
    """One signal's identifiers with the pseudonyms ingest made of them (current key)."""

    household: str
    address: HomeAddress | LocalIdentifier  # a placement for an hs. household (signal.v2)
    persons: tuple[tuple[str, str], ...]  # (person pseudonym, BSN or a pl.'s canonical reference)


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
    """Deposits identities and answers re-identification; the privacy gate decides who may ask.
    Made (or migrated) under the vault database's schema lock when processes share it."""

    def __init__(self, engine: Engine, kek: KeyEncryptionKey, digests: LookupDigests) -> None:
        self._engine = engine
        self.digests = digests
        self.keys = SubjectKeyStore(engine, kek, vault_subject_keys, "vault")
        self._deposit_lock = threading.Lock()
        migrate(engine, self.keys, digests)
        # Rows known to be stored, so a household or person seen before costs no round trip:
        # household pseudonym -> (subject, first-known pseudonym); (person, subject) -> first.
        self.households: _Recent[str, tuple[str, str]] = _Recent(KNOWN_CACHE_SIZE)
        self.persons: _Recent[tuple[str, str], str] = _Recent(KNOWN_CACHE_SIZE)

    def deposit(
        self, identities: Sequence[Identity], pseudonymiser: Pseudonymiser
    ) -> list[tuple[AnyLink, ...]]:
        """Stores what the vault does not hold yet, in one transaction; answers, per identity,
        the links of its pseudonyms to those the radar first knew (after a key rotation)."""
        if not identities:
            return []
        for attempt in range(DEPOSIT_ATTEMPTS):
            depositor = Depositor(self, pseudonymiser)
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
    ) -> list[tuple[AnyLink, ...]]:
        """What `deposit` would answer, without storing anything (to recognise a re-sent
        signal after a key rotation before deciding to take it)."""
        if not identities:
            return []
        depositor = Depositor(self, pseudonymiser, store=False)
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
                row = self._row(connection, HOUSEHOLD, [pseudonym])
                if row is not None:
                    return self._first_known(connection, row, pseudonym)
        return current

    def first_known_person(self, candidates: Sequence[str]) -> str | None:
        """The pseudonym the radar first knew a person by, given their pseudonyms under each
        key version (for an inzage, which starts from the BSN); None if the vault has none."""
        with self._engine.connect() as connection:
            row = self._row(connection, PERSON, candidates)
            if row is None:
                return None
            by_digest = {self.digests.person(c): c for c in candidates}
            return self._first_known(connection, row, by_digest[row.pseudonym])

    def household_identity(self, household: str) -> HouseholdIdentity | None:
        """The address and member BSNs of a household (by any of its pseudonyms). A shelter
        placement (hs.) has no address, and a person by reference (pl.) no BSN: neither is
        answered here (their references are held for re-keying and erasure only, so far)."""
        if domain_of(household) != HOUSEHOLD_PREFIX:
            return None
        with self._engine.connect() as connection:
            row = self._row(connection, HOUSEHOLD, [household])
            if row is None:
                return None
            key = self.data_key(connection, row.subject)
            members = connection.execute(
                select(vault_identities).where(
                    vault_identities.c.subject == row.subject, vault_identities.c.kind == PERSON
                )
            ).all()
        address = HomeAddress.from_canonical(open_identifier(key, row, household))
        persons = {}
        for member in members:
            names = open_names(key, member)
            if domain_of(names.pseudonym) != PERSON_PREFIX:
                continue
            persons[names.first_known_as] = open_identifier(key, member, names.pseudonym)
        return HouseholdIdentity(open_names(key, row).first_known_as, address, persons)

    def person_bsn(self, person: str) -> str | None:
        """A person's BSN (by any of their pseudonyms); None for a person by reference (pl.)."""
        if domain_of(person) != PERSON_PREFIX:
            return None
        with self._engine.connect() as connection:
            row = self._row(connection, PERSON, [person])
            if row is None:
                return None
            return open_identifier(self.data_key(connection, row.subject), row, person)

    def count_household(self, household: str) -> int:
        """How many rows `forget_household` would erase (a retention dry run)."""
        with self._engine.connect() as connection:
            return int(
                connection.execute(
                    select(func.count())
                    .select_from(vault_identities)
                    .where(vault_identities.c.subject.in_(self._subject_of(household)))
                ).scalar_one()
            )

    def forget_household(self, household: str) -> int:
        """Erases a household's identities (retention): its rows go and its data key is
        destroyed, so no copy of the rows elsewhere opens either. A person also seen in
        another household keeps that household's row. Returns how many rows went."""
        with erasing(self._engine, [vault_identities]) as connection:
            subject = connection.execute(self._subject_of(household)).scalar_one_or_none()
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

    def _row(self, connection: Connection, kind: str, pseudonyms: Sequence[str]) -> Any:
        """A stored row of this kind under one of the pseudonyms, or None."""
        return connection.execute(
            select(vault_identities)
            .where(
                vault_identities.c.kind == kind,
                vault_identities.c.pseudonym.in_([self.digests.of(kind, p) for p in pseudonyms]),
            )
            .limit(1)
        ).first()

    def _first_known(self, connection: Connection, row: Any, pseudonym: str) -> str:
        """Who the row's pseudonym first was: itself unless a key rotation lies between."""
        if row.first_known_as == row.pseudonym:
            return pseudonym
        return open_names(self.data_key(connection, row.subject), row).first_known_as

    def _subject_of(self, household: str) -> Any:
        return select(vault_identities.c.subject).where(
            vault_identities.c.pseudonym == self.digests.household(household),
            vault_identities.c.kind == HOUSEHOLD,
        )
