"""signal.v2: its vocabulary (every party the programme names, each term in Dutch and English),
what SignalEventV2 accepts and refuses, the new pseudonym shapes, and the published files."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from contracts import export, vocabulary_doc
from contracts.pseudonyms import mask_pseudonyms
from contracts.pseudonyms_v2 import PseudonymLinkV2
from contracts.signal_types_v2 import SIGNAL_TYPES_V2, SignalTypeV2, vocabulary_extensions
from contracts.signal_v2 import MAX_AGE, SignalEventV2
from contracts.vocabulary import SIGNAL_TYPES, PersonRole, Sector, SignalType
from contracts.vocabulary_v2 import (
    FORMS_OF_VIOLENCE,
    PERSON_ROLES,
    SECTORS,
    FormOfViolence,
    PersonRoleV2,
    SectorV2,
)

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
HOUSEHOLD = "hh.k1." + "0123456789abcdef" * 2
PLACEMENT = "hs.k1." + "00112233445566778899aabbccddeeff"
MOTHER = "p.k1." + "fedcba9876543210" * 2
UNBORN = "pl.k1." + "0f" * 16
CLIENT = "pl.k1." + "1e" * 16
BORN = "p.k1." + "c0" * 16


def _signal(**changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "event_id": str(uuid.UUID(int=16)),
        "organisation": "ggd-regio-utrecht",
        "sector": "youth_health_care",
        "signal_type": "prenatal_concern",
        "severity": "high",
        "forms_of_violence": ["physical_violence", "psychological_violence"],
        "occurred_at": (NOW - timedelta(days=1)).isoformat(),
        "reported_at": NOW.isoformat(),
        "received_at": NOW.isoformat(),
        "region": "VT09",
        "household": HOUSEHOLD,
        "persons": [
            {"pseudonym": MOTHER, "roles": ["parent_or_carer", "victim"], "age": 24},
            {"pseudonym": UNBORN, "roles": ["child"], "unborn_child_of": MOTHER},
        ],
        "pseudonym_key_id": "k1",
    }
    document.update(changes)
    return document


def _refused(document: dict[str, Any]) -> str:
    with pytest.raises(ValidationError) as raised:
        SignalEventV2.model_validate(document)
    return str(raised.value)


# --- vocabulary ---------------------------------------------------------------------------------


ISSUE_16_PARTIES = {
    "public_prosecution",  # OM
    "probation",  # reclassering
    "child_protection_board",  # Raad voor de Kinderbescherming
    "municipality",  # municipalities and their local teams
    "shelter",  # vrouwenopvang
    "childcare",
    "youth_health_care",  # JGZ
    "safety_house",  # Zorg- en Veiligheidshuizen
    "elderly_care",
    "home_care",
    "general_practice",
    "emergency_department",
}


def test_every_party_the_programme_names_is_a_sector_that_can_publish() -> None:
    assert ISSUE_16_PARTIES | {str(s) for s in Sector} == {str(s) for s in SectorV2}
    for sector in SectorV2:
        assert any(sector in d.sectors for d in SIGNAL_TYPES_V2.values()), sector


def test_v1_values_keep_their_meaning_and_every_v1_publisher_may_still_publish() -> None:
    assert {str(s) for s in Sector} <= {str(s) for s in SectorV2}
    assert {str(r) for r in PersonRole} <= {str(r) for r in PersonRoleV2}
    for kind, definition in SIGNAL_TYPES.items():
        v2 = SIGNAL_TYPES_V2[SignalTypeV2(kind.value)]
        assert {str(s) for s in definition.sectors} <= {str(s) for s in v2.sectors}, kind
    assert {str(t) for t in SignalType} <= {str(t) for t in SignalTypeV2}


@pytest.mark.parametrize(
    ("values", "terms"),
    [(SectorV2, SECTORS), (FormOfViolence, FORMS_OF_VIOLENCE), (PersonRoleV2, PERSON_ROLES)],
)
def test_every_value_has_a_dutch_term_and_an_english_meaning(values: Any, terms: Any) -> None:
    assert set(terms) == set(values)
    assert all(t.dutch.strip() and t.meaning.strip() for t in terms.values())


def test_every_signal_type_has_a_term_and_a_sector() -> None:
    assert set(SIGNAL_TYPES_V2) == set(SignalTypeV2)
    for definition in SIGNAL_TYPES_V2.values():
        assert definition.term.dutch.strip() and definition.term.meaning.strip()
        assert definition.sectors


def test_the_issue_s_forms_of_violence_and_roles_exist() -> None:
    forms = {"physical_violence", "psychological_violence", "sexual_violence", "neglect"}
    forms |= {"witnessing_violence", "financial_abuse", "honour_related_violence"}
    forms |= {"forced_marriage", "child_marriage", "female_genital_mutilation", "elder_abuse"}
    assert forms | {"human_trafficking"} == {str(f) for f in FormOfViolence}
    roles = {"victim", "suspected_perpetrator", "partner", "ex_partner", "child", "witness"}
    assert roles | {"informal_carer"} <= {str(r) for r in PersonRoleV2}


# --- SignalEventV2 ------------------------------------------------------------------------------


def test_an_unborn_child_and_its_mother_round_trip() -> None:
    event = SignalEventV2.model_validate(_signal())
    assert event.persons[1].unborn_child_of == MOTHER
    assert SignalEventV2.model_validate_json(event.model_dump_json()) == event


def test_a_shelter_placement_and_a_person_known_by_reference_are_accepted() -> None:
    persons = [
        {"pseudonym": CLIENT, "roles": ["victim", "parent_or_carer"], "age": 31},
        # the child once born: its BSN's pseudonym, and the one it had before it (identified)
        {"pseudonym": BORN, "roles": ["child"], "age": 0, "local_pseudonym": UNBORN},
    ]
    document = _signal(
        organisation="opvang-utrecht",
        sector="shelter",
        signal_type="shelter_placement",
        household=PLACEMENT,
        persons=persons,
    )
    assert SignalEventV2.model_validate(document).household == PLACEMENT


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"sector": "shelter"}, "may not publish"),
        ({"household": MOTHER}, "pattern"),
        ({"household": "1234AB 12"}, "pattern"),
        ({"forms_of_violence": ["neglect", "neglect"]}, "named twice"),
        ({"forms_of_violence": ["gossip"]}, "forms_of_violence"),
        ({"persons": [{"pseudonym": MOTHER, "roles": []}]}, "at least 1"),
        ({"persons": [{"pseudonym": MOTHER, "roles": ["victim", "victim"]}]}, "named twice"),
        ({"persons": [{"pseudonym": MOTHER, "roles": ["child"], "age": -1}]}, "greater than"),
        ({"persons": [{"pseudonym": MOTHER, "roles": ["child"], "age": MAX_AGE + 1}]}, "less"),
        ({"persons": [{"pseudonym": MOTHER, "roles": ["child"], "age": 4.5}]}, "integer"),
        (
            {"persons": [{"pseudonym": MOTHER, "roles": ["child"], "date_of_birth": "2020-01-01"}]},
            "Extra inputs",
        ),
        (
            {"persons": [{"pseudonym": UNBORN, "roles": ["child"], "unborn_child_of": MOTHER}]},
            "carry",
        ),
        (
            {"persons": [{"pseudonym": MOTHER, "roles": ["child"], "unborn_child_of": CLIENT}]},
            "no BSN",
        ),
        (
            {
                "persons": [
                    {"pseudonym": UNBORN, "roles": ["child"], "age": 0, "unborn_child_of": MOTHER}
                ]
            },
            "no age",
        ),
        (
            {"persons": [{"pseudonym": CLIENT, "roles": ["child"], "local_pseudonym": UNBORN}]},
            "(p.)",
        ),
        (
            {
                "persons": [
                    {"pseudonym": UNBORN, "roles": ["child"], "unborn_child_of": CLIENT},
                    {"pseudonym": CLIENT, "roles": ["child"], "unborn_child_of": UNBORN},
                ]
            },
            "is born",
        ),
        (
            {
                "persons": [
                    {"pseudonym": MOTHER, "roles": ["child"], "local_pseudonym": CLIENT},
                    {"pseudonym": CLIENT, "roles": ["child"]},
                ]
            },
            "not a person beside it",
        ),
    ],
)
def test_inconsistent_v2_signals_are_refused(changes: dict[str, Any], expected: str) -> None:
    assert expected in _refused(_signal(**changes))


def test_a_rekeyed_signal_is_recorded_under_the_first_known_pseudonyms() -> None:
    new_unborn = "pl.k2." + "ab" * 16
    document = _signal(
        pseudonym_key_id="k2",
        household="hh.k2." + "cd" * 16,
        persons=[
            {"pseudonym": "p.k2." + "ef" * 16, "roles": ["parent_or_carer"]},
            {"pseudonym": new_unborn, "roles": ["child"], "unborn_child_of": "p.k2." + "ef" * 16},
        ],
        known_as=[
            {"kind": "household", "pseudonym": "hh.k2." + "cd" * 16, "known_as": HOUSEHOLD},
            {"kind": "person", "pseudonym": "p.k2." + "ef" * 16, "known_as": MOTHER},
            {"kind": "person", "pseudonym": new_unborn, "known_as": UNBORN},
        ],
    )
    canonical = SignalEventV2.model_validate(document).canonical()
    assert canonical.household == HOUSEHOLD and canonical.pseudonym_key_id == "k1"
    assert [(p.pseudonym, p.unborn_child_of) for p in canonical.persons] == [
        (MOTHER, None),
        (UNBORN, MOTHER),
    ]


@pytest.mark.parametrize(
    ("pseudonym", "known_as"),
    [
        ("pl.k2." + "ab" * 16, "p.k1." + "ab" * 16),  # a local reference is not a BSN
        ("hs.k2." + "ab" * 16, "hh.k1." + "ab" * 16),  # a placement is not an address
    ],
)
def test_a_rekeying_link_never_joins_two_kinds_of_identifier(pseudonym: str, known_as: str) -> None:
    kind = "household" if pseudonym.startswith("h") else "person"
    with pytest.raises(ValidationError, match="one domain"):
        PseudonymLinkV2(kind=kind, pseudonym=pseudonym, known_as=known_as)


def test_the_log_mask_covers_the_new_pseudonym_shapes() -> None:
    line = f"moved {CLIENT} out of {PLACEMENT}"
    assert mask_pseudonyms(line) == "moved pl.k1.*** out of hs.k1.***"


# --- published files ----------------------------------------------------------------------------


def test_the_v2_schema_carries_the_whole_vocabulary() -> None:
    schema = json.loads(export.rendered_files()[export.SIGNAL_V2_SCHEMA_FILE])
    assert schema["additionalProperties"] is False
    extensions = vocabulary_extensions()
    assert {k: schema[k] for k in extensions} == extensions
    assert set(schema["x-signal-types"]) == {str(kind) for kind in SignalTypeV2}
    assert set(schema["x-forms-of-violence"]) == {str(form) for form in FormOfViolence}


def test_the_v2_asyncapi_document_names_both_versions_on_one_topic() -> None:
    document = json.loads(export.rendered_files()[export.ASYNCAPI_V2_FILE])
    v1 = json.loads(export.rendered_files()[export.ASYNCAPI_FILE])
    assert document["channels"]["signals"]["address"] == v1["channels"]["signals"]["address"]
    messages = document["components"]["messages"]
    assert {m["name"] for m in messages.values()} == {
        "SignalEventV1",
        "SignalEventV2",
        "SignalCorrectionV1",
    }
    for message in messages.values():
        referenced = export.SCHEMA_DIR / message["payload"]["$ref"].removeprefix("./")
        assert json.loads(referenced.read_text(encoding="utf-8"))["title"] == message["name"]
    headers = {m["headers"]["properties"]["schema"]["const"] for m in messages.values()}
    assert headers == {"radar.signal.v1", "radar.signal.v2", "radar.signal-correction.v1"}


def test_the_docs_table_lists_the_whole_vocabulary_as_generated() -> None:
    page = vocabulary_doc.DOC_FILE.read_text(encoding="utf-8")
    assert vocabulary_doc.rendered(page) == page, "run `make contracts` to regenerate the tables"
    for value in [*SectorV2, *SignalTypeV2, *FormOfViolence, *PersonRoleV2]:
        assert f"| `{value}` |" in page
