"""Receipts of accepted signals, so that a re-submitted event id is answered 'duplicate'.

A receipt is written only after the broker acknowledged the signal. Correctness never depends
on it (the aggregator records each event id once per household whatever Kafka delivers); it
exists to tell the publisher the truth and to refuse an event id reused for a different signal.

A receipt also remembers who published the signal and the household's pseudonym as first known,
so a correction or retraction can be checked and keyed without asking the publisher for
identifiers again. Receipts written before corrections existed lack the household.
Corrections have receipts of their own, by correction id.

Rows deleted at retention live on in PostgreSQL's WAL, replicas and base backups, so no column
holds a signal id or a pseudonym as it is (issue 24 item 5): ids and the household are stored
as keyed lookup digests, the fingerprint is keyed too (an unkeyed hash of a signal's content
could be matched against a guess), and the household's pseudonym, which a correction must be
keyed by, is sealed under the household's row key. Rows written before (format 1) are rewritten
in place once (services/signals/receipt_format.py).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import orjson
from pydantic import BaseModel
from sqlalchemy import Engine, Table, bindparam, delete, func, insert, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from contracts.correction_v1 import SignalCorrectionV1
from contracts.signal_v1 import SignalEventV1
from contracts.signal_v2 import SignalEventV2
from privacy.storage.erasure import erasing
from privacy.storage.sealed_rows import RowSealer
from services.database import Database, row_sealer
from services.signals.receipt_format import (
    correction_receipts,
    ingest_receipts,
    keyed_fingerprint,
    migrate_receipts,
    receipt_row,
)

__all__ = ["CorrectionReceipt", "Receipt", "ReceiptBook", "correction_receipts", "ingest_receipts"]

_FINGERPRINTS_OF = select(ingest_receipts.c.event_id, ingest_receipts.c.fingerprint).where(
    ingest_receipts.c.event_id.in_(bindparam("event_ids", expanding=True))
)
"""Built once: building `IN (...)` anew per request cost SQLAlchemy more than the query."""
_RECEIVED = frozenset({"received_at"})
_RECEIVED_AND_REPORTED = frozenset({"received_at", "reported_at"})
"""The times the radar fills in itself, left out of a fingerprint."""


@dataclass(frozen=True)
class Receipt:
    """Who published an accepted signal, and its household as first known (None on receipts
    written before corrections existed)."""

    organisation: str
    household: str | None


@dataclass(frozen=True)
class CorrectionReceipt:
    kind: str
    fingerprint: str


def content_hash(message: BaseModel, radar_times: AbstractSet[str]) -> str:
    """An unkeyed hash of what a publisher said, without the times the radar fills in: never
    stored as it is (see receipt_format.keyed_fingerprint)."""
    return json_content_hash(message.model_dump(mode="json"), radar_times)


def json_content_hash(content: Mapping[str, Any], radar_times: AbstractSet[str]) -> str:
    """`content_hash` of a message's JSON form (`model_dump(mode="json")`), the same digest:
    ingest dumps each event once, for its record and this hash."""
    kept = {name: value for name, value in content.items() if name not in radar_times}
    return hashlib.sha256(orjson.dumps(kept, option=orjson.OPT_SORT_KEYS)).hexdigest()


class ReceiptBook:
    """The receipts tables, found by lookup digests (the sealer's)."""

    def __init__(self, engine: Engine, sealer: RowSealer | None = None) -> None:
        self._engine = engine
        self._sealer = sealer or row_sealer(engine)
        self.digests = self._sealer.digests
        migrate_receipts(engine, self._sealer)

    @classmethod
    def of(cls, database: Database, engine: Engine, sealer: RowSealer | None = None) -> ReceiptBook:
        """The receipts on one of the database's engines, made or migrated under its schema
        lock, with the database's lookup key (and row keys)."""
        with database.schema_lock():
            return cls(engine, sealer or database.row_sealer(engine))

    def fingerprint(self, content: Mapping[str, Any], reported_by_publisher: bool) -> str:
        """What the publisher said (a signal event's JSON form, pseudonymised), keyed, without
        the times the radar fills in itself: the receipt time, and reported-at when the
        publisher left it out."""
        radar_times = _RECEIVED if reported_by_publisher else _RECEIVED_AND_REPORTED
        return keyed_fingerprint(self.digests, json_content_hash(content, radar_times))

    def correction_fingerprint(self, correction: SignalCorrectionV1) -> str:
        """What the publisher said in a correction, keyed, without the receipt time."""
        return keyed_fingerprint(self.digests, content_hash(correction, {"received_at"}))

    def count_households(self, households: Sequence[str]) -> int:
        """How many receipts `forget_households` would delete (a retention dry run)."""
        if not households:
            return 0
        with self._engine.connect() as connection:
            about = self._about(households)
            corrections = connection.execute(
                select(func.count())
                .select_from(correction_receipts)
                .where(correction_receipts.c.corrects.in_(about))
            ).scalar_one()
            receipts = connection.execute(
                select(func.count()).select_from(about.subquery())
            ).scalar_one()
        return int(corrections) + int(receipts)

    def forget_households(self, households: Sequence[str]) -> int:
        """Deletes the receipts (and correction receipts) of signals about these households:
        retention erased them, so nothing may tell which signals were about them. (Their
        sealed households open no more once retention destroys the row keys.)"""
        if not households:
            return 0
        with erasing(self._engine, [ingest_receipts, correction_receipts]) as connection:
            gone = connection.execute(
                delete(correction_receipts).where(
                    correction_receipts.c.corrects.in_(self._about(households))
                )
            ).rowcount
            gone += connection.execute(
                delete(ingest_receipts).where(
                    ingest_receipts.c.household.in_(self.digests.households(households))
                )
            ).rowcount
        return int(gone)

    def _about(self, households: Sequence[str]) -> Any:
        return select(ingest_receipts.c.event_id).where(
            ingest_receipts.c.household.in_(self.digests.households(households))
        )

    def is_ready(self) -> bool:
        """Whether the receipts database answers."""
        try:
            with self._engine.connect() as connection:
                connection.execute(select(1))
        except SQLAlchemyError:
            return False
        return True

    def known(self, event_ids: Iterable[UUID]) -> dict[UUID, str]:
        """Fingerprints of the given event ids that were accepted before."""
        by_digest = {self.digests.signal(str(event_id)): event_id for event_id in event_ids}
        if not by_digest:
            return {}
        with self._engine.connect() as connection:
            rows = connection.execute(_FINGERPRINTS_OF, {"event_ids": list(by_digest)}).all()
        return {by_digest[row.event_id]: row.fingerprint for row in rows}

    def receipt(self, event_id: UUID) -> Receipt | None:
        """Who published an accepted signal and its household; None if it was never accepted
        (or its household was erased)."""
        digest = self.digests.signal(str(event_id))
        with self._engine.connect() as connection:
            row = connection.execute(
                select(ingest_receipts).where(ingest_receipts.c.event_id == digest)
            ).one_or_none()
        if row is None:
            return None
        if row.household is None:
            return Receipt(row.organisation, None)
        household = self._sealer.open(
            row.household, receipt_row(row.household, digest), row.sealed_household
        )
        return None if household is None else Receipt(row.organisation, str(household))

    def corrections_of(self, event_id: UUID) -> list[CorrectionReceipt]:
        """The corrections and retractions accepted for a signal."""
        digest = self.digests.signal(str(event_id))
        return self._corrections(correction_receipts.c.corrects == digest)

    def correction(self, correction_id: UUID) -> CorrectionReceipt | None:
        """The receipt of an accepted correction or retraction, by its id."""
        digest = self.digests.signal(str(correction_id))
        found = self._corrections(correction_receipts.c.correction_id == digest)
        return found[0] if found else None

    def _corrections(self, condition: Any) -> list[CorrectionReceipt]:
        with self._engine.connect() as connection:
            rows = connection.execute(select(correction_receipts).where(condition)).all()
        return [CorrectionReceipt(r.kind, r.fingerprint) for r in rows]

    def record_correction(self, correction: SignalCorrectionV1) -> None:
        """Writes the receipt of an acknowledged correction; one already present is kept."""
        row = {
            "correction_id": self.digests.signal(str(correction.correction_id)),
            "corrects": self.digests.signal(str(correction.corrects)),
            "kind": str(correction.kind),
            "fingerprint": self.correction_fingerprint(correction),
            "accepted_at": datetime.now(UTC),
        }
        self._insert(correction_receipts, [row])

    def record(self, accepted: Iterable[tuple[SignalEventV1 | SignalEventV2, str]]) -> None:
        """Writes receipts (event, fingerprint from `fingerprint`) for acknowledged events;
        one already present is left alone."""
        now = datetime.now(UTC)
        receipts = [
            (event, fingerprint, event.first_known_household()) for event, fingerprint in accepted
        ]
        households = {household: self.digests.household(household) for _, _, household in receipts}
        # the households' row keys in one query, the new ones made in one transaction (not a
        # SELECT, or an INSERT and its commit, per signal: a third of ingest's time)
        self._sealer.keys.ensure(households.values())
        rows = []
        for event, fingerprint, household in receipts:
            digest = self.digests.signal(str(event.event_id))
            household_digest = households[household]
            sealed = self._sealer.seal(household, receipt_row(household_digest, digest), household)
            rows.append(
                {
                    "event_id": digest,
                    "fingerprint": fingerprint,
                    "organisation": event.organisation,
                    "accepted_at": now,
                    "household": household_digest,
                    "sealed_household": sealed,
                }
            )
        self._insert(ingest_receipts, rows)

    def _insert(self, table: Table, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        try:
            with self._engine.begin() as connection:
                connection.execute(insert(table), rows)
        except IntegrityError:  # a concurrent submission of the same id: insert one by one
            for row in rows:
                try:
                    with self._engine.begin() as connection:
                        connection.execute(insert(table), [row])
                except IntegrityError:
                    continue
