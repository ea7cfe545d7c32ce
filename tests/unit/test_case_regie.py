"""Who leads (regie) on the household's case: recorded by Veilig Thuis, replaced by the next
record, the lead's organisation always involved; an involved organisation learns the lead, any
other the same refusal whether or not there is anything to learn."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from radar.case import HouseholdCase
from radar.case_assessment import Step
from radar.case_regie import NOT_INVOLVED, NotInvolvedError, RegieError, RegieRecorded, who_leads
from tests.support.radar_fixtures import FAMILY, TRIAGE_UTRECHT

AT = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)


def _recorded() -> HouseholdCase:
    case = HouseholdCase(FAMILY)
    step = Step(TRIAGE_UTRECHT, "One plan with the local team.", AT)
    case.record_regie(step, "m.bakker", "wijkteam-utrecht-oost", ["obs-de-regenboog"])
    return case


def test_the_lead_is_recorded_with_who_when_why_and_the_leads_organisation_involved() -> None:
    case = _recorded()
    assert case.regie is not None and case.taken_up
    assert case.regie.involved == ("obs-de-regenboog", "wijkteam-utrecht-oost")
    [event] = [e for e in case.collect_events() if isinstance(e, RegieRecorded)]
    assert (event.lead_professional, event.by, event.recorded_at) == (
        "m.bakker",
        TRIAGE_UTRECHT.record(),
        AT,
    )


def test_a_new_record_replaces_the_lead_and_a_replay_gives_the_same() -> None:
    case = _recorded()
    later = Step(TRIAGE_UTRECHT, "Youth care takes over.", AT)
    case.record_regie(later, "k.smit", "jeugdbescherming-utrecht", [])
    events = case.collect_events()
    copy = None
    for event in events:
        copy = event.mutate(copy)
    assert copy is not None and copy.regie == case.regie
    assert case.regie is not None and case.regie.involved == ("jeugdbescherming-utrecht",)


def test_only_an_involved_organisation_learns_who_leads() -> None:
    case = _recorded()
    assert who_leads(case, "obs-de-regenboog").lead_professional == "m.bakker"
    for unknown in (case, HouseholdCase(FAMILY), None):
        with pytest.raises(NotInvolvedError) as refused:
            who_leads(unknown, "politie-midden-nederland")
        assert str(refused.value) == NOT_INVOLVED, "the same answer, whatever there is"


def test_bad_organisations_and_identifiers_are_refused_and_nothing_is_recorded() -> None:
    case = HouseholdCase(FAMILY)
    step = Step(TRIAGE_UTRECHT, "Plan.", AT)
    with pytest.raises(RegieError) as refused:
        case.record_regie(step, "m.bakker", "wijkteam", ["Not An Org!"])
    assert refused.value.field == "involved_organisations"
    with pytest.raises(ValueError, match="looks like a BSN"):
        case.record_regie(step, "111222333", "wijkteam", [])
    assert case.regie is None
