"""The casework read models (worklist, monitoring) keep no pseudonym and no signal id as it is
(issue 24 item 5): rows deleted at retention live on in the WAL, replicas and backups, so what
they hold must name nobody without the keys. The worklist and the monitoring overview still
answer with the households, persons and signals; a store written in the earlier format is
rebuilt from the event store on open and answers the same; and their deadlines follow the
query API's clock (issue 24 item 8)."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, update

from privacy.actors import AnalystRole
from services.casework.monitoring_store import SafetyStore
from services.casework.reminders import remind_due_checks
from services.casework.store import WorklistStore
from services.database import Database
from services.ledger.store import open_ledger
from services.projections.positions import formats
from services.projections.projector import Projector
from services.schema.migrate import upgrade_database
from tests.support.inspection import tables_bytes
from tests.support.radar_fixtures import (
    CHILD,
    FAMILY,
    MONITORING_UTRECHT,
    MOTHER,
    OTHER_FAMILY,
    Harness,
    signal,
)

CASEWORK_TABLES = (
    "radar_household_scores",
    "radar_alerts",
    "radar_monitoring_regions",
    "radar_safety_plans",
    "radar_safety_checks",
)
FIXTURE = Path(__file__).parent.parent / "fixtures" / "store-v0"


def ago(days: float) -> datetime:
    return datetime.now(UTC) - timedelta(days=days)


class Clock:
    """The query API's now, moved on by a test."""

    def __init__(self) -> None:
        self.shift = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.shift


@pytest.fixture
def clock() -> Clock:
    return Clock()


def _raw_rows(engine: Engine) -> list[bytes]:
    """Every stored row of the casework tables."""
    return tables_bytes(engine, CASEWORK_TABLES)


def _story(harness: Harness) -> tuple[list[str], str]:
    """An alert, safety conditions, a missed check's reminder and a breach; returns the
    signal ids and the plan's id."""
    first = signal("huisverbod", ago(60))
    harness.radar.record(first)
    created = harness.post(
        f"/v1/households/{FAMILY}/safety-conditions",
        {
            "purpose": "monitoring",
            "conditions": ["No violence at home"],
            "excluded_signal_types": ["huisverbod"],
            "starts_on": ago(50).date().isoformat(),
            "check_dates": [ago(20).date().isoformat(), ago(-60).date().isoformat()],
        },
        role=AnalystRole.MONITORING,
    )
    assert created.status_code == 201, created.text
    harness.radar.project()
    assert remind_due_checks(harness.radar.ledger, harness.radar.monitoring, ago(0)) == 1
    breach = signal("huisverbod", ago(1))
    harness.radar.record(breach)
    return [str(first.event_id), str(breach.event_id)], created.json()["plan_id"]


def _answers(harness: Harness) -> tuple[Any, Any, Any]:
    harness.radar.project()
    worklist = harness.get("/v1/worklist", params={"purpose": "triage"})
    monitoring = harness.get(
        "/v1/monitoring", role=AnalystRole.MONITORING, params={"purpose": "monitoring"}
    )
    risk = harness.get(f"/v1/households/{FAMILY}/risk", params={"purpose": "triage"})
    assert worklist.status_code == monitoring.status_code == risk.status_code == 200
    return worklist.json(), monitoring.json(), risk.json()


def _without_moments(body: dict[str, Any]) -> dict[str, Any]:
    """An answer without what moves with the clock between two requests."""
    moving = {"generated_at", "days_open", "urgency", "score_now", "points", "decay", "factors"}

    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k not in moving}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    return dict(strip(body))


def test_no_stored_row_names_a_household_person_or_signal_yet_the_lists_do(
    harness: Harness,
) -> None:
    signal_ids, plan_id = _story(harness)
    worklist, monitoring, risk = _answers(harness)

    assert {(a["household"], a["kind"]) for a in worklist["alerts"]} == {
        (FAMILY, "threshold"),
        (FAMILY, "check_overdue"),
        (FAMILY, "breach"),
    }
    shown = {c.get("signal_id") for a in worklist["alerts"] for c in a["explanation"]}
    assert set(signal_ids) <= shown
    [plan] = monitoring["plans"]
    assert (plan["plan_id"], plan["household"]) == (plan_id, FAMILY)
    assert plan["conditions"] == ["No violence at home"]
    assert plan["breaches"] == [signal_ids[1]]
    assert {c["household"] for c in plan["checks"]} == {FAMILY}
    assert [c["reminder_alert"] is not None for c in plan["checks"]] == [True, False]
    assert set(risk["child_scores"]) == {CHILD}

    rows = _raw_rows(harness.radar.worklist.engine)
    assert len(rows) == 1 + 3 + 1 + 1 + 2  # score, alerts, region, plan, checks
    named = [FAMILY, MOTHER, CHILD, *signal_ids, *(s.replace("-", "") for s in signal_ids)]
    leaks = [n for n in named for row in rows if n.encode() in row]
    assert leaks == [], "a stored casework row names a household, person or signal"
    digest = harness.radar.worklist.digests.household(FAMILY)
    assert all(digest.encode() in row for row in rows), "every row is found by the digest"


def test_a_read_model_of_the_earlier_format_is_rebuilt_on_open_and_answers_the_same(
    harness: Harness,
) -> None:
    _story(harness)
    before = _answers(harness)
    radar = harness.radar
    engine = radar.worklist.engine
    with engine.begin() as connection:
        connection.execute(update(formats).values(format=1))
    reopened = (
        WorklistStore(engine, radar.worklist.sealer),
        SafetyStore(engine, radar.worklist.sealer),
    )
    assert [store.position() for store in reopened] == [0, 0], "rebuilt from the event store"
    assert _raw_rows(engine) == []
    radar.worklist, radar.monitoring = reopened
    after = _answers(harness)
    assert [_without_moments(a) for a in after] == [_without_moments(b) for b in before]


def test_the_store_written_before_sealing_is_rebuilt_without_its_pseudonyms(
    tmp_path: Path,
) -> None:
    copy = tmp_path / "store-v0"
    shutil.copytree(FIXTURE, copy)
    database = Database(f"sqlite:///{copy / 'radar.db'}", copy / "keys")
    expected = json.loads((copy / "expected.json").read_text())
    households = list(expected["households"])
    unmigrated = database.unchecked_engine()
    assert any(h.encode() in row for h in households for row in _raw_rows(unmigrated))
    unmigrated.dispose()
    upgrade_database(database)  # the format-1 read models are emptied for their rebuild
    engine = database.engine()
    ledger = open_ledger(database)
    sealer = database.row_sealer(engine)
    stores = {"worklist": WorklistStore(engine, sealer), "monitoring": SafetyStore(engine, sealer)}
    for name, store in stores.items():
        assert store.position() == 0, f"{name}: written in format 1, so rebuilt"
        Projector(ledger, store, batch_size=13).catch_up()
        assert json.loads(json.dumps(store.dump(), default=_iso)) == _sorted(
            expected["read_models"][name]
        ), name
    assert not any(h.encode() in row for h in households for row in _raw_rows(engine))
    ledger.close()
    engine.dispose()


def _iso(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _sorted(tables: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    return {name: [dict(sorted(row.items())) for row in rows] for name, rows in tables.items()}


def test_deadlines_follow_the_query_apis_clock(harness: Harness, clock: Clock) -> None:
    harness.radar.record(signal("huisverbod", ago(10)))  # an untouched alert: it expires
    harness.radar.record(signal("zorgmelding", ago(10), household=OTHER_FAMILY, severity="low"))
    check_on = ago(-30).date()
    harness.radar.ledger.record_conditions(
        OTHER_FAMILY,
        MONITORING_UTRECHT,
        ["No violence at home"],
        [],
        ago(5).date(),
        ago(5).date() + timedelta(days=365),
        [check_on],
    )
    worklist, monitoring, _risk = _answers(harness)
    [alert] = worklist["alerts"]
    [check] = monitoring["plans"][0]["checks"]
    assert check["overdue"] is False

    clock.shift = timedelta(days=40)
    later, later_monitoring, _risk = _answers(harness)
    [later_alert] = later["alerts"]
    assert later_alert["expires_in_days"] == alert["expires_in_days"] - 40
    assert later_alert["days_open"] == pytest.approx(alert["days_open"] + 40, abs=0.05)
    [later_check] = later_monitoring["plans"][0]["checks"]
    assert date.fromisoformat(later_check["check_date"]) == check_on
    assert later_check["overdue"] is True, "the check date passed at the clock's now"
