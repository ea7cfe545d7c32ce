"""The regional worklist and the alert steps through the query API, on a real database: the
region's own open alerts, most urgent first, explained in lines that add up; what the purpose
may not see withheld; every request decided and logged once; each step by a named analyst."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from privacy.actors import AnalystRole, Publisher
from privacy.credentials import Audience
from privacy.storage.access_log import EntryKind
from services.database import Database
from tests.support.radar_fixtures import (
    FAMILY,
    MONITORING_UTRECHT,
    OTHER_FAMILY,
    Harness,
    Radar,
    radar_query_harness,
    signal,
)

THIRD_FAMILY = "hh.k1." + "d" * 32
UNKNOWN_FAMILY = "hh.k1." + "0" * 32


def ago(days: float) -> datetime:
    return datetime.now(UTC) - timedelta(days=days)


@pytest.fixture
def harness(tmp_path: Path, database: Database) -> Iterator[Harness]:
    yield from radar_query_harness(tmp_path, database)


def _three_households(radar: Radar) -> None:
    radar.record(signal("huisverbod", ago(10)))  # FAMILY, VT09: threshold alert
    radar.record(
        signal("zorgmelding", ago(30), household=OTHER_FAMILY),
        signal("school_absence", ago(20), household=OTHER_FAMILY, severity="moderate"),
        signal("kindcheck_concern", ago(12), household=OTHER_FAMILY, sector="mental_health"),
    )  # OTHER_FAMILY, VT09: cross-sector alert, partly from mental health care
    radar.record(signal("huisverbod", ago(5), household=THIRD_FAMILY, region="VT13"))


def test_the_worklist_lists_the_regions_open_alerts_most_urgent_first(harness: Harness) -> None:
    _three_households(harness.radar)
    harness.radar.ledger.record_conditions(
        FAMILY,
        MONITORING_UTRECHT,
        ["No violence at home"],
        ["huisverbod"],
        ago(8).date(),
        ago(8).date() + timedelta(days=365),
        [ago(8).date() + timedelta(days=90)],
    )
    harness.radar.record(signal("huisverbod", ago(1)))  # breaks the conditions
    harness.radar.project()
    before = harness.log.count()

    answer = harness.get("/v1/worklist", params={"purpose": "triage"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["region"] == "VT09" and body["model_version"] == 1
    alerts = body["alerts"]
    assert alerts[0]["kind"] == "breach", "a breach goes first"
    assert {(a["household"], a["kind"]) for a in alerts} == {
        (FAMILY, "breach"),
        (FAMILY, "threshold"),
        (OTHER_FAMILY, "cross_sector"),
    }
    assert [a["urgency"] for a in alerts] == sorted((a["urgency"] for a in alerts), reverse=True)
    for alert in alerts:
        lines = sum(Decimal(c["points"]) for c in alert["explanation"])
        assert lines == Decimal(alert["score_now"]), alert
    [entry] = harness.entries_after(before)
    assert (entry["outcome"], entry["resource"], entry["records"]) == ("permit", "worklist", 3)
    assert entry["subject_region"] == "VT09"

    amsterdam = harness.get("/v1/worklist", params={"purpose": "triage"}, as_={"region": "VT13"})
    assert [a["household"] for a in amsterdam.json()["alerts"]] == [THIRD_FAMILY]


def test_what_the_purpose_may_not_see_is_withheld_but_still_counted(harness: Harness) -> None:
    _three_households(harness.radar)
    answer = harness.get("/v1/worklist", params={"purpose": "triage"})
    [cross] = [a for a in answer.json()["alerts"] if a["household"] == OTHER_FAMILY]
    assert "mental_health" not in answer.text and "kindcheck" not in answer.text
    # triage's rule is `weight`: the count and one line of points, the sectors it sees only
    assert answer.json()["withheld_rule"] == "weight"
    assert set(cross["sectors"]) == {"police", "education"} and cross["sector_count"] == 2
    assert cross["withheld_by_purpose"] == 1
    [withheld] = [c for c in cross["explanation"] if c["withheld"]]
    assert set(withheld) == {"points", "withheld"}, "no sector, type or date of what is withheld"
    assert sum(Decimal(c["points"]) for c in cross["explanation"]) == Decimal(cross["score_now"])

    # monitoring's rule is `nothing`: the score is that of the signals it sees, no line, no count
    monitoring = harness.get(
        "/v1/worklist", role=AnalystRole.MONITORING, params={"purpose": "monitoring"}
    )
    assert monitoring.status_code == 200
    [seen] = [a for a in monitoring.json()["alerts"] if a["household"] == OTHER_FAMILY]
    assert "withheld_by_purpose" not in seen and not any(c["withheld"] for c in seen["explanation"])
    assert Decimal(seen["score_now"]) < Decimal(cross["score_now"])
    assert sum(Decimal(c["points"]) for c in seen["explanation"]) == Decimal(seen["score_now"])
    for alert in monitoring.json()["alerts"]:
        for line in alert["explanation"]:
            assert "organisation" not in line


def test_refusals_are_decided_and_logged_once(harness: Harness) -> None:
    _three_households(harness.radar)
    before = harness.log.count()
    assert harness.get("/v1/worklist").status_code == 403  # no purpose
    privacy_officer = harness.get(
        "/v1/worklist", role=AnalystRole.PRIVACY_OFFICER, params={"purpose": "accountability"}
    )
    assert privacy_officer.status_code == 403
    assert "does not cover worklist" in privacy_officer.json()["detail"]
    entries = harness.entries_after(before)
    assert [e["outcome"] for e in entries] == ["deny", "deny"]

    publisher = harness.authority.issue(
        Publisher("sys-politie", "politie-utrecht", "police"),  # type: ignore[arg-type]
        Audience.INGEST,
        timedelta(hours=1),
    )
    anonymous = harness.client.get("/v1/worklist", params={"purpose": "triage"})
    as_publisher = harness.client.get(
        "/v1/worklist",
        params={"purpose": "triage"},
        headers={"Authorization": f"Bearer {publisher}"},
    )
    assert (anonymous.status_code, as_publisher.status_code) == (401, 401)
    # refused before any decision: one trace each, with why (issue 22), and no second decision
    refusals = harness.log.entries()[-2:]
    assert harness.log.count() == before + 4
    assert [(e.kind, e.payload["reason"]) for e in refusals] == [
        (EntryKind.AUTH_REFUSED, "missing bearer token"),
        (EntryKind.AUTH_REFUSED, "token is for another audience"),
    ]


def test_an_alert_is_worked_through_the_api_by_named_analysts(harness: Harness) -> None:
    harness.radar.record(signal("huisverbod", ago(3)))
    [alert] = harness.get("/v1/worklist", params={"purpose": "triage"}).json()["alerts"]
    path = f"/v1/alerts/{alert['alert_id']}"
    before = harness.log.count()

    early = harness.post(f"{path}/close", {"purpose": "triage", "reason": "done"})
    assert early.status_code == 409 and "acknowledge it first" in early.json()["detail"]
    elsewhere = harness.post(f"{path}/acknowledge", {"purpose": "triage"}, region="VT13")
    assert elsewhere.status_code == 403 and "bovenregionaal" in elsewhere.json()["detail"]
    identifier = harness.post(
        f"{path}/triage", {"purpose": "triage", "outcome": "advice", "reason": "BSN 111222333"}
    )
    assert identifier.status_code == 422
    assert identifier.json()["errors"][0]["field"] == "reason"
    assert (
        harness.client.post(
            "/v1/alerts/00000000-0000-0000-0000-000000000000/acknowledge",
            json={"purpose": "triage"},
            headers=harness.headers(AnalystRole.TRIAGE),
        ).status_code
        == 404
    )

    assert harness.post(f"{path}/acknowledge", {"purpose": "triage"}).status_code == 200
    triaged = harness.post(
        f"{path}/triage",
        {"purpose": "triage", "outcome": "safety_assessment", "reason": "Children present."},
    )
    assert triaged.json()["status"] == "triaged" and triaged.json()["by"]["subject"] == "a.jansen"
    assert (
        harness.post(f"{path}/close", {"purpose": "triage", "reason": "To SA."}).status_code == 200
    )

    entries = harness.entries_after(before)
    assert [(e["outcome"], e["records"], e["subject"]) for e in entries] == [
        ("deny", 0, FAMILY),  # the close out of order: permitted, refused by the lifecycle
        ("deny", 0, FAMILY),  # another region without a justification
        ("deny", 0, None),  # no such alert: still decided and logged, about no household
        ("permit", 1, FAMILY),
        ("permit", 1, FAMILY),
        ("permit", 1, FAMILY),
    ]
    assert "acknowledge it first" in entries[0]["reason"]
    assert entries[2]["reason"] == "no such alert"
    harness.radar.project()
    stored = harness.radar.worklist.alert(alert["alert_id"])
    assert [(s["status"], s["by"]["subject"]) for s in stored["steps"]] == [
        ("acknowledged", "a.jansen"),
        ("triaged", "a.jansen"),
        ("closed", "a.jansen"),
    ]
    assert harness.get("/v1/worklist", params={"purpose": "triage"}).json()["alerts"] == []


def test_household_risk_and_the_monitoring_steps(harness: Harness) -> None:
    harness.radar.record(signal("domestic_incident", ago(50)), signal("huisverbod", ago(40)))
    risk = harness.get(f"/v1/households/{FAMILY}/risk", params={"purpose": "triage"}).json()
    assert risk["region"] == "VT09" and Decimal(risk["score_now"]) > 0
    assert sum(Decimal(c["points"]) for c in risk["explanation"]) == Decimal(risk["score_now"])
    assert set(risk["child_scores"]) == {"p.k1." + "2" * 32}
    unknown = harness.get(f"/v1/households/{UNKNOWN_FAMILY}/risk", params={"purpose": "triage"})
    assert unknown.status_code == 200 and unknown.json()["score_now"] == "0.00"

    base = f"/v1/households/{FAMILY}/safety-conditions"
    body = {
        "purpose": "monitoring",
        "conditions": ["No contact without the local team"],
        "excluded_signal_types": ["huisverbod"],
        "starts_on": "2025-01-01",
    }
    created = harness.post(base, body, role=AnalystRole.MONITORING)
    assert created.status_code == 201, created.text
    plan = created.json()
    assert plan["check_dates"] == ["2025-04-01", "2025-07-01", "2026-01-01"]
    assert "safety_conditions_breached" in plan["excluded_signal_types"]
    again = harness.post(base, body, role=AnalystRole.MONITORING)
    assert again.status_code == 409
    check = harness.post(
        f"{base}/{plan['plan_id']}/checks",
        {
            "purpose": "monitoring",
            "check_date": "2025-04-01",
            "conditions_kept": True,
            "note": "Kept.",
        },
        role=AnalystRole.MONITORING,
    )
    assert check.status_code == 200, check.text
    harness.radar.project()
    overview = harness.get(
        "/v1/monitoring", role=AnalystRole.MONITORING, params={"purpose": "monitoring"}
    ).json()
    [listed] = overview["plans"]
    assert [(c["check_date"], c["assessed"], c["overdue"]) for c in listed["checks"]] == [
        ("2025-04-01", True, False),
        ("2025-07-01", False, date(2025, 7, 1) < datetime.now(UTC).date()),
        ("2026-01-01", False, date(2026, 1, 1) < datetime.now(UTC).date()),
    ]
    closed = harness.post(
        f"{base}/{plan['plan_id']}/close",
        {"purpose": "monitoring", "safety_achieved": False, "note": "New incidents."},
        role=AnalystRole.MONITORING,
    )
    assert closed.status_code == 200
    moved = harness.post(
        f"/v1/households/{FAMILY}/move",
        {"purpose": "triage", "municipality": "Nowhere", "moved_on": "2026-01-01"},
    )
    assert moved.status_code == 422 and moved.json()["errors"][0]["field"] == "municipality"
    moved = harness.post(
        f"/v1/households/{FAMILY}/move",
        {"purpose": "triage", "municipality": "Zwolle", "moved_on": ago(0).date().isoformat()},
    )
    assert moved.json()["region"] == "VT04"
    harness.radar.project()
    assert harness.radar.monitoring.outcomes("VT04") == {"safety_achieved": 0, "not_achieved": 1}
