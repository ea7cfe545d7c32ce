"""The safety assessment instrument (veiligheidsbeoordeling) and its events on the case: one
fixed instrument per version, answers it does not allow refused with the field at fault, one
assessment per report, and a replay that gives the same case."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from radar.case import HouseholdCase
from radar.case_assessment import (
    InvestigationClosed,
    Report,
    SafetyAssessmentRecorded,
    Step,
    report_of,
)
from radar.household import Household
from radar.safety_assessment import (
    INSTRUMENTS,
    AssessmentStateError,
    InvestigationOutcome,
    SafetyAssessmentError,
    SafetyDecision,
    instrument,
)
from tests.support.radar_fixtures import FAMILY, TRIAGE_UTRECHT, signal

RECEIVED = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def _fingerprint(described: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(described, sort_keys=True).encode()).hexdigest()


def test_version_1_never_changes() -> None:
    """History refers to version 1: a change to it must be a new version instead."""
    described = instrument(1).describe()
    assert [q["key"] for q in described["questions"]] == [
        "acute_unsafety",
        "structural_unsafety",
        "urgency",
        "expertise",
        "decision",
    ]
    assert described["decisions"] == [
        "own_investigation",
        "child_protection_board",
        "conditions_and_follow_up",
        "handover_local_team",
        "ongoing_care",
        "end_of_involvement",
        "suspected_offence",
    ]
    assert _fingerprint(described) == (
        "da0648d21f0c82d366ee879e85aeddd78da6d728cf18d08433e6a64d9be126b9"
    ), "version 1 changed: release a new version in INSTRUMENTS instead"


def test_the_same_instrument_for_every_region_and_no_other_versions() -> None:
    assert sorted(INSTRUMENTS) == [1]
    with pytest.raises(SafetyAssessmentError) as refused:
        instrument(2)
    assert refused.value.field == "instrument_version"


@pytest.mark.parametrize(
    ("answers", "field"),
    [
        ((True, False, "high", [], "own_investigation"), "urgency"),
        ((False, True, "regular", [], "end_of_involvement"), "decision"),
        ((True, True, "acute", [], "end_of_involvement"), "decision"),
        ((False, False, "soon", [], "own_investigation"), "urgency"),
        ((False, False, "regular", ["astrology"], "own_investigation"), "expertise"),
        ((False, False, "regular", [], "wait_and_see"), "decision"),
    ],
)
def test_answers_the_instrument_does_not_allow_name_the_field(
    answers: tuple[bool, bool, str, list[str], str], field: str
) -> None:
    with pytest.raises(SafetyAssessmentError) as refused:
        instrument(1).answer(*answers)
    assert refused.value.field == field


def test_valid_answers_keep_each_needed_expertise_once() -> None:
    given, decision = instrument(1).answer(
        True, False, "acute", ["partner_violence", "child_abuse", "child_abuse"], "ongoing_care"
    )
    assert decision == SafetyDecision.ONGOING_CARE
    assert given.record() == {
        "acute_unsafety": True,
        "structural_unsafety": False,
        "urgency": "acute",
        "expertise": ["child_abuse", "partner_violence"],
    }


def _household_with_a_report() -> tuple[Household, Report]:
    household = Household(FAMILY)
    household.record(signal("vt_report", RECEIVED, received_at=RECEIVED + timedelta(hours=1)))
    household.record(signal("zorgmelding", RECEIVED - timedelta(days=3)))
    [fact] = [f for f in household.signal_facts() if f.signal_type == "vt_report"]
    return household, report_of(household.signal_facts(), fact.signal_id)


def test_a_report_is_a_vt_report_signal_of_the_household() -> None:
    household, report = _household_with_a_report()
    assert (report.reported_at, report.region) == (RECEIVED, "VT09")
    [police] = [f for f in household.signal_facts() if f.signal_type == "zorgmelding"]
    with pytest.raises(SafetyAssessmentError, match="not a report"):
        report_of(household.signal_facts(), police.signal_id)
    with pytest.raises(SafetyAssessmentError, match="no such report"):
        report_of(household.signal_facts(), "00000000-0000-0000-0000-000000000000")


def _assessed(decision: str = "own_investigation") -> tuple[HouseholdCase, str]:
    _household, report = _household_with_a_report()
    case = HouseholdCase(FAMILY)
    answers = instrument(1).answer(False, True, "high", ["child_abuse"], decision)
    decided = Step(TRIAGE_UTRECHT, "Children at risk.", RECEIVED + timedelta(days=2))
    found = case.assess_report(report, decided, 1, answers)
    return case, found


def _replayed(events: list[Any]) -> Any:
    copy = None
    for stored in events:
        copy = stored.mutate(copy)
    return copy


def test_an_assessment_is_an_event_with_who_when_why_version_answers_and_report() -> None:
    case, found = _assessed()
    events = [e for e in case.collect_events() if isinstance(e, SafetyAssessmentRecorded)]
    [recorded] = events
    assert recorded.by == TRIAGE_UTRECHT.record() and recorded.reason == "Children at risk."
    assert (recorded.instrument_version, recorded.decision) == (1, "own_investigation")
    assert recorded.reported_at == RECEIVED and recorded.assessed_at > recorded.reported_at
    assert recorded.answers["structural_unsafety"] is True
    assert case.taken_up, "an assessment makes the household part of the Veilig Thuis file"
    assert case.open_investigations()[0].assessment_id == found


def test_a_report_is_assessed_once_and_an_investigation_closed_once() -> None:
    case, found = _assessed()
    report = case.assessments[found].report
    again = instrument(1).answer(False, False, "regular", [], "end_of_involvement")
    with pytest.raises(AssessmentStateError, match="already assessed"):
        case.assess_report(
            report, Step(TRIAGE_UTRECHT, "Again.", RECEIVED + timedelta(3)), 1, again
        )
    closed = Step(TRIAGE_UTRECHT, "Established.", RECEIVED + timedelta(weeks=8))
    case.close_investigation(found, closed, InvestigationOutcome.CONFIRMED)
    with pytest.raises(AssessmentStateError, match="already closed"):
        case.close_investigation(found, closed, InvestigationOutcome.CONFIRMED)
    assert case.open_investigations() == []
    events = case.collect_events()
    assert _replayed(events).assessments == case.assessments, "a replay gives the same case"
    [closure] = [e for e in events if isinstance(e, InvestigationClosed)]
    assert (closure.outcome, closure.report_id) == ("confirmed", report.report_id)


def test_only_an_own_investigation_is_closed_and_free_text_is_guarded() -> None:
    case, found = _assessed("handover_local_team")
    later = Step(TRIAGE_UTRECHT, "No.", RECEIVED + timedelta(weeks=1))
    with pytest.raises(AssessmentStateError, match="did not decide an own investigation"):
        case.close_investigation(found, later, InvestigationOutcome.NO_CONCLUSION)
    with pytest.raises(AssessmentStateError, match="no such assessment"):
        case.close_investigation("x", later, InvestigationOutcome.NO_CONCLUSION)
    _household, report = _household_with_a_report()
    fresh = HouseholdCase(FAMILY)
    answers = instrument(1).answer(False, False, "regular", [], "end_of_involvement")
    leaking = Step(TRIAGE_UTRECHT, "BSN 111222333", RECEIVED)
    with pytest.raises(ValueError, match="looks like a BSN"):
        fresh.assess_report(report, leaking, 1, answers)
    assert fresh.assessments == {}
