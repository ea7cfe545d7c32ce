"""One deposit into the identity vault: settles every pseudonym of a batch (known, linked to
an earlier key version's pseudonym, or new) with a few set-wise statements, not a round trip
per person. Rows are looked up by their pseudonyms' digests (privacy.storage.vault_rows)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import bindparam, insert, select
from sqlalchemy.engine import Connection

from contracts.pseudonyms import HOUSEHOLD_PREFIX, PERSON_PREFIX, PseudonymLink
from contracts.pseudonyms_v2 import PseudonymLinkV2, domain_of
from privacy.addresses import HomeAddress
from privacy.key_encryption import UnreadableError
from privacy.pseudonyms import LocalIdentifier, Pseudonymiser
from privacy.storage.vault_rows import (
    HOUSEHOLD,
    PERSON,
    Names,
    new_row,
    open_names,
    vault_identities,
)

if TYPE_CHECKING:
    from privacy.storage.vault import Identity, IdentityVault

V = TypeVar("V")
AnyLink = PseudonymLink | PseudonymLinkV2
"""A v1 link for v1 pseudonyms (hh., p.), a v2 link for signal.v2's (hs., pl.)."""
_ROWS_OF = select(vault_identities).where(
    vault_identities.c.kind == bindparam("kind"),
    vault_identities.c.pseudonym.in_(bindparam("digests", expanding=True)),
)
"""Built once: building `IN (...)` anew for every deposit cost SQLAlchemy more than the query."""


class Depositor:
    """One deposit transaction for a batch of identities; remembers what it settled for the
    vault's memory."""

    def __init__(
        self, vault: IdentityVault, pseudonymiser: Pseudonymiser, store: bool = True
    ) -> None:
        self.vault = vault
        self.digests = vault.digests
        self.pseudonymiser = pseudonymiser
        self.store = store
        self.households: dict[str, tuple[str, str]] = {}  # pseudonym -> (subject, first)
        self.persons: dict[tuple[str, str], str] = {}  # (pseudonym, subject) -> first
        self._keys: dict[str, bytes] = {}
        self._rows: list[dict[str, object]] = []
        self._connection: Connection | None = None

    def deposit(
        self, connection: Connection, identities: Sequence[Identity]
    ) -> list[tuple[AnyLink, ...]]:
        self._connection = connection
        self._settle_households(connection, identities)
        self._settle_persons(connection, identities)
        if self.store and self._rows:
            connection.execute(insert(vault_identities), self._rows)
        return [self._links(identity) for identity in identities]

    def _links(self, identity: Identity) -> tuple[AnyLink, ...]:
        subject, first = self.households[identity.household]
        links: list[AnyLink] = (
            [] if first == identity.household else [_link(HOUSEHOLD, identity.household, first)]
        )
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
        self.households.update(self._households_found(unsettled))
        earlier = self._earlier_households(
            {p: addresses[p] for p in addresses if p not in self.households}
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

    def _earlier_households(self, unknown: dict[str, HomeAddress | LocalIdentifier]) -> set[str]:
        """Settles new pseudonyms of households the vault knows under an earlier key
        version; returns those it settled so."""
        candidates = {
            self.pseudonymiser.rekeyed(pseudonym, address.canonical(), version): (pseudonym, rank)
            for pseudonym, address in unknown.items()
            for rank, version in enumerate(self.pseudonymiser.earlier_versions())
        }
        settled = _newest_version_found(candidates, self._households_found(list(candidates)))
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
        rows = self._found(PERSON, list({person for person, _ in needed}))
        first = {person: known for person, (_subjects, known) in rows.items()}
        first.update(self._earlier_persons(needed, set(first)))
        for (person, subject), bsn in needed.items():
            settled = first.get(person, person)
            self.persons[(person, subject)] = settled
            stored_under = rows.get(person, (set(), ""))[0]
            if self.store and subject not in stored_under:
                self._add(person, subject, PERSON, settled, bsn)

    def _earlier_persons(
        self, needed: dict[tuple[str, str], str], known: set[str]
    ) -> dict[str, str]:
        """First-known pseudonyms of persons new under this key but known under an earlier."""
        candidates = {
            self.pseudonymiser.rekeyed(person, bsn, version): (person, rank)
            for (person, _subject), bsn in needed.items()
            if person not in known
            for rank, version in enumerate(self.pseudonymiser.earlier_versions())
        }
        if not candidates:
            return {}
        rows = self._found(PERSON, list(candidates))
        found = {earlier: first for earlier, (_subjects, first) in rows.items()}
        return _newest_version_found(candidates, found)

    # --- finding and storing ----------------------------------------------------------------

    def _found(self, kind: str, pseudonyms: list[str]) -> dict[str, tuple[set[str], str]]:
        """Per stored pseudonym of this kind: the households (subjects) holding it, and who it
        first was."""
        if not pseudonyms:
            return {}
        assert self._connection is not None
        by_digest = {self.digests.of(kind, p): p for p in pseudonyms}
        found: dict[str, tuple[set[str], str]] = {}
        for row in self._connection.execute(_ROWS_OF, {"kind": kind, "digests": list(by_digest)}):
            pseudonym = by_digest[row.pseudonym]
            if pseudonym not in found:
                found[pseudonym] = (set(), self._first_known(row, pseudonym))
            found[pseudonym][0].add(row.subject)
        return found

    def _households_found(self, pseudonyms: list[str]) -> dict[str, tuple[str, str]]:
        """(subject, first-known) of stored households, by pseudonym (one row each)."""
        found = self._found(HOUSEHOLD, pseudonyms)
        return {p: (min(subjects), first) for p, (subjects, first) in found.items()}

    def _first_known(self, row: Any, pseudonym: str) -> str:
        """Who a found row's pseudonym first was: itself when the digests agree (no key
        rotation in between), else what the row's sealed names say."""
        if row.first_known_as == row.pseudonym:
            return pseudonym
        return open_names(self._key(row.subject), row).first_known_as

    def _key(self, subject: str) -> bytes:
        key = self._keys.get(subject)
        if key is None:
            key = self.vault.keys.key(subject, self._connection)
            if key is None:
                raise UnreadableError("this household's key was destroyed")
            self._keys[subject] = key
        return key

    def _add(self, pseudonym: str, subject: str, kind: str, first: str, plaintext: str) -> None:
        """Queues an identifier for storing, encrypted under its household's data key and
        bound to its row."""
        names = Names(pseudonym, first)
        self._rows.append(
            new_row(self.digests, self._key(subject), names, subject, kind, plaintext)
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


def _link(kind: str, pseudonym: str, first: str) -> AnyLink:
    link = {"kind": kind, "pseudonym": pseudonym, "known_as": first}
    if domain_of(pseudonym) in (HOUSEHOLD_PREFIX, PERSON_PREFIX):
        return PseudonymLink.model_validate(link)
    return PseudonymLinkV2.model_validate(link)
