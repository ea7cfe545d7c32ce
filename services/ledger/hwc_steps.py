"""The Handle with Care steps on a household's case (radar.case_hwc): Veilig Thuis confirms or
declines a notice, the receiver acknowledges it, the reminder follower raises the alert of one
not acknowledged by its deadline. A mixin of SignalLedger (services/ledger/application.py);
each step is retried on the fresh state when it meets a concurrent write (AnalystSteps)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, TypeVar

from radar.case import HouseholdCase
from radar.case_assessment import Step
from radar.case_hwc import Notice
from radar.household import Household
from radar.hwc_evaluation import household_municipality
from radar.risk_in_force import assess_any
from radar.risk_model_v2 import AnyRiskModel

T = TypeVar("T")


class HandleWithCareSteps:
    """Confirming, declining, acknowledging and reminding Handle with Care notices."""

    if TYPE_CHECKING:  # provided by SignalLedger and AnalystSteps

        def household(self, pseudonym: str) -> Household: ...

        def model_in_force(self) -> AnyRiskModel: ...

        def _on_case(
            self,
            household: str,
            command: Callable[[HouseholdCase], T],
            open_if_missing: bool = False,
        ) -> T: ...

    def confirm_notice(
        self, household: str, notice: str, step: Step, municipality: str | None
    ) -> Notice:
        """Confirms a pending notice; the municipality defaults to the household's latest
        recorded move."""
        where = municipality or household_municipality(self.household(household))
        return self._on_case(household, lambda case: case.confirm_notice(notice, step, where))

    def decline_notice(self, household: str, notice: str, step: Step) -> Notice:
        return self._on_case(household, lambda case: case.decline_notice(notice, step))

    def acknowledge_notice(
        self, household: str, notice: str, by: dict[str, str], at: datetime
    ) -> Notice:
        return self._on_case(household, lambda case: case.acknowledge_notice(notice, by, at))

    def remind_unacknowledged_notice(self, household: str, notice: str, now: datetime) -> bool:
        """Raises the alert of a notice not acknowledged by its deadline; False when it was
        acknowledged, is not due, or was reminded before."""
        model = self.model_in_force()
        found = self.household(household)
        score = found.latest_assessment() or assess_any(found.signal_facts(), model, now)
        raised = self._on_case(
            household, lambda case: case.remind_unacknowledged(notice, now, score)
        )
        return raised is not None
