"""Safety assessments of reports and the investigations they start, on the household's case.

A mixin of radar.case.HouseholdCase (kept apart so the aggregate reads in one sitting). Its two
events are module-level classes, so their stored topics are
`radar.case_assessment:SafetyAssessmentRecorded` and `radar.case_assessment:InvestigationClosed`:
part of the contract, never rename them.

What "a report" is. A report (melding) is a signal of type `vt_report` on the household: Veilig
Thuis publishes one into the radar for every report it receives (contract v2, sector
veilig_thuis), so each report has a signal id, a region and a moment, and the radar already
keeps, corrects, retracts and erases it like any signal. An advice request
(`vt_advice_request`) is not a report: the sector gives advice, it does not assess safety, and
an advice request that becomes a report arrives as a new `vt_report`. An alert is not a report
either: it is the radar asking a region to look (its own lifecycle, radar.alerts); when what it
shows leads to a report, that report is the `vt_report` Veilig Thuis records. The report date
(the start of the 5-working-day lead time) is the signal's `occurred_at`, the moment Veilig
Thuis received the report, and is copied into the assessment event, so lead times are computed
from the case's events alone and keep the date the decision was measured against.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate

from contracts.signal_types_v2 import SignalTypeV2
from radar.alerts import StaffRef
from radar.free_text import checked_text
from radar.risk import SignalFact
from radar.safety_assessment import (
    AssessmentStateError,
    InvestigationOutcome,
    SafetyAnswers,
    SafetyAssessmentError,
    SafetyDecision,
)

REPORT_TYPE = str(SignalTypeV2.VT_REPORT)


@dataclass(frozen=True)
class Report:
    """A report as the assessment needs it: which signal, when Veilig Thuis received it, where."""

    report_id: str  # the vt_report signal's id
    reported_at: datetime  # the signal's occurred_at: the report date
    region: str  # the Veilig Thuis region that received it


def report_of(facts: Iterable[SignalFact], report_id: str) -> Report:
    """The household's report with this id; SafetyAssessmentError if it has none (a retracted or
    erased report is no longer among the facts, and cannot be assessed)."""
    for fact in facts:
        if fact.signal_id == report_id:
            if fact.signal_type != REPORT_TYPE:
                raise SafetyAssessmentError("report_id", "this signal is not a report (vt_report)")
            return Report(fact.signal_id, fact.occurred_at, fact.region)
    raise SafetyAssessmentError("report_id", "the household has no such report")


@dataclass(frozen=True)
class Step:
    """Who took a step, why, and when (the moment it counts from for lead times)."""

    by: StaffRef
    reason: str
    at: datetime


@dataclass
class RecordedAssessment:
    """A recorded safety assessment, and the investigation it started (if it decided one)."""

    assessment_id: str
    report: Report
    instrument_version: int
    answers: dict[str, Any]  # SafetyAnswers record
    decision: SafetyDecision
    by: dict[str, str]
    reason: str
    assessed_at: datetime
    investigation: dict[str, Any] | None = None  # how it was closed: outcome, by, reason, when

    @property
    def investigation_open(self) -> bool:
        return self.decision == SafetyDecision.OWN_INVESTIGATION and self.investigation is None


class SafetyAssessmentRecorded(Aggregate.Event):
    """Veilig Thuis assessed a report with the instrument and decided how to continue."""

    household: str
    assessment_id: str
    report_id: str
    reported_at: datetime
    region: str
    by: dict[str, str]  # StaffRef record
    instrument_version: int
    answers: dict[str, Any]  # SafetyAnswers record
    decision: str
    reason: str
    assessed_at: datetime

    def apply(self, aggregate: Any) -> None:
        report = Report(self.report_id, self.reported_at, self.region)
        aggregate.assessments[self.assessment_id] = RecordedAssessment(
            assessment_id=self.assessment_id,
            report=report,
            instrument_version=self.instrument_version,
            answers=self.answers,
            decision=SafetyDecision(self.decision),
            by=self.by,
            reason=self.reason,
            assessed_at=self.assessed_at,
        )
        aggregate.taken_up_at = self.timestamp  # a person's step (radar.case._PersonsStep)


class InvestigationClosed(Aggregate.Event):
    """Veilig Thuis closed the own investigation an assessment started, with its conclusion."""

    household: str
    assessment_id: str
    report_id: str
    region: str
    by: dict[str, str]
    outcome: str
    reason: str
    closed_at: datetime

    def apply(self, aggregate: Any) -> None:
        aggregate.assessments[self.assessment_id].investigation = {
            "outcome": self.outcome,
            "by": self.by,
            "reason": self.reason,
            "closed_at": self.closed_at,
        }
        aggregate.taken_up_at = self.timestamp


def assessment_id(case: UUID, report_id: str) -> str:
    """A deterministic id: one assessment per report."""
    return str(uuid5(case, f"assessment:{report_id}"))


class CaseAssessments:
    """Recording assessments of the household's reports and closing investigations."""

    # the aggregate's (radar.case.HouseholdCase) state and machinery
    id: UUID
    household: str
    assessments: dict[str, RecordedAssessment]

    if TYPE_CHECKING:  # eventsourcing's

        def trigger_event(self, event_class: Any, **kwargs: Any) -> None: ...

    def assess_report(
        self,
        report: Report,
        step: Step,
        instrument_version: int,
        answers: tuple[SafetyAnswers, SafetyDecision],
    ) -> str:
        """Records the assessment of a report (answers validated by the instrument); returns
        its id. A report is assessed once: a second assessment is refused."""
        new_id = assessment_id(self.id, report.report_id)
        if new_id in self.assessments:
            raise AssessmentStateError("this report was already assessed")
        if step.at < report.reported_at:
            raise SafetyAssessmentError("report_id", "the report was received after this moment")
        given, decision = answers
        self.trigger_event(
            SafetyAssessmentRecorded,
            **self._about(new_id, report, step),
            reported_at=report.reported_at,
            instrument_version=instrument_version,
            answers=given.record(),
            decision=str(decision),
            assessed_at=step.at,
        )
        return new_id

    def close_investigation(
        self, assessment: str, step: Step, outcome: InvestigationOutcome
    ) -> None:
        """Closes the own investigation the assessment decided, with its conclusion."""
        found = self.assessments.get(assessment)
        if found is None:
            raise AssessmentStateError("no such assessment")
        if found.decision != SafetyDecision.OWN_INVESTIGATION:
            raise AssessmentStateError("this assessment did not decide an own investigation")
        if found.investigation is not None:
            raise AssessmentStateError("this investigation was already closed")
        if step.at < found.assessed_at:
            raise SafetyAssessmentError("closed_at", "the investigation started after this moment")
        self.trigger_event(
            InvestigationClosed,
            **self._about(assessment, found.report, step),
            outcome=str(InvestigationOutcome(outcome)),
            closed_at=step.at,
        )

    def _about(self, assessment: str, report: Report, step: Step) -> dict[str, Any]:
        """The fields both events share: which household, assessment and report, who, why."""
        return {
            "household": self.household,
            "assessment_id": assessment,
            "report_id": report.report_id,
            "region": report.region,
            "by": step.by.record(),
            "reason": checked_text(step.reason, "the reason"),
        }

    def open_investigations(self) -> list[RecordedAssessment]:
        return [a for a in self.assessments.values() if a.investigation_open]
