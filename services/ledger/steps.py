"""Analysts' steps on a household's aggregates (alerts, safety conditions, safety assessments
and investigations, moves, departures, reminders of missed checks): commands saved through the
signal ledger, each retried on the fresh state when it meets a concurrent write. A mixin of
SignalLedger (services/ledger/application.py), which loads and saves the aggregates."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING, TypeVar

from eventsourcing.domain import Aggregate

from radar.alerts import StaffRef, TriageOutcome
from radar.case import HouseholdCase
from radar.case_assessment import Step, report_of
from radar.evaluation import follow_region, remind_missed_checks
from radar.household import Household
from radar.regions import registry
from radar.risk_model_v2 import AnyRiskModel
from radar.safety import NETHERLANDS
from radar.safety_assessment import InvestigationOutcome, SafetyAnswers, SafetyDecision

T = TypeVar("T")
A = TypeVar("A", bound=Aggregate)


class UnknownHouseholdError(LookupError):
    """The radar has no signals about this household (or no case for it)."""


class AnalystSteps:
    """The steps analysts take, on top of the ledger's loading and saving."""

    if TYPE_CHECKING:  # provided by SignalLedger

        def household(self, pseudonym: str) -> Household: ...

        def model_in_force(self) -> AnyRiskModel: ...

        def _case(self, pseudonym: str, in_place: bool = False) -> HouseholdCase | None: ...

        def _continued_after_erasure(self, fresh: A) -> A: ...

        def _retrying(self, command: Callable[[], tuple[T, list[Aggregate | None]]]) -> T: ...

    def acknowledge_alert(self, household: str, alert: str, by: StaffRef) -> None:
        self._on_case(household, lambda case: case.acknowledge(alert, by))

    def triage_alert(
        self, household: str, alert: str, by: StaffRef, outcome: TriageOutcome, reason: str
    ) -> None:
        self._on_case(household, lambda case: case.triage(alert, by, outcome, reason))

    def close_alert(self, household: str, alert: str, by: StaffRef, reason: str) -> None:
        self._on_case(household, lambda case: case.close(alert, by, reason))

    def record_conditions(
        self,
        household: str,
        by: StaffRef,
        conditions: list[str],
        excluded_signal_types: list[str],
        starts_on: date,
        ends_on: date,
        check_dates: list[date],
    ) -> str:
        """Records safety conditions with their monitoring period; returns the plan id."""

        def record(case: HouseholdCase) -> str:
            return case.record_conditions(
                by, conditions, excluded_signal_types, starts_on, ends_on, check_dates
            )

        return self._on_case(household, record, open_if_missing=True)

    def assess_check(
        self,
        household: str,
        plan_id: str,
        check_date: date,
        by: StaffRef,
        conditions_kept: bool,
        note: str,
    ) -> None:
        self._on_case(
            household,
            lambda case: case.assess_check(plan_id, check_date, by, conditions_kept, note),
        )

    def close_monitoring(
        self, household: str, plan_id: str, by: StaffRef, safety_achieved: bool, note: str
    ) -> None:
        self._on_case(
            household, lambda case: case.close_monitoring(plan_id, by, safety_achieved, note)
        )

    def assess_report(
        self,
        household: str,
        report_id: str,
        step: Step,
        instrument_version: int,
        answers: tuple[SafetyAnswers, SafetyDecision],
    ) -> str:
        """Records the safety assessment of one of the household's reports (a vt_report signal
        it holds now); returns the assessment id."""

        def assess(case: HouseholdCase) -> str:
            report = report_of(self.household(household).signal_facts(), report_id)
            return case.assess_report(report, step, instrument_version, answers)

        return self._on_case(household, assess, open_if_missing=True)

    def close_investigation(
        self, household: str, assessment: str, step: Step, outcome: InvestigationOutcome
    ) -> None:
        self._on_case(household, lambda case: case.close_investigation(assessment, step, outcome))

    def record_move(self, household: str, municipality: str, moved_on: date, by: StaffRef) -> str:
        """Records a move to another municipality; the responsible region (and any open alert)
        follows when the move is the latest news of the household. Returns the region now."""
        place = registry().municipality(municipality)
        moved_at = datetime.combine(moved_on, time(), NETHERLANDS)

        def move() -> tuple[str, list[Aggregate | None]]:
            found = self.household(household)
            case = self._case(household) if found.has_case else None
            found.record_move(place.code, str(place.region), moved_at, by)
            region = follow_region(found, case, reason="move")
            assert region is not None
            return region, [found, case]

        return self._retrying(move)

    def record_departure(
        self,
        household: str,
        person: str,
        left_on: date,
        by: StaffRef,
        now: datetime | None = None,
    ) -> None:
        """Records that a person left the household on `left_on`; MembershipError (a
        ValueError) when the household never saw them, or the date is before they were first
        seen there or after today."""
        today = (now or datetime.now(UTC)).astimezone(NETHERLANDS).date()

        def leave() -> tuple[None, list[Aggregate | None]]:
            found = self.household(household)
            found.record_departure(person, left_on, by, today)
            return None, [found]

        self._retrying(leave)

    def remind_missed_checks(self, household: str, now: datetime) -> list[str]:
        """Raises reminders for check dates of the household's conditions that passed without
        an assessment; returns the new alert ids (none when already reminded)."""
        model = self.model_in_force()
        found = self.household(household)
        return self._on_case(household, lambda case: remind_missed_checks(found, case, model, now))

    def _on_case(
        self,
        household: str,
        command: Callable[[HouseholdCase], T],
        open_if_missing: bool = False,
    ) -> T:
        """Runs a command on the household's case and saves it, retrying on a concurrent
        write; domain errors (ValueError) pass through unchanged."""

        def run() -> tuple[T, list[Aggregate | None]]:
            found = self.household(household)
            case = self._case(household) if found.has_case else None
            if case is None:
                if not open_if_missing:
                    raise UnknownHouseholdError("there is no case for this household")
                case = self._continued_after_erasure(HouseholdCase(household))
                found.open_case()
            return command(case), [found, case]

        return self._retrying(run)
