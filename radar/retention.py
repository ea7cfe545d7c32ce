"""Retention in the domain: when a household was last active, and the record of each
enforcement (counts only: what was erased is gone, and the record must not say what it was)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, uuid5

from eventsourcing.domain import Aggregate, event

from radar.case import HouseholdCase
from radar.household import Household

RETENTION_LOG_ID = uuid5(NAMESPACE_URL, "urn:signal-radar:retention-log")


def last_activity(household: Household, case: HouseholdCase | None) -> datetime:
    """The latest moment anything happened about the household: a signal received, a move
    recorded, or a step on its case."""
    moments = [fact.received_at for fact in household.signal_facts()]
    moments += [move.moved_at for move in household.moves]
    if case is not None:
        moments.append(case.modified_on)
    return max(moments, default=household.created_on)


class RetentionLog(Aggregate):
    """Every retention enforcement, as counts per kind of data."""

    # --- events: their class names are part of the stored topics, never rename them ----------

    class Started(Aggregate.Created):
        """The log begins (empty: the first enforcement follows)."""

    class RetentionEnforced(Aggregate.Event):
        at: datetime
        policy_version: int
        households: dict[str, int]  # kind of household data -> how many
        events_erased: int
        rows_purged: int
        identities_purged: int

    @staticmethod
    def create_id() -> Any:
        return RETENTION_LOG_ID

    @event(Started)
    def __init__(self) -> None:
        self.enforcements = 0

    @event(RetentionEnforced)
    def record(
        self,
        at: datetime,
        policy_version: int,
        households: dict[str, int],
        events_erased: int,
        rows_purged: int,
        identities_purged: int,
    ) -> None:
        self.enforcements += 1
