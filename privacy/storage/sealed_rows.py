"""Sealing a stored row's readable parts under its household's own data key, so that erasing
the household (destroying the key) makes every copy of them unreadable: in the table, in the
write-ahead log, in a replica and in a base backup taken before.

A row is found by its lookup digests (privacy.lookup_digests); what it must show again (a
household's or person's pseudonym, a signal's id, the persons a signal names) is sealed here
as JSON under the key of the household the row is about, bound to the table and the row, so
ciphertext copied to another row does not open. The keys are found by the household's digest,
never by its pseudonym.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, MetaData
from sqlalchemy.engine import Connection

from privacy.key_encryption import KeyEncryptionKey, UnreadableError, seal, unseal
from privacy.lookup_digests import LookupDigests
from privacy.storage.subject_keys import SubjectKeyStore, subject_keys_table

key_metadata = MetaData()
row_subject_keys = subject_keys_table(key_metadata, "read_model_subject_keys")


class RowSealer:
    """Digests for lookups and household-keyed sealing for the rest, for one database's
    read models and receipts."""

    def __init__(self, engine: Engine, kek: KeyEncryptionKey, digests: LookupDigests) -> None:
        self.digests = digests
        self._keys = SubjectKeyStore(engine, kek, row_subject_keys, "read-model")

    def seal(
        self, household: str, where: str, value: Any, connection: Connection | None = None
    ) -> bytes:
        """`value` as JSON under the household's key (made on first use, within the given
        transaction if any); `where` names the row (table and its digests)."""
        key = self._keys.key_or_new(self.digests.household(household), connection)
        plain = json.dumps(value, separators=(",", ":"), sort_keys=True).encode()
        return seal(key, plain, _context(where))

    def open(self, household_digest: str, where: str, sealed: bytes) -> Any | None:
        """What `seal` sealed, or None when the household's key is gone (erased)."""
        key = self._keys.key(household_digest)
        if key is None:
            return None
        try:
            return json.loads(unseal(key, bytes(sealed), _context(where)))
        except UnreadableError:
            return None

    def prefetch(self, household_digests: Iterable[str]) -> None:
        """Fetches the keys of many households in one query (a list about to be opened)."""
        self._keys.prefetch(household_digests)

    def make_keys(self, household_digests: Iterable[str], connection: Connection) -> None:
        """The keys of the prefetched households that have none yet, made together in the
        given transaction (the rows about to be sealed under them are in it too)."""
        self._keys.create_absent(household_digests, connection)

    @contextmanager
    def keys_stored_last(
        self, household_digests: Iterable[str], connection: Connection
    ) -> Iterator[None]:
        """As `make_keys`, but the keys are stored when the block ends without an error,
        after the rows sealed under them: on SQLite the transaction then takes the write
        lock only when its rows are written, not while it seals them."""
        minted = self._keys.mint_absent(household_digests, connection)
        yield
        self._keys.store_minted(minted, connection)

    def forget_households(self, households: Sequence[str]) -> int:
        """Destroys the households' row keys (retention): what was sealed under them, in any
        copy of the database, never opens again. Returns how many keys existed."""
        return self._keys.destroy(self.digests.household(h) for h in households)

    def count_households(self, households: Sequence[str]) -> int:
        """How many of the households have a row key (what a retention dry run counts)."""
        digests = [self.digests.household(h) for h in households]
        return len(digests) - len(self._keys.missing(digests))

    @property
    def keys(self) -> SubjectKeyStore:
        """The row keys (re-wrapped, counted per KEK version, at a KEK rotation)."""
        return self._keys


def _context(where: str) -> bytes:
    return f"signal-radar/sealed-row|v1|{where}".encode()
