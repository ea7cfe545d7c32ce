"""Read your own writes (issue 22, availability): a casework step answers with the event-store
position it was recorded at, and a read given it as `after` waits until the read models show
the step, bounded: a read model too far behind answers 503 with Retry-After. The projector runs
in a thread, as slow to notice new events as a busy one in another process would be."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from privacy.actors import AnalystRole
from services.database import Database
from services.projections.projector import Projector, follow
from tests.support.radar_fixtures import FAMILY, Harness, radar_query_harness, signal

SLOW_PROJECTOR_SECONDS = 0.4  # an idle projector notices a new event this late


def ago(days: float) -> datetime:
    return datetime.now(UTC) - timedelta(days=days)


@pytest.fixture
def harness(tmp_path: Path, database: Database) -> Iterator[Harness]:
    for found in radar_query_harness(tmp_path, database):
        found.radar.record(signal("huisverbod", ago(10)))  # FAMILY, in VT09, with an alert
        radar = found.radar
        models = (radar.worklist, radar.monitoring, radar.timelines)
        projectors = [Projector(radar.ledger, model, batch_size=50) for model in models]
        stop = threading.Event()
        projecting = threading.Thread(
            target=follow, args=(projectors, stop, SLOW_PROJECTOR_SECONDS), daemon=True
        )
        projecting.start()
        time.sleep(SLOW_PROJECTOR_SECONDS)  # the projector has found nothing new: it is idle
        try:
            yield found
        finally:
            stop.set()
            projecting.join(timeout=10)


def test_after_a_move_the_old_region_is_refused_and_the_new_one_reads(harness: Harness) -> None:
    moved = harness.post(
        f"/v1/households/{FAMILY}/move",
        {"purpose": "triage", "municipality": "Zwolle", "moved_on": ago(0).date().isoformat()},
    )
    assert moved.status_code == 200, moved.text
    position = moved.json()["recorded_at_position"]
    assert moved.json()["region"] == "VT04" and position > 0

    path = f"/v1/households/{FAMILY}/risk"
    old_region = harness.get(path, params={"purpose": "triage", "after": position})
    assert old_region.status_code == 403, old_region.text
    new_region = harness.get(
        path, params={"purpose": "triage", "after": position}, as_={"region": "VT04"}
    )
    assert new_region.status_code == 200, new_region.text
    assert new_region.json()["region"] == "VT04"
    worklist = harness.get(
        "/v1/worklist", params={"purpose": "triage", "after": position}, as_={"region": "VT04"}
    )
    assert [a["household"] for a in worklist.json()["alerts"]] == [FAMILY]
    timeline = f"/v1/households/{FAMILY}/timeline"
    old_timeline = harness.get(timeline, params={"purpose": "triage", "after": position})
    assert old_timeline.status_code == 403, old_timeline.text
    new_timeline = harness.get(
        timeline, params={"purpose": "triage", "after": position}, as_={"region": "VT04"}
    )
    assert new_timeline.status_code == 200, new_timeline.text


def test_a_safety_plans_position_makes_monitoring_show_it(harness: Harness) -> None:
    created = harness.post(
        f"/v1/households/{FAMILY}/safety-conditions",
        {"purpose": "monitoring", "conditions": ["No contact without the local team"]},
        role=AnalystRole.MONITORING,
    )
    assert created.status_code == 201, created.text
    plan = created.json()
    overview = harness.get(
        "/v1/monitoring",
        role=AnalystRole.MONITORING,
        params={"purpose": "monitoring", "after": plan["recorded_at_position"]},
    )
    assert overview.status_code == 200, overview.text
    assert [p["plan_id"] for p in overview.json()["plans"]] == [plan["plan_id"]]


@pytest.fixture
def stalled(tmp_path: Path, database: Database) -> Iterator[Harness]:
    """A query API whose projector has stopped: steps are recorded, read models stay behind."""
    for found in radar_query_harness(tmp_path, database):
        found.radar.record(signal("huisverbod", ago(10)))  # projected once, then no more
        yield found


def test_a_read_model_that_stays_behind_is_answered_503_after_the_bound(
    stalled: Harness,
) -> None:
    recorded = stalled.post(
        f"/v1/households/{FAMILY}/safety-conditions",
        {"purpose": "monitoring", "conditions": ["No contact without the local team"]},
        role=AnalystRole.MONITORING,
    )
    assert recorded.status_code == 201, recorded.text
    behind = stalled.get(
        "/v1/monitoring",
        role=AnalystRole.MONITORING,
        params={"purpose": "monitoring", "after": recorded.json()["recorded_at_position"]},
    )
    assert behind.status_code == 503, behind.text
    assert int(behind.headers["Retry-After"]) >= 1
    assert "has not reached position" in behind.json()["detail"]


def test_a_position_no_step_was_recorded_at_is_refused_at_once(harness: Harness) -> None:
    recorded = harness.post(
        f"/v1/households/{FAMILY}/safety-conditions",
        {"purpose": "monitoring", "conditions": ["No contact without the local team"]},
        role=AnalystRole.MONITORING,
    )
    far_ahead = recorded.json()["recorded_at_position"] + 1_000_000
    refused = harness.get(
        "/v1/monitoring",
        role=AnalystRole.MONITORING,
        params={"purpose": "monitoring", "after": far_ahead},
    )
    assert refused.status_code == 422, refused.text
    assert [e["field"] for e in refused.json()["errors"]] == ["after"]
    without = harness.get(
        "/v1/monitoring", role=AnalystRole.MONITORING, params={"purpose": "monitoring"}
    )
    assert without.status_code == 200  # a read without a position does not wait
