"""Lead times as the sector measures them, per region and period, from the reports' dates.

Definitions (the same in the API, the CLI and the README):

- A report's date is the Dutch calendar date (Europe/Amsterdam) of its `reported_at`, the
  moment Veilig Thuis received it (radar.case_assessment). It is working day 0.
- Decided: a safety assessment was recorded for it (any of the instrument's decisions). It is
  decided in time when the decision's Dutch date is on or before working day 5
  (`DECISION_WORKING_DAYS`, radar.dutch_calendar): a decision on the weekend after day 5 is
  late. Norm: 90 % of reports (`DECISION_NORM`).
- Late without a decision: not decided and today is past working day 5; it counts as late at
  once, so a backlog cannot improve the figure. Not decided and not yet past day 5: pending,
  outside the share until it is decided or late.
- A reminder is due from working day 3 (`REMINDER_WORKING_DAY`) while there is no decision, so
  the worklist shows a report two working days before it is late.
- An investigation starts with the decision own_investigation and is closed in time when its
  closure's Dutch date is at most 10 weeks (70 calendar days, `INVESTIGATION_WEEKS`) after the
  decision's date. Norm: 80 % (`INVESTIGATION_NORM`). Open past 10 weeks: late; open within
  them: pending.
- The period a report belongs to is that of its report date; its investigation belongs to the
  same period, so one row follows the same reports from report to closure.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from radar.dutch_calendar import add_working_days

DECISION_WORKING_DAYS = 5
DECISION_NORM = Decimal("0.90")
REMINDER_WORKING_DAY = 3
INVESTIGATION_WEEKS = 10
INVESTIGATION_NORM = Decimal("0.80")
OWN_INVESTIGATION = "own_investigation"  # radar.safety_assessment.SafetyDecision


@dataclass(frozen=True)
class ReportDates:
    """What the lead times need of one report: its region and the Dutch dates of its steps."""

    report_id: str
    region: str
    reported_on: date
    decided_on: date | None = None
    decision: str | None = None
    closed_on: date | None = None  # the investigation's closure

    @property
    def decision_due(self) -> date:
        return add_working_days(self.reported_on, DECISION_WORKING_DAYS)

    @property
    def reminder_from(self) -> date:
        return add_working_days(self.reported_on, REMINDER_WORKING_DAY)

    @property
    def investigation_due(self) -> date | None:
        if self.decision != OWN_INVESTIGATION or self.decided_on is None:
            return None
        return self.decided_on + timedelta(weeks=INVESTIGATION_WEEKS)


@dataclass(frozen=True)
class Norm:
    """One norm over a set of items: how many in time, late, and still pending."""

    norm: Decimal
    in_time: int = 0
    late: int = 0
    pending: int = 0

    @property
    def share(self) -> Decimal | None:
        """The share in time of the items whose outcome is known; None when there are none."""
        known = self.in_time + self.late
        if not known:
            return None
        return (Decimal(self.in_time) / known).quantize(Decimal("0.001"), ROUND_HALF_UP)

    @property
    def met(self) -> bool | None:
        share = self.share
        return None if share is None else share >= self.norm

    def counted(self, in_time: bool | None) -> Norm:
        """This norm with one more item: in time, late, or pending (None)."""
        if in_time is None:
            return Norm(self.norm, self.in_time, self.late, self.pending + 1)
        if in_time:
            return Norm(self.norm, self.in_time + 1, self.late, self.pending)
        return Norm(self.norm, self.in_time, self.late + 1, self.pending)


@dataclass(frozen=True)
class RegionLeadTimes:
    """One row of the table: a region's reports of the period and both norms."""

    region: str
    reports: int
    decisions: Norm
    investigations: Norm


def decided_in_time(report: ReportDates, today: date) -> bool | None:
    """True or False once known, None while pending (see the module's definitions)."""
    if report.decided_on is not None:
        return report.decided_on <= report.decision_due
    return False if today > report.decision_due else None


def closed_in_time(report: ReportDates, today: date) -> bool | None:
    due = report.investigation_due
    assert due is not None, "only for own investigations"
    if report.closed_on is not None:
        return report.closed_on <= due
    return False if today > due else None


def reminder_due(report: ReportDates, today: date) -> bool:
    """Whether the worklist should show the report: no decision, and working day 3 reached."""
    return report.decided_on is None and today >= report.reminder_from


def lead_time_table(
    reports: Iterable[ReportDates], first: date, last: date, today: date
) -> list[RegionLeadTimes]:
    """Per region (sorted), the reports dated in [first, last] and both norms as of `today`."""
    rows: dict[str, RegionLeadTimes] = {}
    for report in reports:
        if not first <= report.reported_on <= last:
            continue
        row = rows.get(report.region) or RegionLeadTimes(
            report.region, 0, Norm(DECISION_NORM), Norm(INVESTIGATION_NORM)
        )
        investigations = row.investigations
        if report.investigation_due is not None:
            investigations = investigations.counted(closed_in_time(report, today))
        rows[report.region] = RegionLeadTimes(
            report.region,
            row.reports + 1,
            row.decisions.counted(decided_in_time(report, today)),
            investigations,
        )
    return [rows[region] for region in sorted(rows)]
