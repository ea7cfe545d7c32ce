"""Veilig Thuis's referral of a suspected offence to the OM or the police, as a step on the
household's case (radar/case_referral.py): a mixin of SignalLedger, beside the analysts' other
steps (services/ledger/steps.py), whose loading, saving and retrying it uses."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TypeVar

from radar.case import HouseholdCase
from radar.case_assessment import Step
from radar.case_referral import Referral, referred_persons, supporting_signals
from radar.household import Household

T = TypeVar("T")


class ReferralSteps:
    """Referring, on top of the ledger's loading and saving."""

    if TYPE_CHECKING:  # provided by SignalLedger (and AnalystSteps)

        def household(self, pseudonym: str) -> Household: ...

        def _on_case(
            self,
            household: str,
            command: Callable[[HouseholdCase], T],
            open_if_missing: bool = False,
        ) -> T: ...

    def refer_offence(
        self,
        household: str,
        assessment: str,
        recipient: str,
        persons: Sequence[str],
        signals: Sequence[str],
        step: Step,
    ) -> Referral:
        """Records the referral of the suspected offence an assessment found: the chosen
        persons (their roles and ages from the household's signals) and the chosen signals
        (types and dates), each of which the household must hold now."""

        def refer(case: HouseholdCase) -> Referral:
            found = self.household(household)
            facts = found.signal_facts()
            return case.refer(
                assessment,
                recipient,
                referred_persons(facts, found.persons, persons),
                supporting_signals(facts, signals),
                step,
            )

        return self._on_case(household, refer)
