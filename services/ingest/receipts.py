"""Receipts of accepted signals, so that a re-submitted event id is answered 'duplicate'.

A receipt is written only after the broker acknowledged the signal. Correctness never depends
on it (the aggregator records each event id once per household whatever Kafka delivers); it
exists to tell the publisher the truth and to refuse an event id reused for a different signal.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime
from uuid import UUID

import orjson
from sqlalchemy import Column, DateTime, Engine, MetaData, String, Table, insert, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from contracts.signal_v1 import SignalEventV1

metadata = MetaData()

ingest_receipts = Table(
    "ingest_receipts",
    metadata,
    Column("event_id", String(36), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("organisation", String(64), nullable=False),
    Column("accepted_at", DateTime(timezone=True), nullable=False),
)


def fingerprint(event: SignalEventV1, reported_by_publisher: bool) -> str:
    """A digest of what the publisher said (pseudonymised), without the times the radar fills
    in itself: the receipt time, and reported-at when the publisher left it out."""
    radar_times = {"received_at"} if reported_by_publisher else {"received_at", "reported_at"}
    content = event.model_dump(mode="json", exclude=radar_times)
    return hashlib.sha256(orjson.dumps(content, option=orjson.OPT_SORT_KEYS)).hexdigest()


class ReceiptBook:
    """The receipts table."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        metadata.create_all(engine)

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
            }
            for event, digest in accepted
        ]
        if not rows:
            return
        try:
            with self._engine.begin() as connection:
                connection.execute(insert(ingest_receipts), rows)
        except IntegrityError:  # a concurrent submission of the same id: insert one by one
            for row in rows:
                try:
                    with self._engine.begin() as connection:
                        connection.execute(insert(ingest_receipts), [row])
                except IntegrityError:
                    continue
