"""Handle with Care as a school, a leerplicht office and Veilig Thuis live it, on the real broker
and both databases: a police call-out published through Kafka, Veilig Thuis confirming through
the query API, the receiver reading its feed and acknowledging; the school day as the school
calendar has it; a notice not acknowledged by 08:30 on Veilig Thuis's worklist."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaAdminClient

from contracts.correction_v1 import CorrectionKind, SignalCorrectionV1
from contracts.signal_v2 import SignalEventV2
from contracts.vocabulary import Sector
from privacy.actors import Analyst, AnalystRole
from privacy.addresses import HomeAddress
from privacy.credentials import Audience
from privacy.storage.vault import Identity
from radar.case_hwc import NoticeCreated
from radar.safety import NETHERLANDS
from services import bootstrap
from services.database import Database
from services.handle_with_care.reminders import remind_unacknowledged
from services.handle_with_care.store import BODY_FIELDS, HandleWithCareStore
from services.projections.projector import Projector, rebuild
from services.settings import Settings
from tests.support.aggregating import InProcessAggregator, aggregating
from tests.support.radar_fixtures import Harness, radar_query_harness
from tests.support.signals_v2 import person, pseudonym, signal_v2

SCHOOL = "obs-de-regenboog"
LEERPLICHT = "leerplicht-gm0344"  # Utrecht
OFFICE = AnalystRole.COMPULSORY_EDUCATION
CHECK = {"purpose": "handle_with_care_check"}
NOTICE = {"purpose": "handle_with_care_notice"}


class Story:
    """The query API and an aggregator on one database and topic, the Handle with Care read
    model beside them; the story's now is the query API's, moved as the story goes."""

    harness: Harness
    member: InProcessAggregator
    notices: HandleWithCareStore
    settings: Settings

    def __init__(self) -> None:
        self.now = at(date(2026, 11, 2), 12)

    def __call__(self) -> datetime:
        return self.now

    def parts(self) -> tuple[Harness, InProcessAggregator, HandleWithCareStore, Story]:
        return self.harness, self.member, self.notices, self


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), NETHERLANDS)


@pytest.fixture
def story(
    tmp_path: Path, database: Database, topic: str, kafka_admin: KafkaAdminClient
) -> Iterator[Story]:
    told = Story()
    told.settings = Settings(data_dir=tmp_path / "data", database_url=database.url)
    for harness in radar_query_harness(tmp_path, database, told):
        told.harness = harness
        engine = harness.radar.worklist.engine
        told.notices = HandleWithCareStore(engine, harness.radar.database.row_sealer(engine))
        with aggregating(harness.radar.ledger, topic, kafka_admin) as told.member:
            yield told


def _project(harness: Harness, notices: HandleWithCareStore) -> None:
    harness.radar.project()
    Projector(harness.radar.ledger, notices, batch_size=5).catch_up()


def _as(harness: Harness, organisation: str, role: AnalystRole) -> dict[str, str]:
    contact = Analyst("m.dekker", organisation, role, "VT09")  # type: ignore[arg-type]
    token = harness.authority.issue(contact, Audience.QUERY, timedelta(hours=1))
    return {"Authorization": f"Bearer {token}"}


def _call_out(
    member: InProcessAggregator, moment: datetime, household: str, *ages: int
) -> list[str]:
    """The police were called to the home; the children of these ages were there."""
    children = [pseudonym("p") for _ in ages]
    persons = [person(pseudonym("p"), "parent_or_carer", age=38)]
    persons += [person(c, "child", age=a) for c, a in zip(children, ages, strict=True)]
    member.publish(signal_v2("incident_with_children_present", moment, household, persons))
    return children


def _retraction(signal: SignalEventV2) -> SignalCorrectionV1:
    return SignalCorrectionV1(
        correction_id=uuid.uuid4(),
        corrects=signal.event_id,
        kind=CorrectionKind.RETRACTION,
        reason="published about the wrong pupil",
        organisation=signal.organisation,
        sector=Sector(str(signal.sector)),
        received_at=signal.received_at + timedelta(days=1),
        household=signal.household,
    )


def _pending(harness: Harness) -> list[dict[str, Any]]:
    answer = harness.get("/v1/handle-with-care/pending", params=CHECK)
    assert answer.status_code == 200, answer.text
    found: list[dict[str, Any]] = answer.json()
    return found


def _confirm(harness: Harness, household: str, notice: str, **extra: Any) -> Any:
    body = {**CHECK, "reason": "Children of school age live there.", **extra}
    return harness.post(f"/v1/households/{household}/handle-with-care/{notice}/confirmation", body)


def _feed(harness: Harness, organisation: str, role: AnalystRole) -> Any:
    answer = harness.client.get(
        "/v1/feeds/handle-with-care", params=NOTICE, headers=_as(harness, organisation, role)
    )
    assert answer.status_code == 200, answer.text
    return answer


def _acknowledge(harness: Harness, notice: str, organisation: str, role: AnalystRole) -> Any:
    return harness.client.post(
        f"/v1/handle-with-care/{notice}/acknowledgement",
        json=NOTICE,
        headers=_as(harness, organisation, role),
    )


def _office_items(harness: Harness) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = _feed(harness, LEERPLICHT, OFFICE).json()["items"]
    return items


def _deposit(story: Story, household: str, person: str, bsn: str) -> None:
    """Who a person is, as ingest would have put it in the identity vault (a synthetic BSN)."""
    keys = bootstrap.pseudonyms(story.settings).pseudonymiser()
    home = HomeAddress.normalised("3511 AB", 20)
    bootstrap.identity_vault(story.settings).deposit(
        [Identity(household, home, ((person, bsn),))], keys
    )


def _identify(
    harness: Harness, notice: str, organisation: str, role: AnalystRole, **body: Any
) -> Any:
    return harness.client.post(
        f"/v1/handle-with-care/{notice}/child-identity",
        json={"purpose": "handle_with_care_identity", **body},
        headers=_as(harness, organisation, role),
    )


def _overdue(harness: Harness) -> list[dict[str, Any]]:
    alerts = harness.get("/v1/worklist", params={"purpose": "triage"}).json()["alerts"]
    return [a for a in alerts if a["kind"] == "hwc_unacknowledged"]


def test_a_school_hears_about_its_pupil_before_half_past_eight_and_learns_nothing_else(
    story: Story,
) -> None:
    harness, member, notices, clock = story.parts()
    family, pupil, sibling = pseudonym("hh"), pseudonym("p"), pseudonym("p")
    earlier = signal_v2(
        "behavioural_concern",
        at(date(2026, 10, 5), 11),
        family,
        [person(pseudonym("p"), "parent_or_carer"), person(pupil, "child", age=9)],
        sector="education",
        organisation=SCHOOL,
        severity="moderate",
    )
    member.publish(earlier)
    # Tuesday 24 November 2026, 21:00: the police are called; the pupil (9) and a sibling (14)
    # whose school the radar does not know are at home, and a toddler (2).
    persons = [
        person(pseudonym("p"), "parent_or_carer", age=38),
        person(pupil, "child", age=9),
        person(sibling, "child", age=14),
        person(pseudonym("p"), "child", age=2),
    ]
    member.publish(
        signal_v2("incident_with_children_present", at(date(2026, 11, 24), 21), family, persons)
    )
    _project(harness, notices)
    waiting = _pending(harness)
    assert sorted(n["child"] for n in waiting) == sorted([pupil, sibling]), "none for the toddler"

    clock.now = at(date(2026, 11, 24), 22, 30)
    for notice in waiting:
        confirmed = _confirm(harness, family, notice["notice_id"], municipality="Utrecht")
        assert confirmed.status_code == 200, confirmed.text
        assert confirmed.json()["school_day"] == "2026-11-25"
    _project(harness, notices)
    assert _pending(harness) == []

    school_feed = _feed(harness, SCHOOL, AnalystRole.SCHOOL)
    [item] = school_feed.json()["items"]
    assert set(item["body"]) == BODY_FIELDS
    assert item["body"]["message"] == "Handle with Care"
    assert item["body"]["school_day"] == "2026-11-25"
    deadline = datetime.fromisoformat(item["body"]["deadline"])
    assert deadline == at(date(2026, 11, 25), 8, 30)
    assert datetime.fromisoformat(item["occurred_at"]) < deadline, "there before lessons start"
    assert item["body"]["child"] == {"your_signal": str(earlier.event_id), "person": 2}
    for secret in (family, pupil, sibling, "incident", "police", "politie"):
        assert secret not in school_feed.text, "never what, never the household or a pseudonym"

    office_feed = _feed(harness, LEERPLICHT, OFFICE)
    [for_office] = office_feed.json()["items"]
    assert for_office["body"]["child"] == {"reference": for_office["body"]["notice_id"]}
    assert sibling not in office_feed.text and family not in office_feed.text
    assert _feed(harness, "obs-elders", AnalystRole.SCHOOL).json()["items"] == []

    # the office finds the sibling's school by the child's BSN, through the gate; nobody else
    _deposit(story, family, sibling, "123456782")
    office_notice = for_office["body"]["notice_id"]
    identified = _identify(harness, office_notice, LEERPLICHT, OFFICE)
    assert identified.status_code == 200, identified.text
    assert identified.json() == {"notice_id": office_notice, "bsn": "123456782"}
    assert _identify(harness, office_notice, SCHOOL, AnalystRole.SCHOOL).status_code == 403
    notice_purpose = _identify(
        harness, office_notice, LEERPLICHT, OFFICE, purpose="handle_with_care_notice"
    )
    assert notice_purpose.status_code == 403
    school_notice = item["body"]["notice_id"]
    assert _identify(harness, school_notice, LEERPLICHT, OFFICE).status_code == 404, "not its own"
    assert "123456782" not in str([e.payload for e in harness.log.entries()]), "nor the log"

    notice = item["body"]["notice_id"]
    assert _acknowledge(harness, notice, "obs-elders", AnalystRole.SCHOOL).status_code == 404
    clock.now = at(date(2026, 11, 25), 7, 55)
    acknowledged = _acknowledge(harness, notice, SCHOOL, AnalystRole.SCHOOL)
    assert acknowledged.status_code == 200, acknowledged.text
    assert _acknowledge(harness, notice, SCHOOL, AnalystRole.SCHOOL).json() == acknowledged.json()
    _project(harness, notices)

    # 08:30 has passed: the office has not acknowledged, so its notice is on the worklist
    clock.now = at(date(2026, 11, 25), 8, 31)
    assert remind_unacknowledged(harness.radar.ledger, notices, clock.now) == 1
    _project(harness, notices)
    assert remind_unacknowledged(harness.radar.ledger, notices, clock.now) == 0, "once"
    [overdue] = _overdue(harness)
    assert overdue["status"] == "raised" and overdue["household"] == family
    late = _acknowledge(harness, office_notice, LEERPLICHT, OFFICE)
    assert late.status_code == 200, late.text
    _project(harness, notices)
    assert _overdue(harness) == [], "the acknowledgement closes it"

    live = notices.dump()
    rebuild(harness.radar.ledger, notices, batch_size=3)
    assert notices.dump() == live
    assert _feed(harness, SCHOOL, AnalystRole.SCHOOL).json() == school_feed.json()


def test_a_friday_night_incident_is_for_monday_and_a_summer_one_for_the_first_school_day(
    story: Story,
) -> None:
    harness, member, notices, clock = story.parts()
    friday, summer, pupil = pseudonym("hh"), pseudonym("hh"), pseudonym("p")
    _call_out(member, at(date(2026, 11, 27), 23, 10), friday, 8)
    # the summer child's school reported about the child, then retracted that signal: the
    # radar no longer knows the school, so the leerplicht office hears it
    earlier = signal_v2(
        "school_absence",
        at(date(2026, 6, 1), 9),
        summer,
        [person(pupil, "child", age=12)],
        sector="education",
        organisation=SCHOOL,
        severity="low",
    )
    member.publish(earlier)
    member.publish(_retraction(earlier))
    # Utrecht is in region midden: its summer holiday of 2026 runs 18 July to 30 August
    persons = [person(pseudonym("p"), "parent_or_carer", age=41), person(pupil, "child", age=12)]
    member.publish(
        signal_v2("incident_with_children_present", at(date(2026, 8, 5), 16), summer, persons)
    )
    _project(harness, notices)
    by_household = {n["household"]: n["notice_id"] for n in _pending(harness)}

    clock.now = at(date(2026, 11, 28), 10)  # Saturday morning
    weekend = _confirm(harness, friday, by_household[friday], municipality="GM0344")
    assert weekend.status_code == 200, weekend.text
    assert weekend.json()["school_day"] == "2026-11-30"
    assert datetime.fromisoformat(weekend.json()["deadline"]) == at(date(2026, 11, 30), 8, 30)

    clock.now = at(date(2026, 8, 6), 9)
    holiday = _confirm(harness, summer, by_household[summer], municipality="Utrecht")
    assert holiday.status_code == 200, holiday.text
    assert holiday.json()["school_day"] == "2026-08-31"

    again = _confirm(harness, summer, by_household[summer], municipality="Utrecht")
    assert again.status_code == 409
    _project(harness, notices)
    days = [i["body"]["school_day"] for i in _office_items(harness)]
    assert sorted(days) == ["2026-08-31", "2026-11-30"]
    assert _feed(harness, SCHOOL, AnalystRole.SCHOOL).json()["items"] == [], "retracted"


def test_a_child_of_3_or_19_makes_no_notice_and_a_declined_one_reaches_nobody(story: Story) -> None:
    harness, member, notices, clock = story.parts()
    too_young_or_old, declined = pseudonym("hh"), pseudonym("hh")
    _call_out(member, at(date(2026, 11, 10), 20), too_young_or_old, 3, 19)
    _call_out(member, at(date(2026, 11, 11), 20), declined, 6)
    _project(harness, notices)
    [waiting] = _pending(harness)
    assert waiting["household"] == declined
    assert [e.household for e in harness.radar.events(NoticeCreated)] == [declined]

    clock.now = at(date(2026, 11, 11), 21)
    missing = _confirm(harness, declined, waiting["notice_id"])
    assert missing.status_code == 422, "where the child lives is needed"
    assert missing.json()["errors"][0]["field"] == "municipality"
    leaking = harness.post(
        f"/v1/households/{declined}/handle-with-care/{waiting['notice_id']}/decline",
        {**CHECK, "reason": "Father 123456782 moved out."},
    )
    assert leaking.status_code == 422, "the leak guard keeps a BSN out of the store"
    answer = harness.post(
        f"/v1/households/{declined}/handle-with-care/{waiting['notice_id']}/decline",
        {**CHECK, "reason": "The child does not live there."},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "declined"
    _project(harness, notices)
    assert _pending(harness) == []
    assert _office_items(harness) == []
