"""The aggregator records signal.v2 records (schema header radar.signal.v2) as they came, beside
v1 records on the same topic: forms of violence, roles, ages, a child not yet born, a person
identified after being known by a local reference, a household in a shelter. Records of an
unknown schema or not valid for theirs are skipped, their offsets still recorded."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from kafka import KafkaAdminClient

from contracts.correction_v1 import SignalCorrectionV1
from contracts.signal_v2 import SignalEventV2
from contracts.upcast_v1_v2 import upcast_signal
from radar.household import Household, household_id
from radar.household_state import household_role
from radar.risk import assess
from services.database import Database
from services.ledger.application import SignalLedger
from tests.support.aggregating import InProcessAggregator, TopicRecord, aggregating, record_of
from tests.support.contract_strategies import v2_signals
from tests.support.radar_fixtures import CHILD, MOTHER, NOW, Radar, days_ago, signal

SHELTERED = "hs.k1." + "a" * 32
MOTHER_LOCALLY = "pl.k1." + "b" * 32  # the shelter's reference, before her BSN was known
UNBORN = "pl.k1." + "c" * 32
PARTNER = "pl.k1." + "d" * 32


@pytest.fixture
def radar(database: Database) -> Iterator[Radar]:
    opened = Radar(database)
    yield opened
    opened.close()


@pytest.fixture
def ledger(radar: Radar) -> SignalLedger:
    return radar.ledger


@pytest.fixture
def member(
    ledger: SignalLedger, topic: str, kafka_admin: KafkaAdminClient
) -> Iterator[InProcessAggregator]:
    with aggregating(ledger, topic, kafka_admin) as aggregator:
        yield aggregator


def _v2(**values: Any) -> SignalEventV2:
    """A shelter's placement of a mother, expecting, fleeing a partner; `values` override."""
    document = {
        "event_id": str(uuid.uuid4()),
        "organisation": "blijf-groep",
        "sector": "shelter",
        "signal_type": "shelter_placement",
        "severity": "high",
        "forms_of_violence": ["physical_violence", "psychological_violence"],
        "occurred_at": days_ago(3).isoformat(),
        "reported_at": days_ago(3).isoformat(),
        "received_at": days_ago(2).isoformat(),
        "region": "VT09",
        "household": SHELTERED,
        "persons": [
            {
                "pseudonym": MOTHER,
                "roles": ["parent_or_carer", "victim"],
                "age": 29,
                "local_pseudonym": MOTHER_LOCALLY,
            },
            {"pseudonym": CHILD, "roles": ["child", "witness"], "age": 4},
            {"pseudonym": UNBORN, "roles": ["child"], "unborn_child_of": MOTHER},
            {"pseudonym": PARTNER, "roles": ["ex_partner", "suspected_perpetrator"]},
        ],
        "pseudonym_key_id": "k1",
    }
    return SignalEventV2.model_validate(document | values)


def _stored(ledger: SignalLedger, household: str) -> list[Any]:
    """The household's SignalRecorded events as the store gives them back, in order."""
    stored = ledger.repository.event_store.get(household_id(household))
    return [e for e in stored if isinstance(e, Household.SignalRecorded)]


def _assert_stored_as_published(stored: Any, published: SignalEventV2) -> None:
    """Every field of the stored event says what the signal (under its first pseudonyms) said."""
    signal = published.canonical()
    assert stored.class_version == 4
    said = signal.prosecution
    assert stored.prosecution == (
        None
        if said is None
        else {
            "outcome": str(said.outcome),
            "referral_id": None if said.referral_id is None else str(said.referral_id),
        }
    )
    assert stored.reported_by == (None if signal.reported_by is None else str(signal.reported_by))
    assert (stored.household, stored.signal_id) == (signal.household, signal.event_id)
    assert (stored.organisation, stored.sector, stored.signal_type, stored.severity) == (
        signal.organisation,
        str(signal.sector),
        str(signal.signal_type),
        str(signal.severity),
    )
    assert stored.forms_of_violence == [str(f) for f in signal.forms_of_violence]
    assert (stored.occurred_at, stored.reported_at, stored.received_at) == (
        signal.occurred_at,
        signal.reported_at,
        signal.received_at,
    )
    assert (stored.region, stored.pseudonym_key_id) == (str(signal.region), signal.pseudonym_key_id)
    assert stored.persons == [
        {
            "pseudonym": p.pseudonym,
            "role": household_role(str(r) for r in p.roles),
            "roles": [str(r) for r in p.roles],
            "age": p.age,
            "unborn_child_of": p.unborn_child_of,
            "local_pseudonym": p.local_pseudonym,
        }
        for p in signal.persons
    ]


def test_a_v2_signal_about_a_sheltered_household_is_recorded_with_all_it_says(
    radar: Radar, ledger: SignalLedger, member: InProcessAggregator
) -> None:
    placement = _v2()
    member.publish(placement, signal("domestic_incident", days_ago(10)))
    [stored] = _stored(ledger, SHELTERED)
    _assert_stored_as_published(stored, placement)
    household = ledger.household(SHELTERED)
    assert household.persons == {
        MOTHER: "parent_or_carer",
        CHILD: "child",
        UNBORN: "child",
        PARTNER: "other_adult",
    }
    [fact] = household.signal_facts()
    assert fact.forms == ("physical_violence", "psychological_violence")
    assert fact.children == tuple(sorted([CHILD, UNBORN]))
    assert {(p.pseudonym, p.age) for p in fact.persons} >= {(MOTHER, 29), (CHILD, 4)}
    assert member.aggregator.recorded == 2
    radar.project()  # the read models take it too
    [entry] = radar.timelines.household_records(SHELTERED)
    assert (entry["signal_type"], entry["sector"]) == ("shelter_placement", "shelter")


def test_model_1_gives_a_type_it_does_not_know_no_points_and_still_counts_it(
    ledger: SignalLedger, member: InProcessAggregator
) -> None:
    """A v2-only type (a GP's concern) under model 1: no points of its own, no crash; beside
    a police call-out it is a second sector, which raises the call-out's points."""
    gp_concern = _v2(
        sector="general_practice",
        signal_type="gp_concern",
        organisation="huisartsen-utrecht",
        household="hh.k1." + "a" * 32,
    )
    member.publish(gp_concern)
    alone = ledger.household(gp_concern.household).latest_assessment()
    assert alone is not None and alone.score == Decimal("0.00")
    assert alone.contributions == ()
    police = signal("domestic_incident", days_ago(4), household=gp_concern.household)
    member.publish(police)
    household = ledger.household(gp_concern.household)
    both = household.latest_assessment()
    assert both is not None  # the ledger's incremental score is the reference's
    assert both == assess(household.signal_facts(), ledger.model_in_force(), both.as_of)
    assert [c.signal_id for c in both.contributions] == [str(police.event_id)]
    assert both.sectors() == ["police"]
    other = signal("domestic_incident", days_ago(4), household="hh.k1." + "9" * 32)
    member.publish(other)
    without = ledger.household(other.household).latest_assessment()
    assert without is not None and both.score > without.score


def test_a_v1_correction_of_a_v2_signal_applies_and_keeps_what_v2_said(
    ledger: SignalLedger, member: InProcessAggregator
) -> None:
    """A v2 signal a v1 correction can name (a v1 sector, an hh. household), of a v2-only type;
    a v2 correction is not part of signal.v2 yet."""
    concern = _v2(
        sector="healthcare",
        signal_type="prenatal_concern",
        organisation="huisartsen-utrecht",
        household="hh.k1." + "7" * 32,
    )
    member.publish(concern)
    correction = SignalCorrectionV1.model_validate(
        {
            "correction_id": str(uuid.uuid4()),
            "kind": "correction",
            "corrects": str(concern.event_id),
            "household": concern.household,
            "organisation": concern.organisation,
            "sector": "healthcare",
            "reason": "ernst herzien",
            "values": {"severity": "acute"},
            "received_at": NOW.isoformat(),
        }
    )
    member.publish(correction)
    assert member.aggregator.corrected == 1
    [fact] = ledger.household(concern.household).signal_facts()
    assert (fact.severity, fact.signal_type) == ("acute", "prenatal_concern")
    assert fact.forms == ("physical_violence", "psychological_violence")
    assert {p.pseudonym for p in fact.persons} == {MOTHER, CHILD, UNBORN, PARTNER}


def test_invalid_records_are_skipped_and_a_signal_sent_again_as_v2_is_a_duplicate(
    ledger: SignalLedger, member: InProcessAggregator
) -> None:
    placement = _v2()
    key = SHELTERED.encode()
    police = signal("domestic_incident", days_ago(1))
    v1_shaped = record_of(police)
    member.send(
        [
            TopicRecord(key, record_of(placement).value, "radar.signal.v9"),
            TopicRecord(key, b'{"schema_version": 2, "event_id": "not a uuid"}', "radar.signal.v2"),
            TopicRecord(key, record_of(placement).value, "radar.signal.v1"),  # v2 as v1: invalid
            TopicRecord(key, v1_shaped.value, "radar.signal.v2"),  # v1 as v2: schema_version 1
            record_of(placement),
            v1_shaped,
            record_of(upcast_signal(police)),  # the same signal again, as v2: a duplicate
            TopicRecord(key, b"not json", "radar.signal.v2"),
        ]
    )
    member.catch_up()  # returned: the offset of the last record, not valid, is stored too
    assert [s.signal_id for s in _stored(ledger, SHELTERED)] == [placement.event_id]
    assert [s.signal_id for s in _stored(ledger, police.household)] == [police.event_id]
    assert (member.aggregator.recorded, member.aggregator.duplicates) == (2, 1)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(published=v2_signals())
def test_any_v2_signal_round_trips_through_kafka_and_the_store(
    ledger: SignalLedger, member: InProcessAggregator, published: SignalEventV2
) -> None:
    """One topic and one store for every example; each example a signal of its own (hypothesis
    may draw the same event id twice: a duplicate is not recorded again)."""
    published = published.model_copy(update={"event_id": uuid.uuid4()})
    member.publish(published)
    [stored] = [
        s
        for s in _stored(ledger, published.first_known_household())
        if s.signal_id == published.event_id
    ]
    _assert_stored_as_published(stored, published)
    assert published.occurred_at - stored.occurred_at == timedelta(0)
