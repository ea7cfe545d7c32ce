"""The monitoring read model: safety conditions per household, their check dates (assessed,
reminded or still to come) and how monitoring ended, per region. The reminder step reads the
due checks from here; analysts read a region's monitoring overview and outcome figures.

Format 2: rows are found by the household's lookup digest and seal its pseudonym, the agreed
conditions and the breaching signals' ids under the household's row key
(services/casework/sealing.py). A breach appends its own sealed entry to `breaches`, so the
projector never has to open a row inside its write transaction.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
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
from services.casework.sealing import (
    SEALED,
    SealedReadModel,
    SealedTable,
    logical,
    sealed_column,
)
from services.database import stored_utc
from services.projections.positions import (
    reset_position,
)

SAFETY_PROJECTION = "radar_monitoring"

metadata = MetaData()

regions = Table(
    "radar_monitoring_regions",
    metadata,
    Column("household", String(64), primary_key=True),  # the household's lookup digest
    Column("region", String(8), nullable=False),
    sealed_column(),  # household
)

BREACH = "breach"

plans = Table(
    "radar_safety_plans",
    metadata,
    Column("plan_id", String(36), primary_key=True),
    Column("household", String(64), nullable=False, index=True),  # lookup digest
    Column("excluded_signal_types", JSON, nullable=False),
    Column("starts_on", Date, nullable=False),
    Column("ends_on", Date, nullable=False),
    Column("recorded_by", JSON, nullable=False),  # staff
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("breaches", JSON, nullable=False),  # one sealed entry (base64) per breach alert
    Column("closed", Boolean, nullable=False),
    Column("safety_achieved", Boolean),
    Column("closed_by", JSON),  # staff
    Column("closing_note", String(2000)),  # checked free text; the event names no household
    sealed_column(),  # household, conditions
)

checks = Table(
    "radar_safety_checks",
    metadata,
    Column("plan_id", String(36), primary_key=True),
    Column("check_date", Date, primary_key=True),
    Column("household", String(64), nullable=False, index=True),  # lookup digest
    Column("assessed", Boolean, nullable=False),
    Column("conditions_kept", Boolean),
    Column("reminder_alert", String(36)),
    sealed_column(),  # household
)

# The rows as they read (their columns before sealing: the answers keep their shape).
REGIONS = SealedTable(regions, (), "household region", ("household",))
PLANS = SealedTable(
    plans,
    ("plan_id",),
    "plan_id household conditions excluded_signal_types starts_on ends_on recorded_by "
    "recorded_at breaches closed safety_achieved closed_by closing_note",
    ("plan_id",),
)
CHECKS = SealedTable(
    checks,
    ("plan_id", "check_date"),
    "plan_id check_date household assessed conditions_kept reminder_alert",
    ("plan_id", "check_date"),
)

_REGION = get_topic(Household.RegionAssigned)
_RECORDED = get_topic(HouseholdCase.SafetyConditionsRecorded)
_ASSESSED = get_topic(HouseholdCase.CheckAssessed)
_CLOSED = get_topic(HouseholdCase.MonitoringClosed)
_RAISED = get_topic(HouseholdCase.AlertRaised)


class SafetyStore(SealedReadModel):
    """Reads and writes the monitoring tables (a ReadModel)."""

    name = SAFETY_PROJECTION
    topics: tuple[str, ...] = (_REGION, _RECORDED, _ASSESSED, _CLOSED, _RAISED)
    tables = metadata
    format = 2  # households by digest, pseudonyms, conditions and signal ids sealed

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
            select(checks)
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
            raws = [row._mapping for row in connection.execute(query)]
        self.rows.prefetch(raw["household"] for raw in raws)
        opened = (self.rows.open_row(CHECKS, raw) for raw in raws)
        return [(c["household"], c["plan_id"], c["check_date"]) for c in opened if c is not None]

    def region_plans(self, region: str) -> list[dict[str, Any]]:
        """The region's conditions under monitoring, each with its check dates."""
        with self.engine.connect() as connection:
            found = [
                row._mapping
                for row in connection.execute(
                    select(plans)
                    .join(regions, regions.c.household == plans.c.household)
                    .where(regions.c.region == region, plans.c.closed.is_(False))
                    .order_by(plans.c.starts_on, plans.c.plan_id)
                )
            ]
            self.rows.prefetch(raw["household"] for raw in found)
            result = []
            for raw in found:
                plan = self._plan(raw)
                if plan is None:  # erased a moment ago
                    continue
                plan["checks"] = [
                    logical(check._mapping, {"household": plan["household"]}, CHECKS.names())
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

    def rows_about(self, households: Sequence[str] | None) -> dict[str, list[dict[str, Any]]]:
        """Each table's rows about these households (all rows for None), as they read: what
        an audit report shows."""
        with self.engine.connect() as connection:
            return {
                regions.name: self.rows.read(connection, REGIONS, households),
                plans.name: self.rows.read(connection, PLANS, households, self._plan),
                checks.name: self.rows.read(connection, CHECKS, households),
            }

    def dump(self) -> dict[str, list[dict[str, Any]]]:
        """Every row as it reads, in key order: for comparing with a rebuild."""
        every = self.rows_about(None)
        return {
            name: [
                {k: stored_utc(v) if k == "recorded_at" else v for k, v in row.items()}
                for row in every[table.name]
            ]
            for name, table in (("regions", regions), ("plans", plans), ("checks", checks))
        }

    def _plan(self, raw: Mapping[Any, Any]) -> dict[str, Any] | None:
        """A plan as it reads, its breaches opened one by one."""
        plan = self.rows.open_row(PLANS, raw)
        if plan is None:
            return None
        breaches: list[str] = []
        for n, entry in enumerate(raw["breaches"]):
            key = (raw["plan_id"], str(n))
            opened = self.rows.open(plans, raw["household"], key, _unb64(entry), BREACH)
            breaches.extend([] if opened is None else opened["signals"])
        plan["breaches"] = breaches
        return plan

    # --- applying events --------------------------------------------------------------------

    def _apply(self, connection: Connection, event: Any) -> None:
        if isinstance(event, Household.RegionAssigned):
            digest = self.rows.household(event.household)
            moved = connection.execute(
                update(regions).where(regions.c.household == digest).values(region=event.region)
            )
            if moved.rowcount == 0:
                sealed = self.rows.seal(
                    connection, regions, event.household, (), {"household": event.household}
                )
                connection.execute(
                    insert(regions).values(household=digest, region=event.region, sealed=sealed)
                )
        elif isinstance(event, HouseholdCase.SafetyConditionsRecorded):
            self._record_plan(connection, event)
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
            self._alert_about_plan(connection, event)

    def _record_plan(
        self, connection: Connection, event: HouseholdCase.SafetyConditionsRecorded
    ) -> None:
        household = event.household
        sealed = {"household": household, "conditions": event.conditions}
        connection.execute(
            insert(plans).values(
                plan_id=event.plan_id,
                household=self.rows.household(household),
                excluded_signal_types=event.excluded_signal_types,
                starts_on=date.fromisoformat(event.starts_on),
                ends_on=date.fromisoformat(event.ends_on),
                recorded_by=event.by,
                recorded_at=stored_utc(event.timestamp),
                breaches=[],
                closed=False,
                sealed=self.rows.seal(connection, plans, household, (event.plan_id,), sealed),
            )
        )
        check_dates = [date.fromisoformat(d) for d in event.check_dates]
        connection.execute(
            insert(checks),
            [
                {
                    "plan_id": event.plan_id,
                    "check_date": d,
                    "household": self.rows.household(household),
                    "assessed": False,
                    SEALED: self.rows.seal(
                        connection,
                        checks,
                        household,
                        (event.plan_id, str(d)),
                        {"household": household},
                    ),
                }
                for d in check_dates
            ],
        )

    def _alert_about_plan(self, connection: Connection, event: HouseholdCase.AlertRaised) -> None:
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
            assert event.plan_id is not None
            breaches = connection.execute(
                select(plans.c.breaches).where(plans.c.plan_id == event.plan_id)
            ).scalar_one()
            entry = self.rows.seal(
                connection,
                plans,
                event.household,
                (event.plan_id, str(len(breaches))),
                {"signals": event.trigger_signals},
                BREACH,
            )
            connection.execute(
                update(plans)
                .where(plans.c.plan_id == event.plan_id)
                .values(breaches=[*breaches, base64.b64encode(entry).decode()])
            )


def _unb64(entry: str) -> bytes:
    return base64.b64decode(entry)
