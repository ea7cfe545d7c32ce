"""The household aggregate: every signal seen about one household, each applied exactly once.

A household is identified by its pseudonym only; its aggregate id is derived from the pseudonym
so that every aggregator instance finds the same aggregate for the same household.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from contracts.signal_v1 import SignalEventV1

_HOUSEHOLD_NAMESPACE = uuid5(NAMESPACE_URL, "urn:signal-radar:household")


def household_id(pseudonym: str) -> UUID:
    """The aggregate id of the household with this pseudonym."""
    return uuid5(_HOUSEHOLD_NAMESPACE, pseudonym)


class Household(Aggregate):
    """One household as the radar knows it: its signals, region and the persons seen in it."""

    @staticmethod
    def create_id(pseudonym: str) -> UUID:
        return household_id(pseudonym)

    @event("Opened")
    def __init__(self, pseudonym: str) -> None:
        self.pseudonym = pseudonym
        self.signal_types: dict[str, str] = {}  # event id -> signal type, for idempotency
        self.persons: dict[str, str] = {}  # person pseudonym -> last known role
        self.region: str | None = None

    def has_signal(self, event_id: UUID) -> bool:
        """Whether this signal (by its publisher-chosen event id) was already recorded."""
        return str(event_id) in self.signal_types

    def record(self, signal: SignalEventV1) -> bool:
        """Records a signal unless it was recorded before; returns whether it was new."""
        if signal.household != self.pseudonym:
            raise ValueError("signal belongs to another household")
        if self.has_signal(signal.event_id):
            return False
        self._signal_recorded(
            household=signal.household,
            signal_id=signal.event_id,
            organisation=signal.organisation,
            sector=str(signal.sector),
            signal_type=str(signal.signal_type),
            severity=str(signal.severity),
            occurred_at=signal.occurred_at,
            reported_at=signal.reported_at,
            received_at=signal.received_at,
            region=str(signal.region),
            persons=[{"pseudonym": p.pseudonym, "role": str(p.role)} for p in signal.persons],
            pseudonym_key_id=signal.pseudonym_key_id,
        )
        return True

    @event("SignalRecorded")
    def _signal_recorded(
        self,
        household: str,
        signal_id: UUID,
        organisation: str,
        sector: str,
        signal_type: str,
        severity: str,
        occurred_at: datetime,
        reported_at: datetime,
        received_at: datetime,
        region: str,
        persons: list[dict[str, Any]],
        pseudonym_key_id: str,
    ) -> None:
        self.signal_types[str(signal_id)] = signal_type
        self.region = region
        for person in persons:
            self.persons[person["pseudonym"]] = person["role"]
