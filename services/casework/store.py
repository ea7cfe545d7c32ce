"""The regional worklist read model: alerts with their lifecycle, each household's latest score
and explanation, and the risk model versions adopted. One position, moved with the rows.

Rows and the position move together in one transaction, from the position this writer read,
exactly like the timeline (see timeline_store.py), so projectors may run side by side.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from eventsourcing.utils import get_topic
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Integer,
    MetaData,
    RowMapping,
    String,
    Table,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection

from radar.case import HouseholdCase
from radar.household import Household
from radar.model_history import RiskModelHistory
from radar.risk import Contribution
from radar.risk_model import RiskModel
from radar.worklist import WorklistEntry
from services.database import stored_utc
from services.projections.positions import (
    PositionedTables,
    move_position,
    reset_position,
)

WORKLIST_PROJECTION = "radar_worklist"

metadata = MetaData()

household_scores = Table(
    "radar_household_scores",
    metadata,
    Column("household", String(64), primary_key=True),
    Column("region", String(8), index=True),
    Column("score", String(24)),
    Column("as_of", DateTime(timezone=True)),
    Column("model_version", Integer),
    Column("contributions", JSON),
    Column("children_present", Boolean),
    Column("child_scores", JSON),
)

alerts = Table(
    "radar_alerts",
    metadata,
    Column("alert_id", String(36), primary_key=True),
    Column("household", String(64), nullable=False, index=True),
    Column("region", String(8), nullable=False, index=True),
    Column("kind", String(24), nullable=False),
    Column("reasons", JSON, nullable=False),
    Column("status", String(16), nullable=False, index=True),
    Column("raised_at", DateTime(timezone=True), nullable=False),
    Column("score_at_raise", String(24), nullable=False),
    Column("model_version_at_raise", Integer, nullable=False),
    Column("explanation_at_raise", JSON, nullable=False),
    Column("children_present", Boolean, nullable=False),
    Column("sectors", JSON, nullable=False),
    Column("trigger_signals", JSON, nullable=False),
    Column("plan_id", String(36)),
    Column("check_date", String(10)),
    Column("steps", JSON, nullable=False),
)

model_versions = Table(
    "radar_model_versions",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("fingerprint", String(64), nullable=False),
    Column("content", JSON, nullable=False),
    Column("adopted_at", DateTime(timezone=True), nullable=False),
    Column("adopted_by", JSON),
    Column("reason", String(2000), nullable=False),
)

_SCORE = get_topic(Household.ScoreChanged)
_REGION = get_topic(Household.RegionAssigned)
_RAISED = get_topic(HouseholdCase.AlertRaised)
_ACKNOWLEDGED = get_topic(HouseholdCase.AlertAcknowledged)
_TRIAGED = get_topic(HouseholdCase.AlertTriaged)
_CLOSED = get_topic(HouseholdCase.AlertClosed)
_TRANSFERRED = get_topic(HouseholdCase.AlertsTransferred)
_ADOPTED = get_topic(RiskModelHistory.ModelAdopted)


class WorklistStore(PositionedTables):
    """Reads and writes the worklist tables (a ReadModel)."""

    name = WORKLIST_PROJECTION
    topics: tuple[str, ...] = (
        _SCORE,
        _REGION,
        _RAISED,
        _ACKNOWLEDGED,
        _TRIAGED,
        _CLOSED,
        _TRANSFERRED,
        _ADOPTED,
    )
    tables = metadata

    def apply_events(
        self, events: Sequence[tuple[int, Any]], expected: int, new_position: int
    ) -> None:
        """Applies the events and moves the position from `expected`, in one transaction."""
        with self.engine.begin() as connection:
            move_position(connection, self.name, expected, new_position)
            for _, event in events:
                self._apply(connection, event)

    def reset(self) -> None:
        with self.engine.begin() as connection:
            for table in (household_scores, alerts, model_versions):
                connection.execute(delete(table))
            reset_position(connection, self.name)

    # --- queries ----------------------------------------------------------------------------

    def open_alerts(self, region: str) -> list[WorklistEntry]:
        """The region's alerts that are not closed, with the households' latest scores."""
        query = (
            select(alerts, household_scores)
            .join(household_scores, household_scores.c.household == alerts.c.household)
            .where(alerts.c.region == region, alerts.c.status != "closed")
        )
        with self.engine.connect() as connection:
            rows = connection.execute(query).all()
        return [_entry(row._mapping) for row in rows]

    def alert(self, alert_id: str) -> dict[str, Any] | None:
        """One alert as stored (for the lifecycle routes: whose, where, in which state)."""
        with self.engine.connect() as connection:
            row = connection.execute(select(alerts).where(alerts.c.alert_id == alert_id)).first()
        return None if row is None else _comparable(dict(row._mapping))

    def household_alerts(self, household: str) -> list[dict[str, Any]]:
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(alerts)
                .where(alerts.c.household == household)
                .order_by(alerts.c.raised_at, alerts.c.alert_id)
            ).all()
        return [_comparable(dict(row._mapping)) for row in rows]

    def household_score(self, household: str) -> dict[str, Any] | None:
        with self.engine.connect() as connection:
            row = connection.execute(
                select(household_scores).where(household_scores.c.household == household)
            ).first()
        return None if row is None else _comparable(dict(row._mapping))

    def household_region(self, household: str) -> str | None:
        found = self.household_score(household)
        return None if found is None else found["region"]

    def model_in_force(self) -> RiskModel | None:
        with self.engine.connect() as connection:
            row = connection.execute(
                select(model_versions.c.content).order_by(model_versions.c.version.desc())
            ).first()
        return None if row is None else RiskModel.model_validate(row[0])

    def model_versions(self) -> list[dict[str, Any]]:
        with self.engine.connect() as connection:
            rows = connection.execute(select(model_versions).order_by(model_versions.c.version))
            return [_comparable(dict(row._mapping)) for row in rows]

    def dump(self) -> dict[str, list[dict[str, Any]]]:
        """Every row of every table, in key order: for comparing with a rebuild."""
        keyed = {
            "household_scores": (household_scores, household_scores.c.household),
            "alerts": (alerts, alerts.c.alert_id),
            "model_versions": (model_versions, model_versions.c.version),
        }
        with self.engine.connect() as connection:
            return {
                name: [
                    _comparable(dict(row._mapping))
                    for row in connection.execute(select(table).order_by(key))
                ]
                for name, (table, key) in keyed.items()
            }

    # --- applying events --------------------------------------------------------------------

    def _apply(self, connection: Connection, event: Any) -> None:
        if isinstance(event, Household.ScoreChanged):
            _upsert_score(connection, event.household, _score_row(event))
        elif isinstance(event, Household.RegionAssigned):
            _upsert_score(connection, event.household, {"region": event.region})
        elif isinstance(event, HouseholdCase.AlertRaised):
            connection.execute(insert(alerts).values(**_alert_row(event)))
        elif isinstance(event, HouseholdCase.AlertAcknowledged):
            self._append_step(connection, event.alert_id, _step_record(event, "acknowledged"))
        elif isinstance(event, HouseholdCase.AlertTriaged):
            step = _step_record(event, "triaged", outcome=event.outcome, reason=event.reason)
            self._append_step(connection, event.alert_id, step)
        elif isinstance(event, HouseholdCase.AlertClosed):
            self._append_step(
                connection, event.alert_id, _step_record(event, "closed", reason=event.reason)
            )
        elif isinstance(event, HouseholdCase.AlertsTransferred):
            connection.execute(
                update(alerts)
                .where(alerts.c.alert_id.in_(event.alert_ids))
                .values(region=event.to_region)
            )
        elif isinstance(event, RiskModelHistory.ModelAdopted):
            connection.execute(
                insert(model_versions).values(
                    version=event.version,
                    fingerprint=event.fingerprint,
                    content=event.content,
                    adopted_at=stored_utc(event.adopted_at),
                    adopted_by=event.by,
                    reason=event.reason,
                )
            )

    @staticmethod
    def _append_step(connection: Connection, alert_id: str, step: dict[str, Any]) -> None:
        steps = connection.execute(
            select(alerts.c.steps).where(alerts.c.alert_id == alert_id)
        ).scalar_one()
        connection.execute(
            update(alerts)
            .where(alerts.c.alert_id == alert_id)
            .values(status=step["status"], steps=[*steps, step])
        )


def _step_record(
    event: HouseholdCase.AlertAcknowledged | HouseholdCase.AlertTriaged | HouseholdCase.AlertClosed,
    status: str,
    **details: str,
) -> dict[str, Any]:
    """One lifecycle step as the alert's row keeps it."""
    return {
        "status": status,
        "by": event.by,
        "at": stored_utc(event.timestamp).isoformat(),
        **details,
    }


def _upsert_score(connection: Connection, household: str, row: dict[str, Any]) -> None:
    """Updates the household's row, or inserts it; safe because the position row, updated
    first in the same transaction, serialises the writers."""
    moved = connection.execute(
        update(household_scores).where(household_scores.c.household == household).values(**row)
    )
    if moved.rowcount == 0:
        connection.execute(insert(household_scores).values(household=household, **row))


def _score_row(event: Household.ScoreChanged) -> dict[str, Any]:
    return {
        "score": str(event.score),
        "as_of": stored_utc(event.as_of),
        "model_version": event.model_version,
        "contributions": [_json_contribution(c) for c in event.contributions],
        "children_present": event.children_present,
        "child_scores": {k: str(v) for k, v in sorted(event.child_scores.items())},
    }


def _alert_row(event: HouseholdCase.AlertRaised) -> dict[str, Any]:
    return {
        "alert_id": event.alert_id,
        "household": event.household,
        "region": event.region,
        "kind": event.kind,
        "reasons": event.reasons,
        "status": "raised",
        "raised_at": stored_utc(event.raised_at),
        "score_at_raise": str(event.score),
        "model_version_at_raise": event.model_version,
        "explanation_at_raise": [_json_contribution(c) for c in event.contributions],
        "children_present": event.children_present,
        "sectors": event.sectors,
        "trigger_signals": event.trigger_signals,
        "plan_id": event.plan_id,
        "check_date": event.check_date,
        "steps": [],
    }


def _entry(values: RowMapping) -> WorklistEntry:
    return WorklistEntry(
        alert_id=values["alert_id"],
        household=values["household"],
        region=values["region"],
        kind=values["kind"],
        reasons=tuple(values["reasons"]),
        status=values["status"],
        raised_at=stored_utc(values["raised_at"]),
        score_at_raise=Decimal(values["score_at_raise"]),
        sectors=tuple(values["sectors"]),
        plan_id=values["plan_id"],
        check_date=values["check_date"],
        steps=tuple(values["steps"]),
        score=Decimal(values["score"] or "0"),
        score_as_of=stored_utc(values["as_of"] or values["raised_at"]),
        model_version=values["model_version"],
        contributions=tuple(contribution(c) for c in values["contributions"] or ()),
        children_present=bool(values["children_present"]),
    )


def contribution(record: dict[str, Any]) -> Contribution:
    """A contribution read back from a JSON column."""
    return Contribution.from_record(
        {**record, "occurred_at": datetime.fromisoformat(record["occurred_at"])}
    )


def _json_contribution(record: dict[str, Any]) -> dict[str, Any]:
    return {**record, "occurred_at": stored_utc(record["occurred_at"]).isoformat()}


def _comparable(row: dict[str, Any]) -> dict[str, Any]:
    """The row with its datetimes in UTC (SQLite hands them back naive)."""
    return {k: stored_utc(v) if isinstance(v, datetime) else v for k, v in row.items()}
