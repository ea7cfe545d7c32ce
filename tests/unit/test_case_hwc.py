"""Handle with Care on the case, as pure domain: which signals make a notice (a police call-out,
a child of 4 to 18), one per child once, confirmed or declined once, acknowledged only when
confirmed, and a region's automatic rule."""

from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from radar.alerts import StaffRef
from radar.case import HouseholdCase
from radar.case_assessment import Step
from radar.case_hwc import (
    MAX_AGE,
    MIN_AGE,
    AutoConfirmRule,
    NoticeError,
    NoticeStateError,
    NoticeStatus,
    eligible_children,
)
from radar.free_text import FreeTextError
from radar.risk import PersonFact, SignalFact
from radar.safety import NETHERLANDS

FAMILY = "hh.k1." + "c" * 32
VT = StaffRef("a.jansen", "vt-utrecht", "triage", "VT09")
SCHOOL = {"subject": "m.dekker", "organisation": "obs-de-regenboog", "role": "school"}
TUESDAY_EVENING = datetime(2026, 11, 24, 21, 0, tzinfo=NETHERLANDS)
NO_RULE = AutoConfirmRule(frozenset())


def _call_out(
    *ages: int | None, kind: str = "incident_with_children_present", sector: str = "police"
) -> SignalFact:
    persons = [PersonFact("p.k1." + "1" * 32, ("parent_or_carer",), 40)]
    persons += [PersonFact(f"p.k1.{n:032x}", ("child",), age) for n, age in enumerate(ages, 2)]
    return SignalFact(
        "5d0c9f4e-0000-4000-8000-000000000001",
        sector,
        kind,
        "high",
        TUESDAY_EVENING,
        TUESDAY_EVENING,
        "VT09",
        tuple(p.pseudonym for p in persons[1:]),
        (),
        tuple(persons),
    )


@given(st.lists(st.one_of(st.none(), st.integers(0, 25)), max_size=6))
def test_a_notice_is_for_each_child_of_4_to_18_and_no_other(ages: list[int | None]) -> None:
    fact = _call_out(*ages)
    named = {p.pseudonym: p.age for p in fact.persons if "child" in p.roles}
    expected = sorted(
        c for c, age in named.items() if age is not None and MIN_AGE <= age <= MAX_AGE
    )
    assert eligible_children(fact) == expected


@pytest.mark.parametrize(
    ("kind", "sector"),
    [
        ("zorgmelding", "police"),
        ("observed_injury", "education"),
        ("domestic_incident", "veilig_thuis"),
    ],
)
def test_only_a_police_call_out_makes_a_notice(kind: str, sector: str) -> None:
    assert eligible_children(_call_out(9, kind=kind, sector=sector)) == []


def test_a_notice_is_made_once_confirmed_once_and_acknowledged_after_confirmation() -> None:
    case = HouseholdCase(FAMILY)
    [notice] = case.notice_children([_call_out(9, 3)], None, TUESDAY_EVENING, NO_RULE)
    assert case.notice_children([_call_out(9, 3)], None, TUESDAY_EVENING, NO_RULE) == []
    with pytest.raises(NoticeStateError):
        case.acknowledge_notice(notice, SCHOOL, TUESDAY_EVENING)
    step = Step(VT, "Criteria met.", TUESDAY_EVENING)
    with pytest.raises(NoticeError, match="where the child lives"):
        case.confirm_notice(notice, step, None)
    confirmed = case.confirm_notice(notice, step, "Utrecht")
    assert (confirmed.status, str(confirmed.school_day)) == (NoticeStatus.CONFIRMED, "2026-11-25")
    assert case.taken_up, "a person at Veilig Thuis took a step"
    with pytest.raises(NoticeStateError):
        case.decline_notice(notice, step)
    acknowledged = case.acknowledge_notice(notice, SCHOOL, TUESDAY_EVENING)
    assert acknowledged.acknowledged_at == TUESDAY_EVENING


def test_a_decline_keeps_identifiers_out_and_an_unknown_municipality_is_refused() -> None:
    case = HouseholdCase(FAMILY)
    [notice] = case.notice_children([_call_out(12)], None, TUESDAY_EVENING, NO_RULE)
    with pytest.raises(FreeTextError):
        case.decline_notice(notice, Step(VT, "Father 123456782 left.", TUESDAY_EVENING))
    with pytest.raises(NoticeError) as refused:
        case.confirm_notice(notice, Step(VT, "Met.", TUESDAY_EVENING), "Atlantis")
    assert refused.value.field == "municipality"
    assert case.notices[notice].status == NoticeStatus.PENDING, "nothing changed"


def test_a_regions_rule_confirms_at_once_only_where_the_municipality_is_known() -> None:
    rule = AutoConfirmRule(frozenset({"VT09"}))
    known, unknown = HouseholdCase(FAMILY), HouseholdCase("hh.k1." + "d" * 32)
    [at_once] = known.notice_children([_call_out(7)], "GM0344", TUESDAY_EVENING, rule)
    [waiting] = unknown.notice_children([_call_out(7)], None, TUESDAY_EVENING, rule)
    assert known.notices[at_once].status == NoticeStatus.CONFIRMED
    assert unknown.notices[waiting].status == NoticeStatus.PENDING
