"""Casework stories told over days (lead times, terugmelding): a clock the story moves (the
query API's now), a moment on a Dutch calendar day, and Veilig Thuis's steps on a report
through the query API on the day the story says."""

from __future__ import annotations

from datetime import date, datetime, time

from privacy.actors import AnalystRole
from radar.safety import NETHERLANDS
from tests.support.radar_fixtures import FAMILY, Harness

STORY_START = date(2026, 11, 2)  # a Monday


def at(day: date, hour: int = 10) -> datetime:
    """`hour` o'clock in the Netherlands on `day`."""
    return datetime.combine(day, time(hour), NETHERLANDS)


class Clock:
    """The query API's now, moved by the story."""

    def __init__(self) -> None:
        self.now = at(STORY_START)

    def __call__(self) -> datetime:
        return self.now


def decide(
    harness: Harness,
    clock: Clock,
    report_id: str,
    day: date,
    decision: str,
    household: str = FAMILY,
    region: str = "VT09",
) -> str:
    """Veilig Thuis's safety assessment of the report on `day`, through the query API; its id."""
    clock.now = at(day)
    answer = harness.post(
        f"/v1/households/{household}/safety-assessments",
        {
            "purpose": "safety_assessment",
            "report_id": report_id,
            "acute_unsafety": False,
            "structural_unsafety": True,
            "urgency": "high",
            "decision": decision,
            "reason": "Weighed with the instrument.",
        },
        role=AnalystRole.SAFETY_ASSESSMENT,
        region=region,
    )
    assert answer.status_code == 201, answer.text
    assessment: str = answer.json()["assessment_id"]
    return assessment


def close_investigation(
    harness: Harness, clock: Clock, household: str, assessment: str, day: date, outcome: str
) -> None:
    """Veilig Thuis closes the own investigation the assessment started, on `day`."""
    clock.now = at(day)
    closed = harness.post(
        f"/v1/households/{household}/safety-assessments/{assessment}/investigation/close",
        {"purpose": "safety_assessment", "outcome": outcome, "reason": "Established."},
        role=AnalystRole.SAFETY_ASSESSMENT,
    )
    assert closed.status_code == 200, closed.text
