"""Lead times as a Veilig Thuis manager would check them, on the real broker and both databases:
reports published through Kafka, decided through the query API on the days the story says, a
reminder on the worklist from working day 3, and the region's table as a hand count gives it,
the same again after a rebuild from the store."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from privacy.actors import AnalystRole
from services.casework.lead_time_store import LeadTimeStore
from services.casework.reminders import remind_due_reports
from services.projections.projector import Projector, rebuild
from tests.support.aggregating import InProcessAggregator
from tests.support.casework_story import Clock, at, decide
from tests.support.radar_fixtures import FAMILY, OTHER_FAMILY, Harness, signal

AMSTERDAM_FAMILY = "hh.k1." + "a" * 32
ASSESSOR = AnalystRole.SAFETY_ASSESSMENT


@pytest.fixture
def lead_times(harness: Harness) -> LeadTimeStore:
    return LeadTimeStore(harness.radar.worklist.engine)


def _report(member: InProcessAggregator, day: date, household: str = FAMILY, **kw: Any) -> str:
    """A report Veilig Thuis received on `day`, published through the signals topic."""
    report = signal("vt_report", at(day), household=household, **kw)
    member.publish(report)
    return str(report.event_id)


def _project(harness: Harness, lead_times: LeadTimeStore) -> None:
    harness.radar.project()
    Projector(harness.radar.ledger, lead_times, batch_size=7).catch_up()


def _table(harness: Harness, first: str, last: str, region: str = "VT09") -> Any:
    answer = harness.get(
        "/v1/lead-times",
        role=ASSESSOR,
        params={"purpose": "safety_assessment", "from": first, "to": last},
        as_={"region": region},
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def _due_alerts(harness: Harness) -> list[dict[str, Any]]:
    alerts = harness.get("/v1/worklist", params={"purpose": "triage"}).json()["alerts"]
    return [a for a in alerts if a["kind"] == "decision_due"]


def test_a_report_decided_on_day_6_is_late_and_was_on_the_worklist_on_day_3(
    harness: Harness, member: InProcessAggregator, lead_times: LeadTimeStore, clock: Clock
) -> None:
    # Monday 2 November 2026: VT Utrecht receives a report. Day 3 is Thursday, day 5 Monday 9.
    report_id = _report(member, date(2026, 11, 2))
    _project(harness, lead_times)
    ledger = harness.radar.ledger

    clock.now = at(date(2026, 11, 4))  # Wednesday, day 2: not yet
    assert remind_due_reports(ledger, lead_times, clock.now) == 0
    _project(harness, lead_times)
    assert _due_alerts(harness) == []

    clock.now = at(date(2026, 11, 5), 8)  # Thursday, day 3: on the worklist, due on Monday
    assert remind_due_reports(ledger, lead_times, clock.now) == 1
    _project(harness, lead_times)
    assert remind_due_reports(ledger, lead_times, clock.now) == 0, "reminded once"
    [due] = _due_alerts(harness)
    assert (due["household"], due["check_date"], due["status"]) == (FAMILY, "2026-11-09", "raised")

    decide(harness, clock, report_id, date(2026, 11, 10), "handover_local_team")  # day 6
    _project(harness, lead_times)
    assert _due_alerts(harness) == [], "the decision closes the reminder"
    [row] = _table(harness, "2026-11-01", "2026-11-30")["regions"]
    assert row["region"] == "VT09" and row["reports"] == 1
    assert row["decisions"] == _norm("0.90", late=1, share="0.000", met=False)


def test_a_regions_table_equals_a_hand_count_and_a_rebuild(
    harness: Harness, member: InProcessAggregator, lead_times: LeadTimeStore, clock: Clock
) -> None:
    utrecht = {
        "a": _report(member, date(2026, 11, 2)),  # decided day 4, investigated in 3 weeks
        "b": _report(member, date(2026, 11, 5), household=OTHER_FAMILY),  # decided day 5
        "c": _report(member, date(2026, 11, 16)),  # decided day 7: late, investigation open
        "d": _report(member, date(2026, 11, 20)),  # never decided: late on 1 December
        "e": _report(member, date(2026, 11, 30)),  # not decided on 1 December: pending
        "f": _report(member, date(2026, 10, 30)),  # before the period
    }
    amsterdam = _report(member, date(2026, 11, 3), household=AMSTERDAM_FAMILY, region="VT13")
    _project(harness, lead_times)

    a = decide(harness, clock, utrecht["a"], date(2026, 11, 6), "own_investigation")
    decide(harness, clock, utrecht["b"], date(2026, 11, 12), "ongoing_care", OTHER_FAMILY)
    decide(harness, clock, utrecht["c"], date(2026, 11, 25), "own_investigation")
    decide(harness, clock, utrecht["f"], date(2026, 11, 12), "handover_local_team")
    decide(
        harness, clock, amsterdam, date(2026, 11, 4), "own_investigation", AMSTERDAM_FAMILY, "VT13"
    )
    clock.now = at(date(2026, 11, 27))
    closed = harness.post(
        f"/v1/households/{FAMILY}/safety-assessments/{a}/investigation/close",
        {"purpose": "safety_assessment", "outcome": "confirmed", "reason": "Established."},
        role=ASSESSOR,
    )
    assert closed.status_code == 200, closed.text
    _project(harness, lead_times)

    clock.now = at(date(2026, 12, 1))
    table = _table(harness, "2026-11-01", "2026-11-30")
    assert table["as_of"] == "2026-12-01" and "period" in table["definitions"]
    hand_count = [
        {
            "region": "VT09",
            "reports": 5,
            "decisions": _norm("0.90", in_time=2, late=2, pending=1, share="0.500", met=False),
            "investigations": _norm("0.80", in_time=1, pending=1, share="1.000", met=True),
        },
        {
            "region": "VT13",
            "reports": 1,
            "decisions": _norm("0.90", in_time=1, share="1.000", met=True),
            "investigations": _norm("0.80", pending=1),
        },
    ]
    assert table["regions"] == hand_count
    assert _table(harness, "2026-11-01", "2026-11-30", region="VT13") == table, "every region"

    live = lead_times.dump()
    rebuild(harness.radar.ledger, lead_times, batch_size=3)
    assert lead_times.dump() == live and _table(harness, "2026-11-01", "2026-11-30") == table

    backwards = harness.get(
        "/v1/lead-times",
        role=ASSESSOR,
        params={"purpose": "safety_assessment", "from": "2026-12-01", "to": "2026-11-01"},
    )
    assert backwards.status_code == 422 and backwards.json()["errors"][0]["field"] == "to"


def _norm(norm: str, in_time: int = 0, late: int = 0, pending: int = 0, **rest: Any) -> Any:
    return {
        "norm": norm,
        "in_time": in_time,
        "late": late,
        "pending": pending,
        "share": rest.get("share"),
        "met": rest.get("met"),
    }
