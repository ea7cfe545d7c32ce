"""The monitoring read model: safety conditions per household, their check dates (assessed,
reminded or still to come) and how monitoring ended, per region. The reminder step reads the
due checks from here; analysts read a region's monitoring overview and outcome figures."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from eventsourcing.utils import get_topic
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    MetaData,
    String,
    Table,
    and_,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection

from radar.alerts import AlertKind
from radar.case import HouseholdCase
from radar.household import Household
from services.database import stored_utc
from services.projections.positions import (
    PositionedTables,
    move_position,
    reset_position,
)

SAFETY_PROJECTION = "radar_monitoring"

metadata = MetaData()

regions = Table(
    "radar_monitoring_regions",
    metadata,
    Column("household", String(64), primary_key=True),
    Column("region", String(8), nullable=False),
)

plans = Table(
    "radar_safety_plans",
    metadata,
    Column("plan_id", String(36), primary_key=True),
    Column("household", String(64), nullable=False, index=True),
    Column("conditions", JSON, nullable=False),
    Column("excluded_signal_types", JSON, nullable=False),
    Column("starts_on", Date, nullable=False),
    Column("ends_on", Date, nullable=False),
    Column("recorded_by", JSON, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("breaches", JSON, nullable=False),
    Column("closed", Boolean, nullable=False),
    Column("safety_achieved", Boolean),
    Column("closed_by", JSON),
    Column("closing_note", String(2000)),
)

checks = Table(
    "radar_safety_checks",
    metadata,
    Column("plan_id", String(36), primary_key=True),
    Column("check_date", Date, primary_key=True),
    Column("household", String(64), nullable=False, index=True),
    Column("assessed", Boolean, nullable=False),
    Column("conditions_kept", Boolean),
    Column("reminder_alert", String(36)),
)

_REGION = get_topic(Household.RegionAssigned)
_RECORDED = get_topic(HouseholdCase.SafetyConditionsRecorded)
_ASSESSED = get_topic(HouseholdCase.CheckAssessed)
_CLOSED = get_topic(HouseholdCase.MonitoringClosed)
_RAISED = get_topic(HouseholdCase.AlertRaised)


class SafetyStore(PositionedTables):
    """Reads and writes the monitoring tables (a ReadModel)."""

    name = SAFETY_PROJECTION
    topics: tuple[str, ...] = (_REGION, _RECORDED, _ASSESSED, _CLOSED, _RAISED)
    tables = metadata

    def apply_events(
        self, events: Sequence[tuple[int, Any]], expected: int, new_position: int
    ) -> None:
        with self.engine.begin() as connection:
            move_position(connection, self.name, expected, new_position)
            for _, event in events:
                _apply(connection, event)

    def reset(self) -> None:
        with self.engine.begin() as connection:
            for table in (checks, plans, regions):
                connection.execute(delete(table))
            reset_position(connection, self.name)

    # --- queries ----------------------------------------------------------------------------

    def due_checks(self, today: date) -> list[tuple[str, str, date]]:
        """(household, plan id, check date) of checks before today, in monitoring still
        running, with neither an assessment nor a reminder."""
        query = (
            select(checks.c.household, checks.c.plan_id, checks.c.check_date)
            .join(plans, plans.c.plan_id == checks.c.plan_id)
            .where(
                checks.c.check_date < today,
                checks.c.assessed.is_(False),
                checks.c.reminder_alert.is_(None),
                plans.c.closed.is_(False),
            )
            .order_by(checks.c.check_date, checks.c.plan_id)
        )
        with self.engine.connect() as connection:
            return [(row[0], row[1], row[2]) for row in connection.execute(query)]

    def region_plans(self, region: str) -> list[dict[str, Any]]:
        """The region's conditions under monitoring, each with its check dates."""
        with self.engine.connect() as connection:
            found = connection.execute(
                select(plans)
                .join(regions, regions.c.household == plans.c.household)
                .where(regions.c.region == region, plans.c.closed.is_(False))
                .order_by(plans.c.starts_on, plans.c.plan_id)
            ).all()
            result = []
            for row in found:
                plan = dict(row._mapping)
                plan["checks"] = [
                    dict(check._mapping)
                    for check in connection.execute(
                        select(checks)
                        .where(checks.c.plan_id == plan["plan_id"])
                        .order_by(checks.c.check_date)
                    )
                ]
                result.append(plan)
        return result

    def outcomes(self, region: str) -> dict[str, int]:
        """How monitoring ended in the region: the programme's outcome measure."""
        query = (
            select(plans.c.safety_achieved, func.count())
            .join(regions, regions.c.household == plans.c.household)
            .where(regions.c.region == region, plans.c.closed.is_(True))
            .group_by(plans.c.safety_achieved)
        )
        with self.engine.connect() as connection:
            counts = {bool(achieved): n for achieved, n in connection.execute(query)}
        return {"safety_achieved": counts.get(True, 0), "not_achieved": counts.get(False, 0)}

    def dump(self) -> dict[str, list[dict[str, Any]]]:
        """Every row, in key order: for comparing with a rebuild."""
        ordered = {
            "regions": (regions, [regions.c.household]),
            "plans": (plans, [plans.c.plan_id]),
            "checks": (checks, [checks.c.plan_id, checks.c.check_date]),
        }
        with self.engine.connect() as connection:
            return {
                name: [
                    {k: stored_utc(v) if k == "recorded_at" else v for k, v in row._mapping.items()}
                    for row in connection.execute(select(table).order_by(*keys))
                ]
                for name, (table, keys) in ordered.items()
            }


def _apply(connection: Connection, event: Any) -> None:
    if isinstance(event, Household.RegionAssigned):
        moved = connection.execute(
            update(regions)
            .where(regions.c.household == event.household)
            .values(region=event.region)
        )
        if moved.rowcount == 0:
            connection.execute(
                insert(regions).values(household=event.household, region=event.region)
            )
    elif isinstance(event, HouseholdCase.SafetyConditionsRecorded):
        _record_plan(connection, event)
    elif isinstance(event, HouseholdCase.CheckAssessed):
        connection.execute(
            update(checks)
            .where(
                and_(
                    checks.c.plan_id == event.plan_id,
                    checks.c.check_date == date.fromisoformat(event.check_date),
                )
            )
            .values(assessed=True, conditions_kept=event.conditions_kept)
        )
    elif isinstance(event, HouseholdCase.MonitoringClosed):
        connection.execute(
            update(plans)
            .where(plans.c.plan_id == event.plan_id)
            .values(
                closed=True,
                safety_achieved=event.safety_achieved,
                closed_by=event.by,
                closing_note=event.note,
            )
        )
    elif isinstance(event, HouseholdCase.AlertRaised) and event.plan_id:
        _alert_about_plan(connection, event)


def _record_plan(connection: Connection, event: HouseholdCase.SafetyConditionsRecorded) -> None:
    connection.execute(
        insert(plans).values(
            plan_id=event.plan_id,
            household=event.household,
            conditions=event.conditions,
            excluded_signal_types=event.excluded_signal_types,
            starts_on=date.fromisoformat(event.starts_on),
            ends_on=date.fromisoformat(event.ends_on),
            recorded_by=event.by,
            recorded_at=stored_utc(event.timestamp),
            breaches=[],
            closed=False,
        )
    )
    connection.execute(
        insert(checks),
        [
            {
                "plan_id": event.plan_id,
                "check_date": date.fromisoformat(d),
                "household": event.household,
                "assessed": False,
            }
            for d in event.check_dates
        ],
    )


def _alert_about_plan(connection: Connection, event: HouseholdCase.AlertRaised) -> None:
    if event.kind == AlertKind.CHECK_OVERDUE:
        assert event.check_date is not None  # a reminder always names its check date
        connection.execute(
            update(checks)
            .where(
                and_(
                    checks.c.plan_id == event.plan_id,
                    checks.c.check_date == date.fromisoformat(event.check_date),
                )
            )
            .values(reminder_alert=event.alert_id)
        )
    elif event.kind == AlertKind.BREACH:
        breaches = connection.execute(
            select(plans.c.breaches).where(plans.c.plan_id == event.plan_id)
        ).scalar_one()
        connection.execute(
            update(plans)
            .where(plans.c.plan_id == event.plan_id)
            .values(breaches=[*breaches, *event.trigger_signals])
        )
