"""Where new signals become Handle with Care notices: called by radar.evaluation.after_new_signals
for the signals a batch recorded (not for corrections: a notice follows a call-out once)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from radar.case import HouseholdCase
from radar.case_hwc import AutoConfirmRule, auto_confirm_rule, eligible_children
from radar.household import Household
from radar.risk import SignalFact


def household_municipality(household: Household) -> str | None:
    """Where the household lives as far as the radar knows: the latest move Veilig Thuis
    recorded (signals carry a region, never a municipality)."""
    if not household.moves:
        return None
    return max(household.moves, key=lambda move: move.moved_at).municipality


def handle_with_care(
    household: Household,
    case: HouseholdCase | None,
    new: Sequence[SignalFact],
    at: datetime,
    rule: AutoConfirmRule | None = None,
) -> HouseholdCase | None:
    """Makes the notices the new signals call for; opens the case for the first one."""
    if not any(eligible_children(fact) for fact in new):
        return case
    if case is None:
        case = HouseholdCase(household.pseudonym)
        household.open_case()
    case.notice_children(new, household_municipality(household), at, rule or auto_confirm_rule())
    return case
