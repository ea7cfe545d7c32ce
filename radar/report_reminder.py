"""The reminder for a report without a decision: an alert on the region's worklist from working
day 3, two working days before the decision is late (radar.lead_times). Time passing is not an
event, so a follower looks (services/casework/reminders.py); raising is idempotent, one alert
per report, and none once the report is decided."""

from __future__ import annotations

from datetime import datetime

from radar.alerts import AlertKind
from radar.case import HouseholdCase
from radar.case_assessment import assessment_id, report_of
from radar.household import Household
from radar.lead_times import ReportDates
from radar.risk_in_force import assess_any
from radar.risk_model_v2 import AnyRiskModel
from radar.safety import dutch_date


def remind_undecided_report(
    household: Household, case: HouseholdCase, model: AnyRiskModel, report_id: str, now: datetime
) -> str | None:
    """Raises the decision-due alert for the report (its check date: the day the decision is
    due); None when it is decided, gone (retracted, erased), not yet due, or reminded before."""
    if assessment_id(case.id, report_id) in case.assessments:
        return None
    try:
        report = report_of(household.signal_facts(), report_id)
    except ValueError:
        return None
    dates = ReportDates(report_id, report.region, dutch_date(report.reported_at))
    if dutch_date(now) < dates.reminder_from:
        return None
    score = household.latest_assessment() or assess_any(household.signal_facts(), model, now)
    return case.raise_alert(
        AlertKind.DECISION_DUE,
        key=report_id,
        region=report.region,
        raised_at=now,
        assessment=score,
        reasons=[str(AlertKind.DECISION_DUE)],
        trigger_signals=[report_id],
        check_date=dates.decision_due.isoformat(),
    )
