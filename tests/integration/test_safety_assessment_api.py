"""Recording the safety assessment of a report through the query API, on a real database: the
answers and the decision by a named analyst, through the gate and in the access log; bad input
is 422 with the field and changes nothing; the own investigation it decides is closed once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from privacy.actors import AnalystRole
from radar.case_assessment import InvestigationClosed, SafetyAssessmentRecorded
from services.database import Database
from tests.support.radar_fixtures import FAMILY, Harness, radar_query_harness, signal

ASSESSOR = AnalystRole.SAFETY_ASSESSMENT
PATH = f"/v1/households/{FAMILY}/safety-assessments"


@pytest.fixture
def harness(tmp_path: Path, database: Database) -> Iterator[Harness]:
    yield from radar_query_harness(tmp_path, database)


def _report(harness: Harness) -> tuple[str, str]:
    """A report received by VT Utrecht two days ago and a police signal: their ids."""
    received = datetime.now(UTC) - timedelta(days=2)
    report, police = signal("vt_report", received), signal("zorgmelding", received)
    harness.radar.record(report, police)
    return str(report.event_id), str(police.event_id)


def _answers(report_id: str, **changes: Any) -> dict[str, Any]:
    return {
        "purpose": "safety_assessment",
        "report_id": report_id,
        "acute_unsafety": False,
        "structural_unsafety": True,
        "urgency": "high",
        "expertise": ["child_abuse", "partner_violence"],
        "decision": "own_investigation",
        "reason": "Repeated incidents with children present.",
        **changes,
    }


def test_the_instrument_is_one_described_version(harness: Harness) -> None:
    answer = harness.get("/v1/safety-assessment/instrument", role=ASSESSOR)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["version"], body["versions"]) == (1, [1])
    assert len(body["decisions"]) == 7 and "child_protection_board" in body["decisions"]
    unknown = harness.get("/v1/safety-assessment/instrument", role=ASSESSOR, params={"version": 9})
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "version"


def test_bad_answers_are_refused_with_the_field_and_change_nothing(harness: Harness) -> None:
    report_id, police_id = _report(harness)
    refused = {
        "report_id": _answers(police_id),  # a police signal is not a report
        "urgency": _answers(report_id, acute_unsafety=True, urgency="regular"),
        "decision": _answers(report_id, decision="wait_and_see"),
        "reason": _answers(report_id, reason="Mother's BSN is 111222333"),
        "instrument_version": _answers(report_id, instrument_version=2),
    }
    before = harness.log.count()
    for field, body in refused.items():
        answer = harness.post(PATH, body, role=ASSESSOR)
        assert answer.status_code == 422, (field, answer.text)
        assert answer.json()["errors"][0]["field"] == field
        assert "111222333" not in answer.text
    monitoring = harness.post(PATH, _answers(report_id, purpose="monitoring"), role=ASSESSOR)
    assert monitoring.status_code == 403
    elsewhere = harness.post(PATH, _answers(report_id), role=ASSESSOR, region="VT13")
    assert elsewhere.status_code == 403 and "bovenregionaal" in elsewhere.json()["detail"]
    school = harness.post(PATH, _answers(report_id), role=AnalystRole.SCHOOL)
    assert school.status_code == 403

    assert harness.radar.events(SafetyAssessmentRecorded) == []
    entries = harness.entries_after(before)
    assert {e["outcome"] for e in entries} == {"deny"}, "decided in the gate and refused"
    assert len(entries) == 6, "the domain's refusals, monitoring, elsewhere, the school"


def test_an_assessment_and_its_investigation_by_named_analysts(harness: Harness) -> None:
    report_id, _police = _report(harness)
    before = harness.log.count()
    created = harness.post(PATH, _answers(report_id), role=ASSESSOR)
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["report_id"], body["region"], body["decision"]) == (
        report_id,
        "VT09",
        "own_investigation",
    )
    assert body["by"]["subject"] == "a.jansen" and body["instrument_version"] == 1
    again = harness.post(PATH, _answers(report_id, decision="ongoing_care"), role=ASSESSOR)
    assert again.status_code == 409 and "already assessed" in again.json()["detail"]

    close = f"{PATH}/{body['assessment_id']}/investigation/close"
    closure = {"purpose": "safety_assessment", "outcome": "confirmed", "reason": "Established."}
    assert harness.post(close, closure, role=ASSESSOR).status_code == 200
    assert harness.post(close, closure, role=ASSESSOR).status_code == 409

    [recorded] = harness.radar.events(SafetyAssessmentRecorded)
    assert (recorded.report_id, recorded.instrument_version) == (report_id, 1)
    assert recorded.answers == {
        "acute_unsafety": False,
        "structural_unsafety": True,
        "urgency": "high",
        "expertise": ["child_abuse", "partner_violence"],
    }
    assert recorded.reported_at == datetime.fromisoformat(body["reported_at"])
    [closed] = harness.radar.events(InvestigationClosed)
    assert (closed.outcome, closed.assessment_id) == ("confirmed", body["assessment_id"])
    entries = harness.entries_after(before)
    assert [(e["outcome"], e["subject"]) for e in entries] == [
        ("permit", FAMILY),
        ("deny", FAMILY),
        ("permit", FAMILY),
        ("deny", FAMILY),
    ]
