"""Opens the radar's event store (the signal ledger) on the configured database, with every
event's content encrypted under its aggregate's own data key.

Per-subject encryption at rest: each aggregate (a household, its case) has a random AES-256-GCM
data key, stored wrapped by the key-encryption key outside the database
(privacy.storage.subject_keys). What ordering and integrity need stays readable: the global
sequence, originator id (derived from the household pseudonym), version and topic (the event
type); the state, including its timestamp, is ciphertext bound to those four. Destroying a
household's keys at the end of its retention period erases its history for good (crypto-
shredding) while the log, and the audit hash chain over the stored bytes, stay intact.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import cached_property
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Mapper, StoredEvent, Transcoder
from sqlalchemy import Engine, MetaData

from privacy.key_encryption import UnreadableError, seal, unseal
from privacy.storage.erasure_records import ErasureRecords
from privacy.storage.subject_keys import SubjectKeyStore, subject_keys_table
from services.database import Database
from services.ledger.application import SignalLedger
from services.ledger.notifications import ErasedEventError, NotificationLog
from services.ledger.recorders import fence_recorder, use_ledger_recorders
from services.ledger.sealing import ENCRYPTED, KeyFence, bound_to
from services.ledger.shared_reads import SharedReads
from services.ledger.typed_mapper import TypedMapper

AGGREGATE_CACHE_SIZE = 2000

key_metadata = MetaData()
event_subject_keys = subject_keys_table(key_metadata, "event_subject_keys")


class SubjectEncryptingMapper(TypedMapper):
    """Encrypts each stored event's state under its originator's data key."""

    def __init__(self, transcoder: Transcoder, keys: SubjectKeyStore) -> None:
        super().__init__(transcoder)
        self.keys = keys

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        stored = super().to_stored_event(domain_event)
        key = self.keys.key_or_new(str(stored.originator_id))
        sealed = seal(key, stored.state, bound_to(stored))
        return StoredEvent(
            stored.originator_id, stored.originator_version, stored.topic, ENCRYPTED + sealed
        )

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        return super().to_domain_event(self.opened(stored_event))

    def opened(self, stored_event: StoredEvent) -> StoredEvent:
        """The stored event with its state decrypted (states written before encryption are
        returned as they are); ErasedEventError when its household's key is gone."""
        state = bytes(stored_event.state)
        if not state.startswith(ENCRYPTED):
            return stored_event
        key = self.keys.key(str(stored_event.originator_id))
        if key is None:
            raise ErasedEventError("this event's household was erased (retention)")
        try:
            plain = unseal(key, state[len(ENCRYPTED) :], bound_to(stored_event))
        except UnreadableError as error:
            raise ErasedEventError("this event's key was destroyed (retention)") from error
        return StoredEvent(
            stored_event.originator_id,
            stored_event.originator_version,
            stored_event.topic,
            plain,
        )


class EncryptedSignalLedger(SignalLedger):
    """The signal ledger whose events are encrypted per aggregate."""

    name = SignalLedger.name  # the same tables (eventsourcing names them after the app)

    def __init__(
        self, env: dict[str, str], keys: SubjectKeyStore, erasures: ErasureRecords
    ) -> None:
        self.subject_keys = keys  # before the application builds its mapper
        self.erasures = erasures  # what retention erased, so that nothing writes it back
        super().__init__(env=env)
        fence_recorder(self.recorder, KeyFence(keys, keys.table_name))

    def construct_mapper(self) -> Mapper[UUID]:
        return SubjectEncryptingMapper(self.construct_transcoder(), self.subject_keys)

    def prepare_storage(self, aggregate_ids: Sequence[UUID]) -> None:
        self.subject_keys.ensure(str(i) for i in aggregate_ids)

    def prepare_reading(self, originator_ids: Iterable[str]) -> None:
        self.subject_keys.prefetch(originator_ids)

    @cached_property
    def notifications(self) -> NotificationLog:
        """The notification log, its decoded events shared by the process's readers."""
        shared = SharedReads(self.mapper, self.subject_keys)
        return NotificationLog(self.recorder, self.mapper, self.prepare_reading, shared)

    def unreadable_among(self, aggregate_ids: Sequence[UUID]) -> set[UUID]:
        ids = (str(i) for i in aggregate_ids)
        return {UUID(s) for s in self.subject_keys.gone_or_replaced(ids)}


def open_ledger(database: Database, engine: Engine | None = None) -> EncryptedSignalLedger:
    """The signal ledger on this database (its data keys through `engine` when the process
    has one already); tables are created on first use,
    under the schema lock so processes starting together do not collide.

    The aggregate cache is bounded (memory stays flat while catching up on a backlog). Reads
    through the repository fast-forward from the store; the aggregator's batches trust it
    instead and let the store's version check catch a write elsewhere (batch_aggregates.py).
    """
    env = database.eventsourcing_env()
    env["AGGREGATE_CACHE_MAXSIZE"] = str(AGGREGATE_CACHE_SIZE)
    env["AGGREGATE_CACHE_FASTFORWARD"] = "y"
    use_ledger_recorders(env)
    with database.schema_lock():
        engine = engine or database.engine()
        kek = database.key_encryption_key()
        keys = SubjectKeyStore(engine, kek, event_subject_keys, "event-store")
        return EncryptedSignalLedger(env, keys, ErasureRecords(engine, kek))
