"""The signal ledger: applies batches of signals to household aggregates in the event store.

It is an eventsourcing EventSourcedProjection, so the new domain events and the position of the
batch in its source (a Kafka partition offset) are written in one database transaction. A batch
whose position is not beyond the stored one is refused by the store, atomically, which is what
makes redelivery harmless.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, ProcessingEvent
from eventsourcing.persistence import Tracking
from eventsourcing.projection import EventSourcedProjection

from contracts.signal_v1 import SignalEventV1
from radar.household import Household, household_id

SNAPSHOT_INTERVAL = 100


@dataclass(frozen=True)
class BatchOutcome:
    """How many signals of a batch were new and how many were already recorded."""

    recorded: int
    duplicates: int


@dataclass
class SignalBatch:
    """Signals read from one source partition, in order; recorded as one unit.

    The ledger's policy fills in the outcome while it applies the batch.
    """

    signals: Sequence[SignalEventV1]
    outcome: BatchOutcome | None = None


class SignalLedger(EventSourcedProjection[UUID]):
    """The event-sourced record of every household and every signal seen about it."""

    name = "SignalLedger"
    snapshotting_intervals = {Household: SNAPSHOT_INTERVAL}

    def record_batch(self, batch: SignalBatch, tracking: Tracking) -> BatchOutcome:
        """Applies the batch and stores its events together with the tracking position."""
        self.process_event(batch, tracking)  # type: ignore[arg-type]
        assert batch.outcome is not None
        return batch.outcome

    def position(self, source: str) -> int | None:
        """The last source position recorded (for Kafka: the last applied offset)."""
        return self.recorder.max_tracking_id(source)

    def policy(self, domain_event: Any, processing_event: ProcessingEvent[UUID]) -> None:
        """Records each signal of the batch in its household, skipping signals seen before."""
        batch: SignalBatch = domain_event
        households: dict[str, Household] = {}
        recorded = duplicates = 0
        for signal in batch.signals:
            household = households.get(signal.household)
            if household is None:
                household = self._household(signal.household)
                households[signal.household] = household
            if household.record(signal):
                recorded += 1
            else:
                duplicates += 1
        processing_event.collect_events(*households.values())
        batch.outcome = BatchOutcome(recorded, duplicates)

    def _household(self, pseudonym: str) -> Household:
        try:
            found: Household = self.repository.get(household_id(pseudonym))
            return found
        except AggregateNotFoundError:
            return Household(pseudonym)
