"""Safety conditions as a VT analyst expects them, through the query API on SQLite and
PostgreSQL: a plan recorded without listing breach types counts a new huisverbod, domestic
incident or incident with children present as a breach and says so, in its answer and on the
monitoring view; listed types replace the default; a plan recorded before the default (whose
event carries only a breach report) keeps counting only that."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from privacy.actors import AnalystRole
from radar.safety import DEFAULT_BREACH_TYPES
from services.database import Database
from tests.support.radar_fixtures import (
    FAMILY,
    MONITORING_UTRECHT,
    Harness,
    radar_query_harness,
    signal,
)

EXPECTED = [
    "domestic_incident",
    "huisverbod",
    "incident_with_children_present",
    "safety_conditions_breached",
]


def ago(days: float) -> datetime:
    return datetime.now(UTC) - timedelta(days=days)


@pytest.fixture
def harness(tmp_path: Path, database: Database) -> Iterator[Harness]:
    yield from radar_query_harness(tmp_path, database)


def _record_plan(harness: Harness, **terms: Any) -> Any:
    body = {
        "purpose": "monitoring",
        "conditions": ["No violence at home"],
        "starts_on": ago(30).date().isoformat(),
        **terms,
    }
    created = harness.post(
        f"/v1/households/{FAMILY}/safety-conditions", body, role=AnalystRole.MONITORING
    )
    assert created.status_code == 201, created.text
    return created.json()


def _plan_and_alerts(harness: Harness) -> tuple[dict[str, Any], list[str]]:
    harness.radar.project()
    monitoring = harness.get(
        "/v1/monitoring", role=AnalystRole.MONITORING, params={"purpose": "monitoring"}
    )
    worklist = harness.get("/v1/worklist", params={"purpose": "triage"})
    assert monitoring.status_code == worklist.status_code == 200
    [plan] = monitoring.json()["plans"]
    return plan, [a["kind"] for a in worklist.json()["alerts"]]


def test_a_plan_without_listed_types_counts_a_new_huisverbod_and_says_so(
    harness: Harness,
) -> None:
    harness.radar.record(signal("zorgmelding", ago(60)))
    created = _record_plan(harness)
    assert created["excluded_signal_types"] == EXPECTED == sorted(DEFAULT_BREACH_TYPES)

    breach = signal("huisverbod", ago(1))
    harness.radar.record(breach)
    plan, alerts = _plan_and_alerts(harness)
    assert plan["excluded_signal_types"] == EXPECTED, "the monitoring view says what counts"
    assert plan["breaches"] == [str(breach.event_id)]
    assert "breach" in alerts

    harness.radar.record(signal("incident_with_children_present", ago(0.5)))
    plan, _alerts = _plan_and_alerts(harness)
    assert len(plan["breaches"]) == 2, "an incident with children present breaks them too"


def test_listed_types_replace_the_default(harness: Harness) -> None:
    harness.radar.record(signal("zorgmelding", ago(60)))
    created = _record_plan(harness, excluded_signal_types=["school_absence"])
    assert created["excluded_signal_types"] == ["safety_conditions_breached", "school_absence"]

    harness.radar.record(signal("huisverbod", ago(2)))
    plan, alerts = _plan_and_alerts(harness)
    assert plan["breaches"] == [] and "breach" not in alerts, "the analyst chose other types"
    absent = signal("school_absence", ago(1), severity="moderate")
    harness.radar.record(absent)
    plan, alerts = _plan_and_alerts(harness)
    assert plan["breaches"] == [str(absent.event_id)] and "breach" in alerts


def test_a_plan_recorded_before_the_default_keeps_counting_only_a_breach_report(
    harness: Harness,
) -> None:
    """Before the default, a plan recorded without types stored just the breach report in its
    event (the event is the contract): it reads as it was agreed."""
    harness.radar.record(signal("zorgmelding", ago(60)))
    starts_on = ago(30).date()
    harness.radar.ledger.record_conditions(
        FAMILY,
        MONITORING_UTRECHT,
        ["No violence at home"],
        ["safety_conditions_breached"],  # what the old default wrote
        starts_on,
        starts_on + timedelta(days=365),
        [starts_on + timedelta(days=90)],
    )
    harness.radar.record(signal("huisverbod", ago(2)))
    plan, alerts = _plan_and_alerts(harness)
    assert plan["excluded_signal_types"] == ["safety_conditions_breached"]
    assert plan["breaches"] == [] and "breach" not in alerts
    report = signal("safety_conditions_breached", ago(1))
    harness.radar.record(report)
    plan, _alerts = _plan_and_alerts(harness)
    assert plan["breaches"] == [str(report.event_id)]
