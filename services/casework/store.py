"""The regional worklist read model: alerts with their lifecycle, each household's latest score
and explanation, and the risk model versions adopted. One position, moved with the rows.

Rows and the position move together in one transaction, from the position this writer read,
exactly like the timeline (see timeline_store.py), so projectors may run side by side.

Format 2: a row about a household is found by the household's lookup digest and seals its
pseudonym, the signal ids and the child pseudonyms under the household's row key
(services/casework/sealing.py); `alert_id` stays plain: it is the API's identifier.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from eventsourcing.utils import get_topic
from sqlalchemy import Engine, bindparam, delete, insert, select, update
from sqlalchemy.engine import Connection

from privacy.storage.sealed_rows import RowSealer
from radar.case import HouseholdCase
from radar.household import Household
from radar.model_history import RiskModelHistory
from radar.risk import Contribution, Factors, shown_contributions
from radar.risk_model_v2 import AnyRiskModel, parse_model
from radar.worklist import WorklistEntry
from services.casework.score_rows import ScoreRows
from services.casework.sealing import SEALED, SealedRows
from services.casework.worklist_tables import (
    ALERTS,
    SCORES,
    alerts,
    household_scores,
    metadata,
    model_versions,
)
from services.database import stored_utc
from services.projections.bulk import insert_rows
from services.projections.positions import PositionedTables, moving_position, reset_position

WORKLIST_PROJECTION = "radar_worklist"

_SCORE = get_topic(Household.ScoreChanged)
_REGION = get_topic(Household.RegionAssigned)
_RAISED = get_topic(HouseholdCase.AlertRaised)
_ACKNOWLEDGED = get_topic(HouseholdCase.AlertAcknowledged)
_TRIAGED = get_topic(HouseholdCase.AlertTriaged)
_CLOSED = get_topic(HouseholdCase.AlertClosed)
_TRANSFERRED = get_topic(HouseholdCase.AlertsTransferred)
_ADOPTED = get_topic(RiskModelHistory.ModelAdopted)
_SCORE_EVENTS = (Household.ScoreChanged, Household.RegionAssigned)
_SEALED_EVENTS = (*_SCORE_EVENTS, HouseholdCase.AlertRaised)  # rows sealed under the household
_ALERT_CHANGES = (
    HouseholdCase.AlertAcknowledged,
    HouseholdCase.AlertTriaged,
    HouseholdCase.AlertClosed,
    HouseholdCase.AlertsTransferred,
)


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
    format = 2  # households by digest, pseudonyms and signal ids sealed

    def __init__(self, engine: Engine, sealer: RowSealer | None = None) -> None:
        super().__init__(engine, sealer)
        self.rows = SealedRows(self.sealer)

    def apply_events(
        self, events: Sequence[tuple[int, Any]], expected: int, new_position: int
    ) -> None:
        """Applies the events and moves the position from `expected`, in one transaction."""
        about = {e.household for _, e in events if isinstance(e, _SEALED_EVENTS)}
        digests = self.digests.households(sorted(about))
        self.sealer.prefetch(digests)
        with (
            moving_position(self.engine, self.name, expected, new_position, events) as connection,
            self.sealer.keys_stored_last(digests, connection),  # sealing before the first write
        ):
            scores = ScoreRows(self.rows, connection)
            scores.load(e.household for _, e in events if isinstance(e, _SCORE_EVENTS))
            raised: list[dict[str, Any]] = []  # new alerts, inserted together
            for _, event in events:
                if isinstance(event, HouseholdCase.AlertRaised):
                    raised.append(self._alert_row(connection, event))
                    continue
                if raised and isinstance(event, _ALERT_CHANGES):  # about a raised alert
                    insert_rows(connection, alerts, raised)
                    raised = []
                self._apply(connection, scores, event)
            changes = scores.sealed()
            insert_rows(connection, alerts, raised)
            scores.write(changes)

    def reset(self) -> None:
        with self.engine.begin() as connection:
            for table in (household_scores, alerts, model_versions):
                connection.execute(delete(table))
            reset_position(connection, self.name)

    # --- queries ----------------------------------------------------------------------------

    def open_alerts(self, region: str) -> list[WorklistEntry]:
        """The region's alerts that are not closed, with the households' latest scores."""
        query = (
            select(
                alerts,
                household_scores.c.score,
                household_scores.c.as_of,
                household_scores.c.model_version,
                household_scores.c.sealed.label("score_sealed"),
            )
            .join(household_scores, household_scores.c.household == alerts.c.household)
            .where(alerts.c.region == region, alerts.c.status != "closed")
        )
        with self.engine.connect() as connection:
            rows = [row._mapping for row in connection.execute(query)]
        self.rows.prefetch(row["household"] for row in rows)
        entries = []
        for row in rows:
            alert = self.rows.open_row(ALERTS, row)
            score = self.rows.open(household_scores, row["household"], (), row["score_sealed"])
            if alert is not None and score is not None:  # None: erased a moment ago
                entries.append(_entry(alert, {**row, **score}))
        return entries

    def alert(self, alert_id: str) -> dict[str, Any] | None:
        """One alert as stored (for the lifecycle routes: whose, where, in which state)."""
        with self.engine.connect() as connection:
            row = connection.execute(select(alerts).where(alerts.c.alert_id == alert_id)).first()
        opened = None if row is None else self.rows.open_row(ALERTS, row._mapping)
        return None if opened is None else _comparable(opened)

    def household_alerts(self, household: str) -> list[dict[str, Any]]:
        with self.engine.connect() as connection:
            found = self.rows.read(connection, ALERTS, [household])
        return sorted(
            (_comparable(row) for row in found), key=lambda a: (a["raised_at"], a["alert_id"])
        )

    def household_score(self, household: str) -> dict[str, Any] | None:
        with self.engine.connect() as connection:
            found = self.rows.read(connection, SCORES, [household])
        return _comparable(found[0]) if found else None

    def household_region(self, household: str) -> str | None:
        """The region after the latest recorded move (found by digest: nothing to open)."""
        with self.engine.connect() as connection:
            region: str | None = connection.execute(
                _REGION_NOW, {"household": self.rows.household(household)}
            ).scalar_one_or_none()
        return region

    def model_in_force(self) -> AnyRiskModel | None:
        with self.engine.connect() as connection:
            row = connection.execute(
                select(model_versions.c.content).order_by(model_versions.c.version.desc())
            ).first()
        return None if row is None else parse_model(row[0])

    def model_versions(self) -> list[dict[str, Any]]:
        with self.engine.connect() as connection:
            rows = connection.execute(select(model_versions).order_by(model_versions.c.version))
            return [_comparable(dict(row._mapping)) for row in rows]

    def rows_about(self, households: Sequence[str] | None) -> dict[str, list[dict[str, Any]]]:
        """Each table's rows about these households (all rows for None), as they read: what
        an audit report shows. The model versions are about no household: only in all."""
        with self.engine.connect() as connection:
            found = {
                spec.table.name: [
                    _comparable(row) for row in self.rows.read(connection, spec, households)
                ]
                for spec in (SCORES, ALERTS)
            }
        if households is None:
            found[model_versions.name] = self.model_versions()
        return found

    def dump(self) -> dict[str, list[dict[str, Any]]]:
        """Every row of every table as it reads, in key order: for comparing with a rebuild."""
        every = self.rows_about(None)
        return {
            "household_scores": every[household_scores.name],
            "alerts": every[alerts.name],
            "model_versions": every[model_versions.name],
        }

    # --- applying events --------------------------------------------------------------------

    def _apply(self, connection: Connection, scores: ScoreRows, event: Any) -> None:
        if isinstance(event, Household.ScoreChanged):
            explained = _explained(scores, event)
            scores.score(event.household, _score_row(event), _score_parts(event, explained))
        elif isinstance(event, Household.RegionAssigned):
            scores.region(event.household, event.region)
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

    def _alert_row(
        self, connection: Connection, event: HouseholdCase.AlertRaised
    ) -> dict[str, Any]:
        sealed = {
            "household": event.household,
            "explanation_at_raise": [_json_contribution(c) for c in event.contributions],
            "trigger_signals": event.trigger_signals,
        }
        return {
            "alert_id": event.alert_id,
            "household": self.rows.household(event.household),
            "region": event.region,
            "kind": event.kind,
            "reasons": event.reasons,
            "status": "raised",
            "raised_at": stored_utc(event.raised_at),
            "score_at_raise": str(event.score),
            "model_version_at_raise": event.model_version,
            "children_present": event.children_present,
            "sectors": event.sectors,
            "plan_id": event.plan_id,
            "check_date": event.check_date,
            "steps": [],
            SEALED: self.rows.seal(connection, alerts, event.household, (event.alert_id,), sealed),
        }

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


def _explained(scores: ScoreRows, event: Household.ScoreChanged) -> dict[str, Factors]:
    """Each signal's factors after the event: those of the household's row (its explanation
    as of the score before) with those the event changed."""
    factors: dict[str, Factors] = {}
    if not event.whole:
        for record in scores.contributions(event.household):
            factors[record["signal_id"]] = contribution(record).factors()
    for record in event.changed:
        factors[record["signal_id"]] = Factors.from_record(record)
    for signal_id in event.removed:
        factors.pop(signal_id, None)
    return factors


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


def _score_row(event: Household.ScoreChanged) -> dict[str, Any]:
    return {
        "score": str(event.score),
        "as_of": stored_utc(event.as_of),
        "model_version": event.model_version,
        "children_present": event.children_present,
    }


def _score_parts(event: Household.ScoreChanged, explained: dict[str, Factors]) -> dict[str, Any]:
    """What a score row seals: the signals behind it (the explanation as of the score,
    computed from their factors) and the children's own scores."""
    shown = shown_contributions(explained.values(), event.as_of)
    return {
        "contributions": [_json_contribution(c.record()) for c in shown],
        "child_scores": {k: str(v) for k, v in sorted(event.child_scores.items())},
    }


def _entry(alert: dict[str, Any], score: Mapping[str, Any]) -> WorklistEntry:
    """An open alert (opened) with its household's latest score (opened)."""
    return WorklistEntry(
        alert_id=alert["alert_id"],
        household=alert["household"],
        region=alert["region"],
        kind=alert["kind"],
        reasons=tuple(alert["reasons"]),
        status=alert["status"],
        raised_at=stored_utc(alert["raised_at"]),
        score_at_raise=Decimal(alert["score_at_raise"]),
        sectors=tuple(alert["sectors"]),
        plan_id=alert["plan_id"],
        check_date=alert["check_date"],
        steps=tuple(alert["steps"]),
        score=Decimal(score["score"] or "0"),
        score_as_of=stored_utc(score["as_of"] or alert["raised_at"]),
        model_version=score["model_version"],
        contributions=tuple(contribution(c) for c in score["contributions"] or ()),
        children_present=bool(alert["children_present"]),
        trigger_signals=tuple(alert.get("trigger_signals") or ()),
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


_REGION_NOW = select(household_scores.c.region).where(
    household_scores.c.household == bindparam("household")
)
"""Built once: every timeline query asks it (the household's region after its latest move)."""
