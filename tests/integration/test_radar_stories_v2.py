"""Stories of the parties signal.v2 lets publish, told to the radar on SQLite and PostgreSQL with
risk model 2 in force and read back through the query API as Veilig Thuis would: a shelter
placement, an elder-abuse report from home care, a GP's concern about a child and the public
prosecutor's decision coming back as a signal. Each checks what a person would notice: who sees
what (the purpose register), what the score makes of it, and that a household without an address
and a person without a BSN are handled like any other."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from privacy.actors import AnalystRole
from radar.alerts import StaffRef
from radar.risk_model_v2 import default_model_v2
from services.database import Database
from tests.support.radar_fixtures import Harness, radar_query_harness, signal
from tests.support.signals_v2 import person, pseudonym, signal_v2

# adoption rescores at its moment; the query API's clock is the same moment
NOW = datetime.now(UTC).replace(microsecond=0)
MODEL_2 = default_model_v2()
FG = StaffRef("f.visser", "vt-utrecht", "privacy_officer", "VT09")
TRIAGE, DOCTOR, MONITORING = (
    AnalystRole.TRIAGE,
    AnalystRole.CONFIDENTIAL_DOCTOR,
    AnalystRole.MONITORING,
)


def days_ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


@pytest.fixture
def harness(tmp_path: Path, database: Database) -> Iterator[Harness]:
    for harness in radar_query_harness(tmp_path, database, clock=lambda: NOW):
        harness.radar.ledger.adopt_model(MODEL_2, FG, "signal.v2 in force", now=days_ago(400))
        yield harness


def _timeline(harness: Harness, household: str, purpose: str, role: AnalystRole) -> Any:
    answer = harness.get(f"/v1/households/{household}/timeline", role, params={"purpose": purpose})
    assert answer.status_code == 200, answer.text
    return answer.json()


def _risk(harness: Harness, household: str, purpose: str, role: AnalystRole) -> Any:
    answer = harness.get(f"/v1/households/{household}/risk", role, params={"purpose": purpose})
    assert answer.status_code == 200, answer.text
    return answer.json()


def _persons(shown: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["pseudonym"]: p for p in shown.get("persons", [])}


def test_a_family_in_a_shelter_is_one_household_by_its_placement_and_the_police_find_it(
    harness: Harness,
) -> None:
    placement, mother, ex_partner = pseudonym("hs"), pseudonym("p"), pseudonym("p")
    toddler = pseudonym("pl")  # the shelter knows the child by its own file number only
    # The shelter takes in a mother and her toddler after her ex-partner's violence: the
    # household is the placement, never the shelter's (secret) address.
    arrival = signal_v2(
        "shelter_placement",
        days_ago(20),
        placement,
        [
            person(mother, "victim", "parent_or_carer", age=31),
            person(toddler, "child", age=3),
            person(ex_partner, "ex_partner", "suspected_perpetrator"),
        ],
        ["physical_violence", "psychological_violence"],
        sector="shelter",
        organisation="vrouwenopvang-utrecht",
    )
    # Two weeks later the ex-partner turns up there; the police name the same placement.
    callout = signal_v2(
        "domestic_incident",
        days_ago(5),
        placement,
        [
            person(mother, "victim", "ex_partner", age=31),
            person(ex_partner, "ex_partner", "suspected_perpetrator", age=35),
        ],
        ["physical_violence"],
    )
    harness.radar.record(arrival, callout)  # type: ignore[arg-type]

    triage = _timeline(harness, placement, "triage", TRIAGE)
    kinds = [s["signal_type"] for s in triage["signals"]]
    assert kinds == ["shelter_placement", "domestic_incident"]
    first, second = triage["signals"]
    assert _persons(first)[toddler]["roles"] == ["child"] and _persons(first)[toddler]["age"] == 3
    assert _persons(second)[ex_partner]["roles"] == ["ex_partner", "suspected_perpetrator"]
    assert second["forms_of_violence"] == ["physical_violence"]

    risk = _risk(harness, placement, "triage", TRIAGE)
    assert risk["model_version"] == MODEL_2.version
    assert Decimal(risk["score_now"]) > 0
    assert sum(Decimal(line["points"]) for line in risk["explanation"]) == Decimal(
        risk["score_now"]
    ), "the explanation adds up to the score"
    assert toddler in (risk.get("child_scores") or {}), "the child without a BSN has a score"


def test_home_care_reports_elder_abuse_the_doctor_sees_it_and_it_weighs_from_65(
    harness: Harness,
) -> None:
    def report(household: str, woman: str, age: int) -> Any:
        return signal_v2(
            "elder_abuse_concern",
            days_ago(3),
            household,
            [
                person(woman, "victim", age=age),
                person(pseudonym("p"), "informal_carer", "suspected_perpetrator", age=54),
            ],
            ["elder_abuse", "financial_abuse"],
            sector="home_care",
            organisation="thuiszorg-utrecht",
            severity="moderate",
        )

    at_81, at_64 = pseudonym("hh"), pseudonym("hh")
    woman = pseudonym("p")
    harness.radar.record(report(at_81, woman, 81), report(at_64, pseudonym("p"), 64))

    # Home care is health data (AVG art. 9): triage learns there is a signal it may not see,
    # and its weight; the confidential doctor sees what was reported, to whom, how old.
    triage = _timeline(harness, at_81, "triage", TRIAGE)
    assert triage["signals"] == []
    assert triage["withheld_by_purpose"] == 1
    doctor = _timeline(harness, at_81, "medical_review", DOCTOR)
    [seen] = doctor["signals"]
    assert seen["sector"] == "home_care"
    assert seen["forms_of_violence"] == ["elder_abuse", "financial_abuse"]
    assert _persons(seen)[woman]["age"] == 81

    # the score counts what triage may not read (its weight, not its content)
    older = Decimal(_risk(harness, at_81, "triage", TRIAGE)["score_now"])
    younger = Decimal(_risk(harness, at_64, "triage", TRIAGE)["score_now"])
    assert older > younger > 0, "elder abuse counts for a person of 65 and older only"


def test_a_gps_concern_about_a_child_scores_for_the_child_and_stays_with_the_doctor(
    harness: Harness,
) -> None:
    household, mother, boy = pseudonym("hh"), pseudonym("p"), pseudonym("p")
    concern = signal_v2(
        "gp_concern",
        days_ago(10),
        household,
        [person(mother, "parent_or_carer", age=29), person(boy, "child", "victim", age=5)],
        ["neglect"],
        sector="general_practice",
        organisation="huisartsenpraktijk-de-linde",
        severity="moderate",
    )
    absence = signal("school_absence", days_ago(4), household=household, children=(boy,))
    harness.radar.record(concern, absence)  # type: ignore[arg-type]

    triage = _timeline(harness, household, "triage", TRIAGE)
    assert [s["signal_type"] for s in triage["signals"]] == ["school_absence"]
    assert triage["withheld_by_purpose"] == 1, "the GP's concern: its weight, not its content"
    doctor = _timeline(harness, household, "medical_review", DOCTOR)
    assert {s["signal_type"] for s in doctor["signals"]} == {"gp_concern", "school_absence"}

    risk = _risk(harness, household, "triage", TRIAGE)
    assert boy in risk["child_scores"]
    assert Decimal(risk["child_scores"][boy]) == Decimal(risk["score_recorded"]), (
        "both signals name the boy: his score is the household's"
    )


def test_the_prosecutors_decision_comes_back_as_a_signal_triage_sees(harness: Harness) -> None:
    household, mother, father = pseudonym("hh"), pseudonym("p"), pseudonym("p")
    callout = signal("domestic_incident", days_ago(90), household=household, adults=(mother,))
    decision = signal_v2(
        "prosecution_decision",
        days_ago(2),
        household,
        [
            person(mother, "partner", "victim", age=38),
            person(father, "partner", "suspected_perpetrator", age=41),
        ],
        ["physical_violence"],
        sector="public_prosecution",
        organisation="om-midden-nederland",
        severity="moderate",
    )
    harness.radar.record(callout, decision)  # type: ignore[arg-type]

    triage = _timeline(harness, household, "triage", TRIAGE)
    assert [s["sector"] for s in triage["signals"]] == ["police", "public_prosecution"]
    om = triage["signals"][1]
    assert om["signal_type"] == "prosecution_decision"
    assert _persons(om)[father]["roles"] == ["partner", "suspected_perpetrator"]

    monitoring = _timeline(harness, household, "monitoring", MONITORING)
    assert monitoring["signals"][1]["forms_of_violence"] == ["physical_violence"]
    assert all("persons" not in s for s in monitoring["signals"]), "monitoring sees nobody"

    lines = _risk(harness, household, "triage", TRIAGE)["explanation"]
    assert {line["sector"] for line in lines} == {"police", "public_prosecution"}
