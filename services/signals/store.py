"""Receipts of accepted signals, so that a re-submitted event id is answered 'duplicate'.

A receipt is written only after the broker acknowledged the signal. Correctness never depends
on it (the aggregator records each event id once per household whatever Kafka delivers); it
exists to tell the publisher the truth and to refuse an event id reused for a different signal.

A receipt also remembers who published the signal and the household's pseudonym as first known
(pseudonyms only), so a correction or retraction can be checked and keyed without asking the
publisher for identifiers again. Receipts written before corrections existed lack the household.
Corrections have receipts of their own, by correction id.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import orjson
from pydantic import BaseModel
from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    MetaData,
    String,
    Table,
    delete,
    func,
    insert,
    select,
)
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from contracts.correction_v1 import SignalCorrectionV1
from contracts.signal_v1 import SignalEventV1
from privacy.storage.erasure import erasing
from services.database import add_missing_columns

metadata = MetaData()

ingest_receipts = Table(
    "ingest_receipts",
    metadata,
    Column("event_id", String(36), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("organisation", String(64), nullable=False),
    Column("accepted_at", DateTime(timezone=True), nullable=False),
    Column("household", String(64)),  # as first known; None on receipts from before
)

correction_receipts = Table(
    "ingest_correction_receipts",
    metadata,
    Column("correction_id", String(36), primary_key=True),
    Column("corrects", String(36), nullable=False, index=True),
    Column("kind", String(16), nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("accepted_at", DateTime(timezone=True), nullable=False),
)


@dataclass(frozen=True)
class Receipt:
    """Who published an accepted signal, and its household as first known (None on receipts
    written before corrections existed)."""

    organisation: str
    household: str | None


@dataclass(frozen=True)
class CorrectionReceipt:
    correction_id: UUID
    kind: str
    fingerprint: str


def fingerprint(event: SignalEventV1, reported_by_publisher: bool) -> str:
    """A digest of what the publisher said (pseudonymised), without the times the radar fills
    in itself: the receipt time, and reported-at when the publisher left it out."""
    radar_times = {"received_at"} if reported_by_publisher else {"received_at", "reported_at"}
    return _digest(event, radar_times)


def correction_fingerprint(correction: SignalCorrectionV1) -> str:
    """A digest of what the publisher said in a correction, without the receipt time."""
    return _digest(correction, {"received_at"})


def _digest(message: BaseModel, radar_times: set[str]) -> str:
    content = message.model_dump(mode="json", exclude=radar_times)
    return hashlib.sha256(orjson.dumps(content, option=orjson.OPT_SORT_KEYS)).hexdigest()


class ReceiptBook:
    """The receipts table."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        metadata.create_all(engine)
        add_missing_columns(engine, metadata)

    def count_households(self, households: Sequence[str]) -> int:
        """How many receipts `forget_households` would delete (a retention dry run)."""
        if not households:
            return 0
        with self._engine.connect() as connection:
            about = select(ingest_receipts.c.event_id).where(
                ingest_receipts.c.household.in_(list(households))
            )
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
        retention erased them, so nothing may tell which signals were about them."""
        if not households:
            return 0
        with erasing(self._engine, [ingest_receipts, correction_receipts]) as connection:
            about = select(ingest_receipts.c.event_id).where(
                ingest_receipts.c.household.in_(list(households))
            )
            gone = connection.execute(
                delete(correction_receipts).where(correction_receipts.c.corrects.in_(about))
            ).rowcount
            gone += connection.execute(
                delete(ingest_receipts).where(ingest_receipts.c.household.in_(list(households)))
            ).rowcount
        return int(gone)

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
        keys = [str(event_id) for event_id in event_ids]
        if not keys:
            return {}
        with self._engine.connect() as connection:
            rows = connection.execute(
                select(ingest_receipts.c.event_id, ingest_receipts.c.fingerprint).where(
                    ingest_receipts.c.event_id.in_(keys)
                )
            ).all()
        return {UUID(row.event_id): row.fingerprint for row in rows}

    def receipt(self, event_id: UUID) -> Receipt | None:
        """Who published an accepted signal and its household; None if it was never accepted."""
        with self._engine.connect() as connection:
            row = connection.execute(
                select(ingest_receipts.c.organisation, ingest_receipts.c.household).where(
                    ingest_receipts.c.event_id == str(event_id)
                )
            ).one_or_none()
        return None if row is None else Receipt(row.organisation, row.household)

    def corrections_of(self, event_id: UUID) -> list[CorrectionReceipt]:
        """The corrections and retractions accepted for a signal."""
        return self._corrections(correction_receipts.c.corrects == str(event_id))

    def correction(self, correction_id: UUID) -> CorrectionReceipt | None:
        """The receipt of an accepted correction or retraction, by its id."""
        found = self._corrections(correction_receipts.c.correction_id == str(correction_id))
        return found[0] if found else None

    def _corrections(self, condition: Any) -> list[CorrectionReceipt]:
        with self._engine.connect() as connection:
            rows = connection.execute(select(correction_receipts).where(condition)).all()
        return [CorrectionReceipt(UUID(r.correction_id), r.kind, r.fingerprint) for r in rows]

    def record_correction(self, correction: SignalCorrectionV1) -> None:
        """Writes the receipt of an acknowledged correction; one already present is kept."""
        row = {
            "correction_id": str(correction.correction_id),
            "corrects": str(correction.corrects),
            "kind": str(correction.kind),
            "fingerprint": correction_fingerprint(correction),
            "accepted_at": datetime.now(UTC),
        }
        self._insert(correction_receipts, [row])

    def record(self, accepted: Iterable[tuple[SignalEventV1, str]]) -> None:
        """Writes receipts (event, fingerprint) for acknowledged events; one already present
        is left alone."""
        now = datetime.now(UTC)
        rows = [
            {
                "event_id": str(event.event_id),
                "fingerprint": digest,
                "organisation": event.organisation,
                "accepted_at": now,
                "household": event.first_known_household(),
            }
            for event, digest in accepted
        ]
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
