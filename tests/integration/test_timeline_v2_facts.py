"""Timelines show signal.v2's facts as far as each purpose may see them, through the query API
on SQLite and PostgreSQL: a triage analyst sees an elder-abuse signal's form and the victim's
age and roles, monitoring the form but nobody, a purpose with hidden forms never the form it
hides (the rest of the signal still shown), a subject's own request never whom others suspect;
a v1 signal shows no form and each person's one role. A household without a fixed address
(hs.) and a person known by a local reference (pl.) open; an unborn child shows as the child
of its parent; the tables hold none of it in clear."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.persistence import Tracking

from privacy.actors import AnalystRole
from services.database import Database
from services.ledger.application import SignalBatch
from services.ledger.store import open_ledger
from services.projections.projector import Projector, rebuild
from services.schema.migrate import upgrade_database
from tests.support.inspection import identifiers_found, tables_bytes, timeline_store
from tests.support.radar_fixtures import (
    Harness,
    another_signal_like,
    radar_query_harness,
    signal,
)
from tests.support.signals_v2 import person, pseudonym, signal_v2

FGM = "female_genital_mutilation"
SUSPECTED = "suspected_perpetrator"


def ago(days: float) -> datetime:
    return datetime.now(UTC) - timedelta(days=days)


@pytest.fixture
def harness(tmp_path: Path, database: Database) -> Iterator[Harness]:
    yield from radar_query_harness(tmp_path, database)


def _timeline(harness: Harness, household: str, purpose: str, role: AnalystRole) -> Any:
    answer = harness.get(f"/v1/households/{household}/timeline", role, params={"purpose": purpose})
    assert answer.status_code == 200, answer.text
    return {s["signal_id"]: s for s in answer.json()["signals"]}


class ElderAbuse:
    """A household where an informal carer is suspected of abusing a woman of 78, a child
    examined for FGM, and a v1 signal from before signal.v2."""

    def __init__(self, harness: Harness) -> None:
        self.household = pseudonym("hh")
        self.victim, self.carer, self.girl = pseudonym("p"), pseudonym("p"), pseudonym("p")
        self.elder = signal_v2(
            "domestic_incident",
            ago(30),
            self.household,
            [
                person(self.victim, "victim", "parent_or_carer", age=78),
                person(self.carer, "informal_carer", SUSPECTED, age=52),
            ],
            ["elder_abuse", "financial_abuse"],
        )
        self.fgm = signal_v2(
            "zorgmelding",
            ago(20),
            self.household,
            [person(self.girl, "child", "victim", age=9)],
            [FGM, "physical_violence"],
        )
        self.v1 = signal("zorgmelding", ago(40), household=self.household, children=(self.girl,))
        harness.radar.record(self.v1, self.elder, self.fgm)  # type: ignore[arg-type]

    def persons(self, shown: dict[str, Any]) -> dict[str, Any]:
        return {p["pseudonym"]: p for p in shown["persons"]}


def test_each_purpose_sees_the_forms_ages_and_roles_its_register_entry_allows(
    harness: Harness,
) -> None:
    family = ElderAbuse(harness)
    elder, fgm, v1 = str(family.elder.event_id), str(family.fgm.event_id), str(family.v1.event_id)

    triage = _timeline(harness, family.household, "triage", AnalystRole.TRIAGE)
    assert triage[elder]["forms_of_violence"] == ["elder_abuse", "financial_abuse"]
    assert family.persons(triage[elder]) == {
        family.victim: {
            "pseudonym": family.victim,
            "role": "parent_or_carer",
            "roles": ["victim", "parent_or_carer"],
            "age": 78,
        },
        family.carer: {
            "pseudonym": family.carer,
            "role": "other_adult",
            "roles": ["informal_carer", SUSPECTED],
            "age": 52,
        },
    }
    assert triage[fgm]["forms_of_violence"] == [FGM, "physical_violence"]
    assert triage[v1]["forms_of_violence"] == []  # a v1 signal: no form, its persons' one role
    assert [(p["role"], p["roles"], "age" in p) for p in triage[v1]["persons"]] == [
        ("parent_or_carer", ["parent_or_carer"], False),
        ("child", ["child"], False),
    ]

    monitoring = _timeline(harness, family.household, "monitoring", AnalystRole.MONITORING)
    assert monitoring[elder]["forms_of_violence"] == ["elder_abuse", "financial_abuse"]
    assert all("persons" not in s for s in monitoring.values())
    assert monitoring[fgm]["forms_of_violence"] == ["physical_violence"]  # FGM hidden
    assert monitoring[fgm]["signal_type"] == "zorgmelding"  # the rest of the signal shown

    # After triage's answers were kept (answers.py): what is shown, not who asked first.
    assessment = _timeline(
        harness, family.household, "safety_assessment", AnalystRole.SAFETY_ASSESSMENT
    )
    assert assessment[fgm]["forms_of_violence"] == ["physical_violence"]
    assert family.persons(assessment[fgm])[family.girl]["age"] == 9
    assert _timeline(harness, family.household, "triage", AnalystRole.TRIAGE) == triage

    subject = _timeline(harness, family.household, "subject_request", AnalystRole.PRIVACY_OFFICER)
    carer = family.persons(subject[elder])[family.carer]
    assert carer["roles"] == ["informal_carer"]  # whom others suspect stays out
    assert subject[elder]["forms_of_violence"] == ["elder_abuse", "financial_abuse"]

    person_view = harness.get(f"/v1/persons/{family.carer}/timeline", params={"purpose": "triage"})
    assert person_view.status_code == 200, person_view.text
    [shown] = person_view.json()["signals"]
    assert shown["forms_of_violence"] == ["elder_abuse", "financial_abuse"]
    assert {p["pseudonym"]: p.get("age") for p in shown["persons"]} == {
        family.victim: 78,
        family.carer: 52,
    }
    as_subject = harness.get(
        f"/v1/persons/{family.carer}/timeline",
        AnalystRole.PRIVACY_OFFICER,
        params={"purpose": "subject_request"},
    )
    assert as_subject.status_code == 200, as_subject.text
    assert SUSPECTED not in as_subject.text


def test_a_shelter_household_and_a_person_by_local_reference_open_with_an_unborn_child(
    harness: Harness, database: Database
) -> None:
    shelter = pseudonym("hs")
    mother, unborn, identified = pseudonym("pl"), pseudonym("pl"), pseudonym("p")
    known_as = pseudonym("pl")
    prenatal = signal_v2(  # a type model 1 weighs: the ledger scores every signal with it
        "domestic_incident",
        ago(10),
        shelter,
        [
            person(mother, "parent_or_carer", "victim", age=27),
            person(unborn, "child", unborn_child_of=mother),
            person(identified, "ex_partner", SUSPECTED, local_pseudonym=known_as),
        ],
        ["physical_violence"],
    )
    harness.radar.record(prenatal)  # type: ignore[arg-type]

    timeline = harness.get(f"/v1/households/{shelter}/timeline", params={"purpose": "triage"})
    assert timeline.status_code == 200, timeline.text
    [shown] = timeline.json()["signals"]
    persons = {p["pseudonym"]: p for p in shown["persons"]}
    assert persons[unborn] == {
        "pseudonym": unborn,
        "role": "child",
        "roles": ["child"],
        "unborn_child_of": mother,
    }
    assert "local_pseudonym" not in persons[identified]  # no purpose sees it: it only links
    assert known_as not in timeline.text
    opened = harness.post("/v1/households/timeline", {"household": shelter, "purpose": "triage"})
    assert opened.status_code == 200, opened.text
    assert opened.json()["signals"] == timeline.json()["signals"]

    for pl in (mother, unborn):
        view = harness.get(f"/v1/persons/{pl}/timeline", params={"purpose": "triage"})
        assert view.status_code == 200, view.text
        assert [s["signal_id"] for s in view.json()["signals"]] == [str(prenatal.event_id)]
        assert [m["household"] for m in view.json()["memberships"]] == [shelter]
    posted = harness.post("/v1/persons/timeline", {"person": unborn, "purpose": "triage"})
    assert posted.status_code == 200, posted.text
    assert (
        harness.get(f"/v1/persons/{known_as}/timeline", params={"purpose": "triage"}).json()[
            "signals"
        ]
        == []
    )  # the reference it was known by names nobody in the timeline
    bad = harness.get(f"/v1/persons/px.k1.{'0' * 32}/timeline", params={"purpose": "triage"})
    assert bad.status_code == 422

    engine = database.engine()
    try:
        stored = b"\n".join(tables_bytes(engine, ("timeline_signals", "person_memberships")))
    finally:
        engine.dispose()
    secrets = {shelter, mother, unborn, identified, known_as, "physical_violence", "victim"}
    secrets |= {p.rsplit(".", 1)[-1] for p in (shelter, mother, unborn, identified, known_as)}
    assert stored and identifiers_found(stored, secrets) == []


RELEASE = Path(__file__).parent.parent / "fixtures" / "release-stop14" / "sqlite"


def test_timeline_rows_of_the_previous_release_read_as_before_and_take_v2_signals(
    tmp_path: Path,
) -> None:
    """The release's timeline rows (format 2, kept by the upgrade: no migration, no rebuild)
    show its v1 signals with no form and one role each, equal to a rebuild, also after a v2
    signal joined them."""
    copy = tmp_path / "release"
    shutil.copytree(RELEASE, copy)
    database = Database(f"sqlite:///{copy / 'radar.db'}", copy / "keys")
    upgrade_database(database)
    household = json.loads((copy / "expected.json").read_text())["households"]["h1"]
    ledger = open_ledger(database)
    kept = timeline_store(database)
    try:
        assert kept.position() > 0, "the release's rows are kept, not rebuilt"
        before = kept.household_records(household)
        assert before and all(r["forms_of_violence"] == [] for r in before)
        assert all(
            p["roles"] == [p["role"]] and "age" not in p for r in before for p in r["persons"]
        )
        template = another_signal_like(ledger, household, ago(1), ago(0.5))
        victim = pseudonym("p")
        joined = signal_v2(
            str(template.signal_type),
            ago(1),
            household,
            [person(victim, "victim", "parent_or_carer", age=78)],
            ["elder_abuse"],
            sector=str(template.sector),
            organisation=template.organisation,
            region=str(template.region),
        )
        batch = SignalBatch([joined])  # type: ignore[list-item]  # the ledger records v2 too
        ledger.record_batch(batch, Tracking("test:v2-after-upgrade:0", 1))
        Projector(ledger, kept, batch_size=7).catch_up()
        after = {r["signal_id"]: r for r in kept.household_records(household)}
        assert [after[r["signal_id"]] for r in before] == before
        assert after[str(joined.event_id)]["forms_of_violence"] == ["elder_abuse"]
        assert after[str(joined.event_id)]["persons"][0]["age"] == 78
        rebuilt = timeline_store(Database(f"sqlite:///{tmp_path / 'rebuilt.db'}", copy / "keys"))
        rebuild(ledger, rebuilt, 1000)
        assert kept.dump() == rebuilt.dump()
        rebuilt.engine.dispose()
    finally:
        ledger.close()
        kept.engine.dispose()
