"""signal.v2 at the ingest API, in-process on the real broker and real databases: what a
publisher of a new party (home care, a shelter) sends, what reaches the signals topic (header
radar.signal.v2, a valid SignalEventV2, pseudonyms only), and what is refused without changing
anything. v1 beside it is test_ingest_api.py's, unchanged."""

from __future__ import annotations

import logging
import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from kafka.partitioner.default import murmur2

from contracts.bsn import synthetic_bsn
from contracts.pseudonyms_v2 import domain_of
from contracts.signal_v2 import SIGNAL_SCHEMA_V2, SignalEventV2
from contracts.vocabulary_v2 import SectorV2
from privacy.actors import Publisher
from privacy.credentials import Audience, TokenAuthority
from privacy.pseudonyms import PseudonymKeyring
from privacy.sealed_identifiers import PublishedKey
from privacy.sealed_submission import sealed_signal
from services.database import Database
from services.logs import configure_logging
from services.settings import Settings
from tests.support.ingest import (
    PARTITIONS,
    TopicProbe,
    assert_nothing_changed,
    bearer_for,
    ingest_client,
    receipts,
)
from tests.support.inspection import database_bytes, files_bytes, identifiers_found

pytestmark = pytest.mark.integration

HOME_CARE = Publisher("sys-tz", "thuiszorg-utrecht", SectorV2.HOME_CARE)
OTHER_HOME_CARE = Publisher("sys-tz2", "thuiszorg-zeist", SectorV2.HOME_CARE)
SHELTER = Publisher("sys-opv", "opvang-utrecht", SectorV2.SHELTER)
VEILIG_THUIS = Publisher("sys-vt", "vt-utrecht", SectorV2.VEILIG_THUIS)
OM = Publisher("sys-om", "om-midden-nederland", SectorV2.PUBLIC_PROSECUTION)
RNG = random.Random(16)


def _signal(signal_type: str, household: dict[str, Any], persons: list[Any]) -> dict[str, Any]:
    return {
        "event_id": str(uuid.uuid4()),
        "signal_type": signal_type,
        "severity": "high",
        "occurred_at": (datetime.now(UTC) - timedelta(days=2)).isoformat(),
        "region": "VT09",
        "household": household,
        "persons": persons,
    }


def _elder_abuse() -> tuple[dict[str, Any], list[str]]:
    """Home care about elder abuse: a victim of 78, her son suspected and her informal carer;
    with the plain identifiers it carries (BSNs, the postcode)."""
    victim, son = synthetic_bsn(RNG), synthetic_bsn(RNG)
    postcode = f"{RNG.randint(1000, 9999)}KT"
    signal = _signal(
        "elder_abuse_concern",
        {"postcode": postcode, "house_number": RNG.randint(1, 300)},
        [
            {"bsn": victim, "roles": ["victim"], "age": 78},
            {"bsn": son, "roles": ["suspected_perpetrator", "informal_carer"]},
        ],
    )
    signal["forms_of_violence"] = ["elder_abuse", "financial_abuse"]
    return signal, [victim, son, postcode]


def _placement(reference: str, mother: str, pregnancy: str) -> dict[str, Any]:
    """A shelter placement: a mother by the shelter's own reference and her unborn child."""
    return _signal(
        "shelter_placement",
        {"placement": {"shelter": "opvang-utrecht", "reference": reference}},
        [
            {"local_reference": mother, "roles": ["parent_or_carer", "victim"], "age": 29},
            {"local_reference": pregnancy, "roles": ["child"], "unborn_child_of": 0},
        ],
    )


def _post(settings: Settings, path: str, body: Any, publisher: Publisher) -> Any:
    headers = bearer_for(TokenAuthority(settings.keys_dir), publisher, Audience.INGEST)
    with ingest_client(settings) as client:
        return client.post(path, json=body, headers=headers)


def _events(kafka: TopicProbe) -> list[SignalEventV2]:
    records = kafka.records()
    for record in records:
        assert dict(record.headers)["schema"] == SIGNAL_SCHEMA_V2.encode()
        assert record.partition == (murmur2(record.key) & 0x7FFFFFFF) % PARTITIONS
    return [SignalEventV2.model_validate_json(r.value) for r in records]


def test_home_care_batch_about_elder_abuse_is_published_as_v2_without_identifiers(
    settings: Settings, kafka: TopicProbe, database: Database
) -> None:
    configure_logging("ingest", "info", settings.logs_dir / "ingest.log")
    signal, identifiers = _elder_abuse()
    answer = _post(settings, "/v2/signals/batch", {"signals": [signal]}, HOME_CARE)

    assert answer.status_code == 200, answer.text
    assert answer.json()["accepted"] == 1
    (record,) = kafka.records()
    (event,) = _events(kafka)
    assert record.key.decode() == event.household and domain_of(event.household) == "hh"
    assert (event.organisation, event.sector) == ("thuiszorg-utrecht", SectorV2.HOME_CARE)
    assert event.forms_of_violence == ("elder_abuse", "financial_abuse")
    victim, son = event.persons
    assert (victim.roles, victim.age) == (("victim",), 78)
    assert (son.roles, son.age) == (("suspected_perpetrator", "informal_carer"), None)
    assert {domain_of(p.pseudonym) for p in event.persons} == {"p"}

    assert receipts(settings, [signal["event_id"]]) == {signal["event_id"]: "thuiszorg-utrecht"}
    for handler in logging.getLogger().handlers:
        handler.flush()
    raw = record.key + record.value + b"".join(v for _, v in record.headers)
    for where, haystack in [
        ("topic", raw),
        ("database", database_bytes(database)),
        ("logs", files_bytes(settings.logs_dir)),
    ]:
        assert identifiers_found(haystack, identifiers) == [], where


def test_shelter_placement_with_a_mother_by_reference_and_her_unborn_child(
    settings: Settings, kafka: TopicProbe, database: Database
) -> None:
    signal = _placement("PL-2026-118", "OPV-CL-2209", "OPV-ZW-17")
    answer = _post(settings, "/v2/signals", signal, SHELTER)

    assert answer.status_code == 202, answer.text
    (event,) = _events(kafka)
    assert domain_of(event.household) == "hs"
    mother, child = event.persons
    assert domain_of(mother.pseudonym) == domain_of(child.pseudonym) == "pl"
    assert (child.roles, child.age, child.unborn_child_of) == (("child",), None, mother.pseudonym)
    stored = database_bytes(database) + kafka.records()[0].value
    assert identifiers_found(stored, ["PL-2026-118", "OPV-CL-2209", "OPV-ZW-17"]) == []


def test_a_reference_is_one_person_per_organisation(settings: Settings, kafka: TopicProbe) -> None:
    def by_reference(reference: str) -> dict[str, Any]:
        signal, _ = _elder_abuse()
        signal["persons"] = [{"local_reference": reference, "roles": ["victim"], "age": 81}]
        return signal

    for publisher in (HOME_CARE, HOME_CARE, OTHER_HOME_CARE):
        answer = _post(settings, "/v2/signals", by_reference("CL-17"), publisher)
        assert answer.status_code == 202, answer.text
    first, again, other = (
        e.persons[0].pseudonym for e in sorted(_events(kafka), key=lambda e: e.received_at)
    )
    assert first == again, "the same organisation's reference is the same person"
    assert first != other, "another organisation's 'CL-17' is another person"


def _vt_report(reported_by: str) -> dict[str, Any]:
    """A report to Veilig Thuis Utrecht, made by the reporter named."""
    signal = _signal(
        "vt_report",
        {"postcode": f"{RNG.randint(1000, 9999)}VT", "house_number": RNG.randint(1, 300)},
        [{"bsn": synthetic_bsn(RNG), "roles": ["child", "victim"], "age": 7}],
    )
    return signal | {"reported_by": reported_by}


def test_veilig_thuis_says_who_reported_and_it_travels_on_the_topic(
    settings: Settings, kafka: TopicProbe
) -> None:
    by_school, by_neighbour = _vt_report("education"), _vt_report("neighbour_or_acquaintance")
    unsaid = {k: v for k, v in _vt_report("self").items() if k != "reported_by"}
    answer = _post(settings, "/v2/signals/batch", {"signals": [by_school, by_neighbour, unsaid]},
                   VEILIG_THUIS)  # fmt: skip

    assert answer.status_code == 200, answer.text
    assert answer.json()["accepted"] == 3
    said = {str(e.event_id): e.reported_by for e in _events(kafka)}
    assert said == {
        by_school["event_id"]: "education",
        by_neighbour["event_id"]: "neighbour_or_acquaintance",
        unsaid["event_id"]: None,
    }
    assert {e.sector for e in _events(kafka)} == {SectorV2.VEILIG_THUIS}


def _om_decision(**said: Any) -> dict[str, Any]:
    """The OM's decision on a suspect of the household, saying what `said` holds."""
    signal = _signal(
        "prosecution_decision",
        {"postcode": f"{RNG.randint(1000, 9999)}OM", "house_number": RNG.randint(1, 300)},
        [{"bsn": synthetic_bsn(RNG), "roles": ["suspected_perpetrator"], "age": 41}],
    )
    return signal | ({"prosecution": said} if said else {})


def test_the_oms_decision_names_its_outcome_and_referral_on_the_topic(
    settings: Settings, kafka: TopicProbe
) -> None:
    referral = str(uuid.uuid4())
    decided = _om_decision(outcome="dismissal", referral_id=referral)
    unsaid = _om_decision()
    answer = _post(settings, "/v2/signals/batch", {"signals": [decided, unsaid]}, OM)

    assert answer.status_code == 200 and answer.json()["accepted"] == 2, answer.text
    said = {str(e.event_id): e.prosecution for e in _events(kafka)}
    assert said[unsaid["event_id"]] is None
    found = said[decided["event_id"]]
    assert found is not None and (found.outcome, str(found.referral_id)) == ("dismissal", referral)


def _refusals() -> list[tuple[str, Publisher, dict[str, Any], str]]:
    elder, _ = _elder_abuse()
    twice = {**elder, "persons": [{"bsn": synthetic_bsn(RNG), "roles": ["victim", "victim"]}]}
    old = {**elder, "persons": [{"bsn": synthetic_bsn(RNG), "roles": ["victim"], "age": 130}]}
    unborn = _placement("PL-1", "M-1", "Z-1")
    unborn["persons"][1]["age"] = 0
    bsn_reference = _placement("PL-2", synthetic_bsn(RNG), "Z-2")
    leak = {**elder, "region": f"VT09 {synthetic_bsn(RNG)}"}
    return [
        ("a type the sector may not publish", HOME_CARE, _placement("P", "M", "Z"), "signal_type"),
        ("a role named twice", HOME_CARE, twice, "persons.0"),
        ("an age of 130", HOME_CARE, old, "persons.0.age"),
        ("an unborn child with an age", SHELTER, unborn, "persons.1"),
        ("a reference that looks like a BSN", SHELTER, bsn_reference, "persons.0.local_reference"),
        ("a BSN in a free string", HOME_CARE, leak, "region"),
        (
            "a reporter on a type that has none",
            HOME_CARE,
            elder | {"reported_by": "self"},
            "reported_by",
        ),
        ("a reporter outside the list", VEILIG_THUIS, _vt_report("buurman"), "reported_by"),
        (
            "an OM decision on another type",
            HOME_CARE,
            elder | {"prosecution": {"outcome": "prosecution"}},
            "prosecution",
        ),
        ("an outcome the OM has not", OM, _om_decision(outcome="acquittal"), "prosecution"),
        ("a BSN as the reporter", VEILIG_THUIS, _vt_report(synthetic_bsn(RNG)), "reported_by"),
    ]


@pytest.mark.parametrize("case", range(len(_refusals())), ids=[c[0] for c in _refusals()])
def test_refusals_name_the_field_and_change_nothing(
    settings: Settings, kafka: TopicProbe, case: int
) -> None:
    what, publisher, signal, field = _refusals()[case]
    answer = _post(settings, "/v2/signals", signal, publisher)

    # as in v1: a type outside the sector is 403, anything invalid 422
    assert answer.status_code == (403 if field == "signal_type" else 422), (what, answer.text)
    fields = [e["field"] for e in answer.json()["errors"]]
    assert any(f.startswith(field) for f in fields), (what, fields)
    assert_nothing_changed(kafka, settings, what)


def test_sealed_references_give_the_pseudonyms_plain_ones_give(
    settings: Settings, kafka: TopicProbe
) -> None:
    """What the SDK's publish_v2 sends (sealed_signal seals references like BSNs), taken where
    only sealed identifiers are: the same pseudonyms as the same signal sent in clear."""
    plain = _placement("PL-2026-9", "OPV-CL-31", "OPV-ZW-31")
    plain["persons"][0]["bsn"] = synthetic_bsn(RNG)  # identified: the BSN beside the reference
    assert _post(settings, "/v2/signals", plain, SHELTER).status_code == 202
    strict = settings.model_copy(update={"allow_plain_identifiers": False})
    headers = bearer_for(TokenAuthority(settings.keys_dir), SHELTER, Audience.INGEST)
    with ingest_client(strict) as client:
        key = PublishedKey.model_validate(
            client.get("/v1/keys/identifiers", headers=headers).json()
        )
        sealed = sealed_signal({**plain, "event_id": str(uuid.uuid4())}, key)
        refused = client.post(
            "/v2/signals", json=plain | {"event_id": sealed["event_id"]}, headers=headers
        )
        answer = client.post("/v2/signals", json=sealed, headers=headers)

    assert refused.status_code == 422, "plain references are refused where only sealed ones are"
    assert answer.status_code == 202, answer.text
    assert set(sealed["household"]["placement"]) == {"shelter", "sealed_reference"}
    assert "local_reference" not in sealed["persons"][1]
    from_plain, from_sealed = sorted(_events(kafka), key=lambda e: e.received_at)
    assert from_sealed.household == from_plain.household
    assert from_sealed.persons == from_plain.persons
    mother = from_sealed.persons[0]
    assert domain_of(mother.pseudonym) == "p" and mother.local_pseudonym is not None
    raw = b"".join(r.value for r in kafka.records())
    assert identifiers_found(raw, ["PL-2026-9", "OPV-CL-31", plain["persons"][0]["bsn"]]) == []


def test_after_a_key_rotation_a_placement_and_a_reference_are_known_as_before(
    settings: Settings, kafka: TopicProbe
) -> None:
    """The vault finds a new key's hs. and pl. pseudonyms under the first key, as for v1's:
    the record keeps its key (partition) and the event links each new pseudonym."""
    first = _placement("PL-77", "OPV-CL-77", "OPV-ZW-77")
    assert _post(settings, "/v2/signals", first, SHELTER).status_code == 202
    PseudonymKeyring.rotate(settings.pseudonym_keyring_path)
    again = _placement("PL-77", "OPV-CL-77", "OPV-ZW-77")
    assert _post(settings, "/v2/signals", again, SHELTER).status_code == 202

    before, after = sorted(_events(kafka), key=lambda e: e.received_at)
    keys = {r.key.decode() for r in kafka.records()}
    assert keys == {before.household}, "one household, one key, one partition"
    assert after.pseudonym_key_id == "k2" and after.household.startswith("hs.k2.")
    assert after.canonical().household == before.household
    assert [p.pseudonym for p in after.canonical().persons] == [p.pseudonym for p in before.persons]
