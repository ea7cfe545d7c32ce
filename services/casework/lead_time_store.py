"""The lead-time read model: every report (a vt_report signal), its region, the Dutch dates of
its receipt, decision and investigation, and the reminder raised for it.

One row per report, found by the report's lookup digest; the household (by its digest) and the
sealed pseudonym and report id, as in the other casework read models (services/casework/
sealing.py): erasing the household leaves its rows naming nobody, and retention deletes them by
the household column. What the table and the reminders filter on (region, dates, decision,
outcome) names nobody and stays plain. Rebuilt from the event store like every read model.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from eventsourcing.utils import get_topic
from sqlalchemy import (
    Column,
    Date,
    DateTime,
    MetaData,
    String,
    Table,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection

from radar.alerts import AlertKind
from radar.case import HouseholdCase
from radar.case_assessment import REPORT_TYPE, InvestigationClosed, SafetyAssessmentRecorded
from radar.household import Household
from radar.lead_times import ReportDates
from radar.safety import dutch_date
from services.casework.sealing import SealedReadModel, SealedTable, sealed_column
from services.database import stored_utc
from services.projections.positions import reset_position

LEAD_TIME_PROJECTION = "radar_lead_times"

metadata = MetaData()

reports = Table(
    "radar_report_lead_times",
    metadata,
    Column("report", String(64), primary_key=True),  # the report's lookup digest
    Column("household", String(64), nullable=False, index=True),  # lookup digest
    Column("region", String(8), nullable=False, index=True),
    Column("reported_at", DateTime(timezone=True), nullable=False),
    Column("reported_on", Date, nullable=False, index=True),  # Dutch date: working day 0
    Column("reminder_on", Date, nullable=False),  # working day 3
    Column("decision_due", Date, nullable=False),  # working day 5
    Column("decided_on", Date),
    Column("decision", String(32)),
    Column("closed_on", Date),  # the own investigation's closure
    Column("outcome", String(16)),
    Column("reminder_alert", String(36)),
    sealed_column(),  # household, report_id
)

REPORTS = SealedTable(
    reports,
    ("report",),
    "report_id household region reported_at reported_on reminder_on decision_due decided_on "
    "decision closed_on outcome reminder_alert",
    ("report_id",),
)

_RECORDED = get_topic(Household.SignalRecorded)
_CORRECTED = get_topic(Household.SignalCorrected)
_RETRACTED = get_topic(Household.SignalRetracted)
_ASSESSED = get_topic(SafetyAssessmentRecorded)
_CLOSED = get_topic(InvestigationClosed)
_RAISED = get_topic(HouseholdCase.AlertRaised)


class LeadTimeStore(SealedReadModel):
    """Reads and writes the lead-time table (a ReadModel)."""

    name = LEAD_TIME_PROJECTION
    topics: tuple[str, ...] = (_RECORDED, _CORRECTED, _RETRACTED, _ASSESSED, _CLOSED, _RAISED)
    tables = metadata
    format = 2  # households and reports by digest, pseudonym and report id sealed

    def reset(self) -> None:
        with self.engine.begin() as connection:
            connection.execute(delete(reports))
            reset_position(connection, self.name)

    # --- queries ----------------------------------------------------------------------------

    def report_dates(self, first: date, last: date) -> list[ReportDates]:
        """The reports dated in [first, last], as the lead-time table counts them (no
        household or report id is opened: the table names neither)."""
        query = (
            select(reports)
            .where(reports.c.reported_on >= first, reports.c.reported_on <= last)
            .order_by(reports.c.region, reports.c.reported_on, reports.c.report)
        )
        with self.engine.connect() as connection:
            return [
                ReportDates(
                    report_id=row.report,
                    region=row.region,
                    reported_on=row.reported_on,
                    decided_on=row.decided_on,
                    decision=row.decision,
                    closed_on=row.closed_on,
                )
                for row in connection.execute(query)
            ]

    def due_reminders(self, today: date) -> list[tuple[str, str]]:
        """(household, report id) of reports without a decision or a reminder whose
        working day 3 has come."""
        query = (
            select(reports)
            .where(
                reports.c.decided_on.is_(None),
                reports.c.reminder_alert.is_(None),
                reports.c.reminder_on <= today,
            )
            .order_by(reports.c.reminder_on, reports.c.report)
        )
        with self.engine.connect() as connection:
            raws = [row._mapping for row in connection.execute(query)]
        self.rows.prefetch(raw["household"] for raw in raws)
        opened = (self.rows.open_row(REPORTS, raw) for raw in raws)
        return [(r["household"], r["report_id"]) for r in opened if r is not None]

    def rows_about(self, households: Sequence[str] | None) -> dict[str, list[dict[str, Any]]]:
        """The rows about these households (all for None), as they read: for an audit."""
        with self.engine.connect() as connection:
            return {reports.name: self.rows.read(connection, REPORTS, households)}

    def dump(self) -> dict[str, list[dict[str, Any]]]:
        """Every row as it reads, in report order: for comparing with a rebuild."""
        rows = self.rows_about(None)[reports.name]
        return {"reports": [{**r, "reported_at": stored_utc(r["reported_at"])} for r in rows]}

    # --- applying events --------------------------------------------------------------------

    def _apply(self, connection: Connection, event: Any) -> None:
        if isinstance(event, Household.SignalRecorded):
            if event.signal_type == REPORT_TYPE:
                self._record(connection, event)
        elif isinstance(event, Household.SignalCorrected | Household.SignalRetracted):
            self._corrected(connection, event)
        elif isinstance(event, SafetyAssessmentRecorded):
            self._update(
                connection,
                event.report_id,
                decided_on=dutch_date(event.assessed_at),
                decision=event.decision,
            )
        elif isinstance(event, InvestigationClosed):
            self._update(
                connection,
                event.report_id,
                closed_on=dutch_date(event.closed_at),
                outcome=event.outcome,
            )
        elif isinstance(event, HouseholdCase.AlertRaised) and event.kind == AlertKind.DECISION_DUE:
            [report_id] = event.trigger_signals
            self._update(connection, report_id, reminder_alert=event.alert_id)

    def _record(self, connection: Connection, event: Household.SignalRecorded) -> None:
        report_id = str(event.signal_id)
        dates = ReportDates(report_id, event.region, dutch_date(event.occurred_at))
        sealed = {"household": event.household, "report_id": report_id}
        digest = self.rows.digests.signal(report_id)
        connection.execute(
            insert(reports).values(
                report=digest,
                household=self.rows.household(event.household),
                region=event.region,
                reported_at=stored_utc(event.occurred_at),
                reported_on=dates.reported_on,
                reminder_on=dates.reminder_from,
                decision_due=dates.decision_due,
                sealed=self.rows.seal(connection, reports, event.household, (digest,), sealed),
            )
        )

    def _corrected(
        self, connection: Connection, event: Household.SignalCorrected | Household.SignalRetracted
    ) -> None:
        """A report not yet decided follows its correction: a new date, or (retracted, or no
        longer a report) no row; a decided report keeps the date it was decided against."""
        digest = self.rows.digests.signal(str(event.signal_id))
        undecided = (reports.c.report == digest) & reports.c.decided_on.is_(None)
        still_a_report = isinstance(event, Household.SignalCorrected) and (
            event.signal_type == REPORT_TYPE
        )
        if not still_a_report:
            connection.execute(delete(reports).where(undecided))
            return
        assert isinstance(event, Household.SignalCorrected)
        dates = ReportDates("", "", dutch_date(event.occurred_at))
        connection.execute(
            update(reports)
            .where(undecided)
            .values(
                reported_at=stored_utc(event.occurred_at),
                reported_on=dates.reported_on,
                reminder_on=dates.reminder_from,
                decision_due=dates.decision_due,
            )
        )

    def _update(self, connection: Connection, report_id: str, **values: Any) -> None:
        digest = self.rows.digests.signal(report_id)
        connection.execute(update(reports).where(reports.c.report == digest).values(**values))
