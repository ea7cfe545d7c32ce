"""Retention in the domain: when a household was last active, and the record of each
enforcement (counts only: what was erased is gone, and the record must not say what it was)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, uuid5

from eventsourcing.domain import Aggregate, event

from privacy.retention import RetentionPolicy
from radar.case import HouseholdCase
from radar.household import Household

RETENTION_LOG_ID = uuid5(NAMESPACE_URL, "urn:signal-radar:retention-log")


def is_case_data(case: HouseholdCase | None) -> bool:
    """Whether the household's data is part of the Veilig Thuis file (kept as case data): only
    when a person at Veilig Thuis took its case up (`HouseholdCase.taken_up`). An alert the
    aggregator raised and nobody touched does not count; at expiry it goes with the household.
    Moves and departures an analyst records are about where people live, not a step on the
    case: they do not make case data (a move does count as activity, below)."""
    return case is not None and case.taken_up


def last_activity(household: Household, case: HouseholdCase | None) -> datetime:
    """The latest moment anything happened about the household: a signal received, a move
    recorded, or a step a person took on its case. What the radar did by itself (raising,
    transferring or reminding of alerts, rescoring) is no activity: an untouched alert must
    not extend the household's life."""
    moments = [fact.received_at for fact in household.signal_facts()]
    moments += [move.moved_at for move in household.moves]
    if case is not None and case.taken_up_at is not None:
        moments.append(case.taken_up_at)
    return max(moments, default=household.created_on)


def retention_ends(
    household: Household, case: HouseholdCase | None, policy: RetentionPolicy
) -> datetime:
    """When the household's retention period ends under the policy, as things stand."""
    return policy.ends(policy.kind_of(is_case_data(case)), last_activity(household, case))


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
