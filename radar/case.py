"""The household's case: what Veilig Thuis does about a household, beside what the radar saw.

The Household aggregate holds the signals and the score; the case holds the alerts (and every
lifecycle step with the analyst who took it) and the safety conditions being monitored.
Analysts write to the case, the aggregator mostly to the household, so they seldom meet.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from radar.alerts import (
    HIGH_RISK_REASONS,
    RISK_KINDS,
    Alert,
    AlertKind,
    AlertStateError,
    AlertStatus,
    StaffRef,
    TriageOutcome,
    alert_id,
)
from radar.case_assessment import CaseAssessments, RecordedAssessment
from radar.case_hwc import CaseHandleWithCare
from radar.case_referral import CaseReferrals
from radar.case_regie import CaseRegie
from radar.free_text import checked_text
from radar.risk import Assessment
from radar.safety import (
    MonitoringStateError,
    SafetyPlan,
    SafetyPlanError,
    breach_types,
    validated_plan_terms,
)

_CASE_NAMESPACE = uuid5(NAMESPACE_URL, "urn:signal-radar:household-case")


def case_id(pseudonym: str) -> UUID:
    """The aggregate id of the case of the household with this pseudonym."""
    return uuid5(_CASE_NAMESPACE, pseudonym)


class _PersonsStep:
    """Mixed into the events a person at Veilig Thuis records (each carries `by`): applying
    one notes its timestamp as the moment the case was last taken up. The mixin changes no
    stored topic or field; old stores replay to the same moment."""

    timestamp: datetime

    def mutate(self, aggregate: Any) -> Any:
        aggregate = super().mutate(aggregate)  # type: ignore[misc]
        aggregate.taken_up_at = self.timestamp
        return aggregate


class HouseholdCase(CaseReferrals, CaseHandleWithCare, CaseRegie, CaseAssessments, Aggregate):
    """Alerts about one household, the safety conditions agreed with it, the safety
    assessments of its reports (radar.case_assessment) and who leads (radar.case_regie)."""

    # --- events: their class names are part of the stored topics, never rename them ----------

    class Opened(Aggregate.Created):
        household: str

    class AlertRaised(Aggregate.Event):
        household: str
        alert_id: str
        kind: str
        reasons: list[str]
        region: str
        raised_at: datetime
        score: Decimal
        model_version: int
        contributions: list[dict[str, Any]]  # Contribution records
        children_present: bool
        sectors: list[str]
        trigger_signals: list[str]
        plan_id: str | None
        check_date: str | None

    class AlertAcknowledged(_PersonsStep, Aggregate.Event):
        alert_id: str
        by: dict[str, str]  # StaffRef record

    class AlertTriaged(_PersonsStep, Aggregate.Event):
        alert_id: str
        by: dict[str, str]
        outcome: str
        reason: str

    class AlertClosed(_PersonsStep, Aggregate.Event):
        alert_id: str
        by: dict[str, str]
        reason: str

    class AlertsTransferred(Aggregate.Event):
        alert_ids: list[str]
        from_regions: list[str]
        to_region: str

    class SafetyConditionsRecorded(_PersonsStep, Aggregate.Event):
        household: str
        plan_id: str
        by: dict[str, str]
        conditions: list[str]
        excluded_signal_types: list[str]
        starts_on: str  # ISO dates
        ends_on: str
        check_dates: list[str]

    class CheckAssessed(_PersonsStep, Aggregate.Event):
        plan_id: str
        check_date: str
        by: dict[str, str]
        conditions_kept: bool
        note: str

    class MonitoringClosed(_PersonsStep, Aggregate.Event):
        plan_id: str
        by: dict[str, str]
        safety_achieved: bool
        note: str

    @staticmethod
    def create_id(household: str) -> UUID:
        return case_id(household)

    @event(Opened)
    def __init__(self, household: str) -> None:
        self.household = household
        self.alerts: dict[str, Alert] = {}
        self.plans: dict[str, SafetyPlan] = {}
        self.assessments: dict[str, RecordedAssessment] = {}  # by assessment id
        # When a person at Veilig Thuis last took a step on the case (None: nobody ever did);
        # set by the _PersonsStep events, never by the aggregator's own (alerts raised or
        # transferred).
        self.taken_up_at: datetime | None = None
        # when its high-risk alerts were raised (alerts.HIGH_RISK_REASONS), for the MARAC
        # repeat rule: rebuilt from the AlertRaised events (a case is never snapshotted)
        self.high_risk_at: list[datetime] = []

    # --- retention ----------------------------------------------------------------------------

    @property
    def taken_up(self) -> bool:
        """Whether a person at Veilig Thuis took the case up: acknowledged, triaged or closed an
        alert, recorded safety conditions, assessed a check or closed monitoring. Only then is
        the household part of the Veilig Thuis file (case data): an alert nobody touched is
        the radar's own signalling, and expires with the household's signals."""
        return self.taken_up_at is not None

    # --- alerts -----------------------------------------------------------------------------

    def has_open_risk_alert(self) -> bool:
        return any(a.is_open and a.kind in RISK_KINDS for a in self.alerts.values())

    def open_alerts(self) -> list[Alert]:
        return [a for a in self.alerts.values() if a.is_open]

    def raise_alert(
        self,
        kind: AlertKind,
        key: str,
        region: str,
        raised_at: datetime,
        assessment: Assessment,
        reasons: Sequence[str] = (),
        trigger_signals: Sequence[str] = (),
        sectors: Sequence[str] = (),
        plan_id: str | None = None,
        check_date: str | None = None,
    ) -> str | None:
        """Raises an alert for the region; None if this trigger already raised one."""
        new_id = alert_id(self.id, kind, key)
        if new_id in self.alerts:
            return None
        self._alert_raised(
            household=self.household,
            alert_id=new_id,
            kind=str(kind),
            reasons=list(reasons) or [str(kind)],
            region=region,
            raised_at=raised_at,
            score=assessment.score,
            model_version=assessment.model_version,
            contributions=[c.record() for c in assessment.contributions],
            children_present=assessment.children_present,
            sectors=sorted(sectors),
            trigger_signals=list(trigger_signals),
            plan_id=plan_id,
            check_date=check_date,
        )
        return new_id

    @event(AlertRaised)
    def _alert_raised(
        self,
        household: str,
        alert_id: str,
        kind: str,
        reasons: list[str],
        region: str,
        raised_at: datetime,
        score: Decimal,
        model_version: int,
        contributions: list[dict[str, Any]],
        children_present: bool,
        sectors: list[str],
        trigger_signals: list[str],
        plan_id: str | None,
        check_date: str | None,
    ) -> None:
        self.alerts[alert_id] = Alert(
            alert_id, AlertKind(kind), region, raised_at, plan_id=plan_id, check_date=check_date
        )
        if HIGH_RISK_REASONS.intersection(reasons):
            self.high_risk_at.append(raised_at)
        if kind == AlertKind.CHECK_OVERDUE and plan_id and check_date:
            self.plans[plan_id].reminded.add(check_date)
        if kind == AlertKind.BREACH and plan_id:
            self.plans[plan_id].breaches.extend(trigger_signals)

    def acknowledge(self, alert: str, by: StaffRef) -> None:
        self._alert(alert).check_step(AlertStatus.ACKNOWLEDGED)
        self._alert_acknowledged(alert_id=alert, by=by.record())

    @event(AlertAcknowledged)
    def _alert_acknowledged(self, alert_id: str, by: dict[str, Any]) -> None:
        self._step(alert_id, AlertStatus.ACKNOWLEDGED, by)

    def triage(self, alert: str, by: StaffRef, outcome: TriageOutcome, reason: str) -> None:
        self._alert(alert).check_step(AlertStatus.TRIAGED)
        self._alert_triaged(
            alert_id=alert,
            by=by.record(),
            outcome=str(TriageOutcome(outcome)),
            reason=checked_text(reason, "the reason"),
        )

    @event(AlertTriaged)
    def _alert_triaged(self, alert_id: str, by: dict[str, Any], outcome: str, reason: str) -> None:
        self._step(alert_id, AlertStatus.TRIAGED, by, outcome=outcome, reason=reason)

    def close(self, alert: str, by: StaffRef, reason: str) -> None:
        self._alert(alert).check_step(AlertStatus.CLOSED)
        self._alert_closed(
            alert_id=alert, by=by.record(), reason=checked_text(reason, "the reason")
        )

    @event(AlertClosed)
    def _alert_closed(self, alert_id: str, by: dict[str, Any], reason: str) -> None:
        self._step(alert_id, AlertStatus.CLOSED, by, reason=reason)

    def transfer_open_alerts(self, region: str) -> list[str]:
        """Moves the open alerts to the household's new region: the new region works them."""
        moving = [a.alert_id for a in self.open_alerts() if a.region != region]
        if moving:
            previous = sorted({self.alerts[a].region for a in moving})
            self._alerts_transferred(alert_ids=moving, from_regions=previous, to_region=region)
        return moving

    @event(AlertsTransferred)
    def _alerts_transferred(
        self, alert_ids: list[str], from_regions: list[str], to_region: str
    ) -> None:
        for alert in alert_ids:
            self.alerts[alert].region = to_region

    def _alert(self, alert: str) -> Alert:
        found = self.alerts.get(alert)
        if found is None:
            raise AlertStateError("no such alert")
        return found

    def _step(self, alert: str, status: AlertStatus, by: dict[str, Any], **details: str) -> None:
        self.alerts[alert].status = status
        self.alerts[alert].steps.append({"status": str(status), "by": by, **details})

    # --- safety conditions ------------------------------------------------------------------

    def active_plan(self) -> SafetyPlan | None:
        return next((p for p in self.plans.values() if p.is_active), None)

    def record_conditions(
        self,
        by: StaffRef,
        conditions: list[str],
        excluded_signal_types: list[str],
        starts_on: date,
        ends_on: date,
        check_dates: list[date],
    ) -> str:
        """Records agreed safety conditions; one set is monitored at a time."""
        if self.active_plan() is not None:
            raise MonitoringStateError("conditions are already being monitored; close that first")
        cleaned, excluded, dates = validated_plan_terms(
            conditions, excluded_signal_types, starts_on, ends_on, check_dates
        )
        plan_id = str(uuid5(self.id, f"plan:{len(self.plans) + 1}"))
        self._conditions_recorded(
            household=self.household,
            plan_id=plan_id,
            by=by.record(),
            conditions=cleaned,
            excluded_signal_types=excluded,
            starts_on=starts_on.isoformat(),
            ends_on=ends_on.isoformat(),
            check_dates=[d.isoformat() for d in dates],
        )
        return plan_id

    @event(SafetyConditionsRecorded)
    def _conditions_recorded(
        self,
        household: str,
        plan_id: str,
        by: dict[str, Any],
        conditions: list[str],
        excluded_signal_types: list[str],
        starts_on: str,
        ends_on: str,
        check_dates: list[str],
    ) -> None:
        self.plans[plan_id] = SafetyPlan(
            plan_id=plan_id,
            conditions=conditions,
            excluded_signal_types=breach_types(excluded_signal_types),
            starts_on=date.fromisoformat(starts_on),
            ends_on=date.fromisoformat(ends_on),
            check_dates=[date.fromisoformat(d) for d in check_dates],
            recorded_by=by,
        )

    def assess_check(
        self, plan_id: str, check_date: date, by: StaffRef, conditions_kept: bool, note: str
    ) -> None:
        """Records the assessment of one check date: were the conditions kept?"""
        plan = self._active(plan_id)
        if check_date not in plan.check_dates:
            raise SafetyPlanError("not a check date of these conditions")
        if check_date.isoformat() in plan.assessments:
            raise MonitoringStateError("this check date was already assessed")
        self._check_assessed(
            plan_id=plan_id,
            check_date=check_date.isoformat(),
            by=by.record(),
            conditions_kept=conditions_kept,
            note=checked_text(note, "the note"),
        )

    @event(CheckAssessed)
    def _check_assessed(
        self, plan_id: str, check_date: str, by: dict[str, Any], conditions_kept: bool, note: str
    ) -> None:
        self.plans[plan_id].assessments[check_date] = {
            "by": by,
            "conditions_kept": conditions_kept,
            "note": note,
        }

    def close_monitoring(
        self, plan_id: str, by: StaffRef, safety_achieved: bool, note: str
    ) -> None:
        """Ends monitoring, recording whether the conditions led to safety."""
        self._active(plan_id)
        self._monitoring_closed(
            plan_id=plan_id,
            by=by.record(),
            safety_achieved=safety_achieved,
            note=checked_text(note, "the note"),
        )

    @event(MonitoringClosed)
    def _monitoring_closed(
        self, plan_id: str, by: dict[str, Any], safety_achieved: bool, note: str
    ) -> None:
        self.plans[plan_id].outcome = {"by": by, "safety_achieved": safety_achieved, "note": note}

    def _active(self, plan_id: str) -> SafetyPlan:
        plan = self.plans.get(plan_id)
        if plan is None:
            raise MonitoringStateError("no such safety conditions")
        if not plan.is_active:
            raise MonitoringStateError("monitoring of these conditions was closed")
        return plan
