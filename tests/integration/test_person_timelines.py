"""Households and the people in them over time, through the query API on SQLite and PostgreSQL:
a child who moves between households in two regions shows up in each household's timeline for
the period they lived there (the new one also shows, for purposes with persons, what the child
brings from the earlier address), and in their own person view across both; a child of separated
parents belongs to both households at once; departures are analysts' steps the history must
allow; every request is decided and logged once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest

from privacy.actors import AnalystRole
from radar.safety import NETHERLANDS
from services.database import Database
from tests.support.inspection import PROBLEM_MEMBERS
from tests.support.radar_fixtures import (
    CHILD,
    FAMILY,
    MOTHER,
    OTHER_FAMILY,
    SECOND_CHILD,
    Harness,
    radar_query_harness,
    signal,
)

FATHER = "p.k1." + "4" * 32
UNKNOWN_PERSON = "p.k1." + "9" * 32
JUSTIFICATION = "The child was moved to Amsterdam; the school there reports injuries."


def ago(days: float) -> datetime:
    return datetime.now(UTC) - timedelta(days=days)


@pytest.fixture
def harness(tmp_path: Path, database: Database) -> Iterator[Harness]:
    yield from radar_query_harness(tmp_path, database)


def _timeline(harness: Harness, household: str, region: str, purpose: str = "triage") -> Any:
    role = AnalystRole.MONITORING if purpose == "monitoring" else AnalystRole.TRIAGE
    answer = harness.get(
        f"/v1/households/{household}/timeline",
        role,
        params={"purpose": purpose},
        as_={"region": region},
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def _ids(view: Any) -> list[str]:
    return [s["signal_id"] for s in view["signals"]]


def _departure(harness: Harness, household: str, person: str, left_on: date) -> Any:
    return harness.post(
        f"/v1/households/{household}/members/{person}/departure",
        {"purpose": "triage", "left_on": left_on.isoformat()},
    )


def test_a_child_moving_between_two_regions_shows_in_both_timelines_for_the_right_periods(
    harness: Harness,
) -> None:
    at_a = [signal("zorgmelding", ago(100)), signal("school_absence", ago(80), severity="low")]
    harness.radar.record(*at_a)  # household A, Utrecht (VT09)
    left_on = ago(60).date()
    before = harness.log.count()
    left = _departure(harness, FAMILY, CHILD, left_on)
    assert left.status_code == 200, left.text
    answer = left.json()
    assert answer.pop("recorded_at_position") > 0  # where a read can wait for it
    assert answer == {"household": FAMILY, "person": CHILD, "recorded": "left"}
    at_b = [
        signal(kind, ago(days), household=OTHER_FAMILY, region="VT13", adults=(FATHER,))
        for kind, days in (("domestic_incident", 40), ("zorgmelding", 20))
    ]
    harness.radar.record(*at_b)  # household B, Amsterdam-Amstelland (VT13)
    harness.radar.record(signal("zorgmelding", ago(10), children=()))  # A, without the child

    a_view = _timeline(harness, FAMILY, "VT09")
    assert _ids(a_view)[:2] == [str(s.event_id) for s in at_a]
    assert len(_ids(a_view)) == 3, "nothing of B: the child had left A before B's signals"
    assert {s["household"] for s in a_view["signals"]} == {FAMILY}
    assert all("via" not in s for s in a_view["signals"])
    b_view = _timeline(harness, OTHER_FAMILY, "VT13")
    assert [
        (s["signal_id"], s.get("via"), s.get("earlier_address")) for s in b_view["signals"]
    ] == [
        *((str(s.event_id), CHILD, True) for s in at_a),  # what the child brings from A
        *((str(s.event_id), None, None) for s in at_b),
    ]

    person = harness.get(
        f"/v1/persons/{CHILD}/timeline", params={"purpose": "triage"}, as_={"region": "VT13"}
    )
    assert person.status_code == 200, person.text
    body = person.json()
    assert body["person"] == CHILD and body["access"] == "normal"
    periods = [
        (m["household"], m["region"], m["until"] and datetime.fromisoformat(m["until"]))
        for m in body["memberships"]
    ]
    assert periods == [
        (FAMILY, "VT09", datetime.combine(left_on, time(), NETHERLANDS)),
        (OTHER_FAMILY, "VT13", None),
    ]
    since = [datetime.fromisoformat(m["since"]) for m in body["memberships"]]
    assert since == [at_a[0].occurred_at, at_b[0].occurred_at]
    assert [(s["signal_id"], s["household"]) for s in body["signals"]] == [
        *((str(s.event_id), FAMILY) for s in at_a),
        *((str(s.event_id), OTHER_FAMILY) for s in at_b),
    ]

    entries = harness.entries_after(before)
    assert [(e["endpoint"].split()[0], e["outcome"], e["subject"]) for e in entries] == [
        ("POST", "permit", FAMILY),
        ("GET", "permit", FAMILY),
        ("GET", "permit", OTHER_FAMILY),
        ("GET", "permit", CHILD),
    ]
    assert entries[-1]["resource"] == "person_timeline" and entries[-1]["records"] == 4


def test_a_child_of_separated_parents_belongs_to_both_households(harness: Harness) -> None:
    first_at_a = signal("zorgmelding", ago(100))
    first_at_b = signal(
        "school_absence", ago(90), household=OTHER_FAMILY, region="VT13", adults=(FATHER,)
    )
    at_a_later = signal("domestic_incident", ago(50))
    at_b_later = signal("huisverbod", ago(30), household=OTHER_FAMILY, region="VT13", adults=())
    father_only = signal(
        "domestic_incident",
        ago(20),
        household=OTHER_FAMILY,
        region="VT13",
        children=(),
        adults=(FATHER,),
    )
    harness.radar.record(first_at_a, first_at_b, at_a_later, at_b_later, father_only)

    a_view = _timeline(harness, FAMILY, "VT09")
    shown = [(s["signal_id"], s["household"], s.get("via")) for s in a_view["signals"]]
    assert shown == [
        (str(first_at_a.event_id), FAMILY, None),
        (str(first_at_b.event_id), OTHER_FAMILY, CHILD),
        (str(at_a_later.event_id), FAMILY, None),
        (str(at_b_later.event_id), OTHER_FAMILY, CHILD),
    ], "B's signals about the child, not the one about the father alone"
    b_view = _timeline(harness, OTHER_FAMILY, "VT13")
    assert [
        (s["signal_id"], s.get("via"), s.get("earlier_address")) for s in b_view["signals"]
    ] == [
        (str(first_at_a.event_id), CHILD, True),  # from before C was seen at B
        (str(first_at_b.event_id), None, None),
        (str(at_a_later.event_id), CHILD, None),
        (str(at_b_later.event_id), None, None),
        (str(father_only.event_id), None, None),
    ]

    monitoring = _timeline(harness, FAMILY, "VT09", purpose="monitoring")
    assert _ids(monitoring) == [s[0] for s in shown], "the same signals, by the same rule"
    for seen in monitoring["signals"]:
        assert not {"household", "via", "persons", "organisation"} & set(seen)

    # A departure from A ends it: B's later signals no longer count for A.
    assert _departure(harness, FAMILY, CHILD, ago(40).date()).status_code == 200
    harness.radar.project()
    assert _ids(_timeline(harness, FAMILY, "VT09")) == [s[0] for s in shown[:3]]


def test_a_departure_the_history_does_not_allow_is_refused_and_logged_once(
    harness: Harness,
) -> None:
    harness.radar.record(signal("zorgmelding", ago(30)))
    before = harness.log.count()
    cases = [
        (SECOND_CHILD, ago(10).date(), 422, "person"),  # never seen in this household
        (CHILD, ago(31).date(), 422, "left_on"),  # before the first signal there
        (CHILD, ago(-2).date(), 422, "left_on"),  # in the future
    ]
    for person, left_on, status, field in cases:
        refused = _departure(harness, FAMILY, person, left_on)
        assert refused.status_code == status, refused.text
        assert [e["field"] for e in refused.json()["errors"]] == [field]
    unknown = _departure(harness, "hh.k1." + "0" * 32, CHILD, ago(1).date())
    assert unknown.status_code == 404
    elsewhere = harness.post(
        f"/v1/households/{FAMILY}/members/{CHILD}/departure",
        {"purpose": "triage", "left_on": ago(1).date().isoformat()},
        region="VT13",
    )
    assert elsewhere.status_code == 403 and "bovenregionaal" in elsewhere.json()["detail"]
    entries = harness.entries_after(before)
    assert [e["outcome"] for e in entries] == ["deny"] * 5
    assert "never named" in entries[0]["reason"] and "future" in entries[2]["reason"]

    harness.radar.project()
    [membership] = harness.radar.timelines.memberships(CHILD)
    assert membership.until is None, "nothing was recorded"


def test_another_region_opens_a_person_only_with_a_justification_and_notifies_theirs(
    harness: Harness,
) -> None:
    harness.radar.record(signal("zorgmelding", ago(100)))
    harness.radar.record(
        signal("school_absence", ago(20), household=OTHER_FAMILY, region="VT13", adults=())
    )
    before = harness.log.count()

    refused = harness.get(f"/v1/persons/{CHILD}/timeline", params={"purpose": "triage"})
    assert refused.status_code == 403 and "bovenregionaal" in refused.json()["detail"]
    assert set(refused.json()) == PROBLEM_MEMBERS  # a reason, no data
    opened = harness.post(
        "/v1/persons/timeline",
        {"person": CHILD, "purpose": "triage", "justification": JUSTIFICATION},
    )
    assert opened.status_code == 200, opened.text
    assert opened.json()["access"] == "cross_region" and len(opened.json()["signals"]) == 2
    monitoring = harness.get(
        f"/v1/persons/{CHILD}/timeline", AnalystRole.MONITORING, params={"purpose": "monitoring"}
    )
    assert monitoring.status_code == 403, "monitoring does not cover person timelines"
    unknown = harness.get(f"/v1/persons/{UNKNOWN_PERSON}/timeline", params={"purpose": "triage"})
    assert unknown.status_code == 200
    assert (unknown.json()["memberships"], unknown.json()["signals"]) == ([], [])
    assert harness.get(f"/v1/persons/{FAMILY}/timeline").status_code == 422  # not a person

    entries = harness.entries_after(before)
    assert [(e["outcome"], e["subject"], e["subject_region"]) for e in entries] == [
        ("deny", CHILD, "VT13"),
        ("permit", CHILD, "VT13"),
        ("deny", CHILD, "VT13"),
        ("permit", UNKNOWN_PERSON, None),
    ]
    assert entries[1]["justification"] == JUSTIFICATION and entries[1]["cross_region"]
    notices = harness.get("/v1/notices", params={"purpose": "triage"}, as_={"region": "VT13"})
    [notice] = notices.json()["notices"]
    assert (notice["household"], notice["kind"], notice["accessor_region"]) == (
        CHILD,
        "cross_region",
        "VT09",
    )


def test_the_person_view_discloses_what_the_purpose_allows(harness: Harness) -> None:
    police = signal("zorgmelding", ago(100))
    ggz_elsewhere = signal(
        "kindcheck_concern",
        ago(50),
        household=OTHER_FAMILY,
        adults=(FATHER,),
        sector="mental_health",
    )
    harness.radar.record(police, ggz_elsewhere)

    def view(role: AnalystRole, purpose: str) -> Any:
        answer = harness.get(f"/v1/persons/{CHILD}/timeline", role, params={"purpose": purpose})
        assert answer.status_code == 200, answer.text
        return answer.json()

    triage = view(AnalystRole.TRIAGE, "triage")
    assert _ids(triage) == [str(police.event_id)]
    assert [m["household"] for m in triage["memberships"]] == [FAMILY], (
        "no hint of the household known only from a signal triage may not see"
    )
    doctor = view(AnalystRole.CONFIDENTIAL_DOCTOR, "medical_review")
    assert _ids(doctor) == [str(police.event_id), str(ggz_elsewhere.event_id)]
    assert [m["household"] for m in doctor["memberships"]] == [FAMILY, OTHER_FAMILY]
    assert doctor["signals"][1]["household"] == OTHER_FAMILY
    assert {p["pseudonym"] for p in doctor["signals"][1]["persons"]} == {FATHER, CHILD}
    assert MOTHER not in {p["pseudonym"] for p in doctor["signals"][1]["persons"]}
