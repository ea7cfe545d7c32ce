"""Per-subject data keys, stored wrapped by the key-encryption key: the unit of crypto-shredding.

A subject is whatever must be forgettable on its own: a household's aggregates in the event
store, a household's identities in the vault. Its data is encrypted under its own random
AES-256-GCM key; the key is stored only wrapped (privacy.key_encryption). Destroying the
subject's key row makes its data unreadable for good while the ciphertext, and every hash over
it, stays where it is. A later key for the same subject is a new random key: it opens nothing
written before the destruction.

Unwrapped keys are kept in memory for a short while only (KEY_CACHE_SECONDS), so a process that
was running when keys were destroyed stops opening the subject's data soon after. Each key's
cipher object (privacy.key_encryption.CIPHERS) is dropped whenever the key is: destroyed,
found gone, expired, rolled back or pushed out.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    LargeBinary,
    MetaData,
    String,
    Table,
    bindparam,
    delete,
    event,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from privacy.key_encryption import KeyEncryptionKey, WrappedKey, forget_ciphers, new_data_key
from privacy.storage.erasure import erasing

KEY_CACHE_SECONDS = 10.0
KEY_CACHE_SIZE = 50_000

KeyRow = dict[str, Any]  # a key's row: subject, KEK version, wrapped key, when made


def subject_keys_table(metadata: MetaData, name: str) -> Table:
    """The table of one store's wrapped subject keys."""
    return Table(
        name,
        metadata,
        Column("subject", String(36), primary_key=True),
        Column("kek_id", String(32), nullable=False),
        Column("wrapped_key", LargeBinary, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
    )


class _ChangedMeanwhileError(Exception):
    """Rolls a key destruction back: these subjects' data changed meanwhile."""

    def __init__(self, subjects: set[str]) -> None:
        super().__init__(f"{len(subjects)} subjects changed meanwhile")
        self.subjects = subjects


class SubjectKeyStore:
    """Creates, finds, re-wraps and destroys the data keys of one store's subjects."""

    def __init__(self, engine: Engine, kek: KeyEncryptionKey, table: Table, purpose: str) -> None:
        self._engine = engine
        self._kek = kek
        self._table = table
        self._purpose = purpose  # bound into every wrap, so a key moved between stores fails
        self._cache: dict[str, tuple[float, bytes, bytes]] = {}  # expiry, key, its wrap
        self._absent: set[str] = set()  # found without a key by `missing` (a hint only)
        self._lock = threading.Lock()
        # Built once: building `IN (...)` anew per batch cost SQLAlchemy more than the query.
        self._of_subjects = select(table).where(
            table.c.subject.in_(bindparam("subjects", expanding=True))
        )

    @property
    def table_name(self) -> str:
        return self._table.name

    def key(self, subject: str, connection: Connection | None = None) -> bytes | None:
        """The subject's data key, or None when it has none (never had, or destroyed). Pass
        the connection of a transaction in progress to read within it."""
        cached = self._cached(subject)
        if cached is not None:
            return cached
        with self._using(connection, write=False) as reading:
            row = reading.execute(
                select(self._table).where(self._table.c.subject == subject)
            ).first()
        if row is None:
            return None
        return self.stored_key(subject, row.kek_id, row.wrapped_key)[0]

    def key_or_new(self, subject: str, connection: Connection | None = None) -> bytes:
        """The subject's data key, made (and stored wrapped) when it has none; within the
        given transaction's connection, if any (SQLite allows one writer at a time)."""
        with self._lock:
            known_absent = subject in self._absent
            self._absent.discard(subject)
        existing = None if known_absent else self.key(subject, connection)
        if existing is not None:
            return existing
        key = new_data_key()
        wrapped = self._kek.wrap(key, self._context(subject))
        try:
            with self._using(connection, write=True) as writing:
                writing.execute(
                    insert(self._table).values(
                        subject=subject,
                        kek_id=wrapped.kek_id,
                        wrapped_key=wrapped.wrapped,
                        created_at=datetime.now(UTC),
                    )
                )
        except IntegrityError:  # another process made it first: use theirs
            if connection is not None:
                raise  # the caller's transaction is spoilt: it retries as a whole
            found = self.key(subject)
            assert found is not None
            return found
        self._remember(subject, key, wrapped.wrapped)
        if connection is not None:
            self._forget_on_rollback(connection, [subject])
        return key

    def missing(self, subjects: Iterable[str]) -> set[str]:
        """Which subjects have no key now, asked of the database in one query (not of the
        memory). The keys of the others are fetched and remembered on the way, so the batch
        that asked needs no further round trip per subject; keys remembered for missing
        subjects are forgotten (they were destroyed)."""
        return self._look_up(subjects)[0]

    def gone_or_replaced(self, subjects: Iterable[str]) -> set[str]:
        """As `missing`, and also the subjects whose stored key is another than the one this
        process remembered (destroyed, then made anew elsewhere): what this process holds of
        them was read or written under a key that no longer exists."""
        gone, replaced = self._look_up(subjects)
        return gone | replaced

    def _look_up(self, subjects: Iterable[str]) -> tuple[set[str], set[str]]:
        asked = set(subjects)
        if not asked:
            return set(), set()
        with self._engine.connect() as connection:
            rows = connection.execute(self._of_subjects, {"subjects": list(asked)}).all()
        replaced = {
            row.subject
            for row in rows
            if self.stored_key(row.subject, row.kek_id, row.wrapped_key)[1]
        }
        gone = asked - {row.subject for row in rows}
        with self._lock:
            dropped = [self._cache.pop(subject, None) for subject in gone]
            if len(self._absent) > KEY_CACHE_SIZE:
                self._absent.clear()
            self._absent.update(gone)
        forget_ciphers(entry[1] for entry in dropped if entry is not None)
        return gone, replaced

    def stored_key(self, subject: str, kek_id: str, wrapped: bytes) -> tuple[bytes, bool]:
        """The data key of a stored row, and whether it replaced another key this process
        remembered for the subject. The remembered key is used when the row is the one it
        came from (no unwrap: with a KMS that is a round trip); otherwise the row's key is
        unwrapped and remembered."""
        with self._lock:
            found = self._cache.get(subject)
        if found is not None and found[2] == wrapped:
            return found[1], False
        key = self._kek.unwrap(WrappedKey(kek_id, wrapped), self._context(subject))
        self._remember(subject, key, wrapped)
        return key, found is not None and found[1] != key

    def prefetch(self, subjects: Iterable[str]) -> None:
        """Fetches, in one query, the keys of those subjects not already in memory (a batch
        of events about to be read)."""
        uncached = {s for s in subjects if self._cached(s) is None}
        if uncached:
            self.missing(uncached)

    def ensure(self, subjects: Iterable[str]) -> None:
        """Makes sure each subject has a key: those without one get theirs in one
        transaction (one commit for a whole batch of new households, not one each)."""
        wanted = {s for s in subjects if self._cached(s) is None}
        with self._lock:  # just found absent by `missing`: no need to ask again
            absent = wanted & self._absent
        unsure = wanted - absent
        absent |= self.missing(unsure) if unsure else set()
        if not absent:
            return
        try:
            with self._engine.begin() as connection:
                self.create(absent, connection)
        except IntegrityError:  # another process made some of them: take theirs one by one
            for subject in absent:
                self.key_or_new(subject)

    def create_absent(self, subjects: Iterable[str], connection: Connection) -> None:
        """Within the caller's transaction, the keys of those subjects that `prefetch` or
        `missing` just found without one, in one statement (a batch of new households),
        rather than one INSERT each as they are first sealed under: on SQLite, 1,792 new
        households cost a first rebuild of 10,000 events a third of its time that way.
        IntegrityError, as `key_or_new` within a transaction, when another process made one
        meanwhile; a rollback forgets them."""
        self.store_minted(self.mint_absent(subjects, connection), connection)

    def create(self, subjects: Iterable[str], connection: Connection) -> dict[str, bytes]:
        """New keys for subjects known to have none (e.g. fresh random ids), stored in the
        given transaction with one statement; IntegrityError if one had a key after all."""
        made, rows = self._mint(subjects, connection)
        self.store_minted(rows, connection)
        return made

    def mint_absent(self, subjects: Iterable[str], connection: Connection) -> list[KeyRow]:
        """As `create_absent`, but the keys are only made and remembered (data can be sealed
        under them at once); `store_minted` of what this returns stores them, in the same
        transaction, before its commit. On SQLite a transaction takes the write lock at its
        first write: storing the keys last keeps the sealing before it out of the lock."""
        with self._lock:
            absent = {s for s in subjects if s in self._absent and s not in self._cache}
        return self._mint(absent, connection)[1]

    def store_minted(self, rows: list[KeyRow], connection: Connection) -> None:
        """Stores keys `mint_absent` made, in the transaction they were made for."""
        if rows:
            connection.execute(insert(self._table), rows)

    def _mint(
        self, subjects: Iterable[str], connection: Connection
    ) -> tuple[dict[str, bytes], list[KeyRow]]:
        """New keys and their rows (wrapped), remembered until the transaction rolls back."""
        made = {subject: new_data_key() for subject in sorted(set(subjects))}
        rows: list[KeyRow] = []
        if not made:
            return made, rows
        for subject, key in made.items():
            wrapped = self._kek.wrap(key, self._context(subject))
            rows.append(
                {
                    "subject": subject,
                    "kek_id": wrapped.kek_id,
                    "wrapped_key": wrapped.wrapped,
                    "created_at": datetime.now(UTC),
                }
            )
        with self._lock:
            self._absent.difference_update(made)
        for row in rows:
            self._remember(row["subject"], made[row["subject"]], row["wrapped_key"])
        self._forget_on_rollback(connection, list(made))
        return made, rows

    def _forget_on_rollback(self, connection: Connection, subjects: list[str]) -> None:
        """Keys made inside a caller's transaction exist only if it commits: remembered
        before then, they must be forgotten when it rolls back, or data sealed under them
        in the next seconds would be sealed under a key no one stored."""

        def forget(_connection: Connection) -> None:
            with self._lock:
                dropped = [self._cache.pop(subject, None) for subject in subjects]
            forget_ciphers(entry[1] for entry in dropped if entry is not None)

        event.listen(connection, "rollback", forget, once=True)

    def destroy(self, subjects: Iterable[str]) -> int:
        """Destroys the subjects' keys; returns how many existed. Best effort is made to leave
        no copy of the wrapped key in the database file (SQLite secure_delete, PostgreSQL
        VACUUM FULL), so the ciphertext left behind cannot be opened by anyone, ever."""
        chosen = sorted(set(subjects))
        self._forget_cached(chosen)
        if not chosen:
            return 0
        with erasing(self._engine, [self._table]) as connection:
            return self._delete(chosen, connection)

    def destroy_unless(
        self, subjects: Iterable[str], changed: Callable[[], Collection[str]]
    ) -> set[str]:
        """Destroys the subjects' keys (as `destroy`) except those of subjects whose data
        changed meanwhile; returns the subjects spared. `changed` is asked while the key rows
        are deleted and not yet committed: a writer that sealed under one of them has either
        committed by then (and `changed` sees it) or cannot commit until this transaction
        ends, and then finds the key gone (services/ledger/sealing.py). What `changed` names
        keeps its key: the destruction is rolled back and done again without it."""
        chosen = set(subjects)
        spared: set[str] = set()
        while chosen:
            self._forget_cached(chosen)
            try:
                with erasing(self._engine, [self._table]) as connection:
                    self._delete(sorted(chosen), connection)
                    now_changed = set(changed()) & chosen
                    if now_changed:
                        raise _ChangedMeanwhileError(now_changed)
            except _ChangedMeanwhileError as spare:
                spared |= spare.subjects
                chosen -= spare.subjects
                continue
            break
        return spared

    def _delete(self, chosen: list[str], connection: Connection) -> int:
        deleted = connection.execute(delete(self._table).where(self._table.c.subject.in_(chosen)))
        return int(deleted.rowcount)

    def _forget_cached(self, subjects: Iterable[str]) -> None:
        with self._lock:
            dropped = [self._cache.pop(subject, None) for subject in subjects]
        forget_ciphers(entry[1] for entry in dropped if entry is not None)

    def rewrap(self) -> int:
        """Re-wraps every data key under the KEK's current version (after a KEK rotation);
        the data encrypted under the keys is not touched. Returns how many were re-wrapped."""
        current = self._kek.current_id
        count = 0
        with self._engine.begin() as connection:
            rows = connection.execute(
                select(self._table).where(self._table.c.kek_id != current)
            ).all()
            for row in rows:
                context = self._context(row.subject)
                key = self._kek.unwrap(WrappedKey(row.kek_id, row.wrapped_key), context)
                wrapped = self._kek.wrap(key, context)
                connection.execute(
                    update(self._table)
                    .where(self._table.c.subject == row.subject)
                    .values(kek_id=wrapped.kek_id, wrapped_key=wrapped.wrapped)
                )
                count += 1
        return count

    def wrapped_under(self, kek_id: str) -> int:
        """How many data keys are still wrapped under this KEK version (none before the
        version may be retired)."""
        with self._engine.connect() as connection:
            return int(
                connection.execute(
                    select(func.count())
                    .select_from(self._table)
                    .where(self._table.c.kek_id == kek_id)
                ).scalar_one()
            )

    @contextmanager
    def _using(self, connection: Connection | None, write: bool) -> Iterator[Connection]:
        if connection is not None:
            yield connection
        elif write:
            with self._engine.begin() as own:
                yield own
        else:
            with self._engine.connect() as own:
                yield own

    def _context(self, subject: str) -> bytes:
        return f"signal-radar/{self._purpose}/data-key|v1|{subject}".encode()

    def _cached(self, subject: str) -> bytes | None:
        with self._lock:
            found = self._cache.get(subject)
            if found is None:
                return None
            if found[0] >= time.monotonic():
                return found[1]
            del self._cache[subject]  # expired: its cipher goes with it
        forget_ciphers([found[1]])
        return None

    def _remember(self, subject: str, key: bytes, wrapped: bytes) -> None:
        with self._lock:
            dropped = []
            if len(self._cache) >= KEY_CACHE_SIZE:
                dropped = [entry[1] for entry in self._cache.values()]
                self._cache.clear()
            self._cache[subject] = (time.monotonic() + KEY_CACHE_SECONDS, key, wrapped)
        forget_ciphers(k for k in dropped if k != key)
