"""What a v2 publisher sends: the example of every sector is a valid submission (the model, the
published JSON Schema and the leak guard agree), and what the submission refuses."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
from pydantic import ValidationError

from contracts import export
from contracts.signal_types_v2 import sector_may_publish_v2
from contracts.vocabulary_v2 import SectorV2
from services.signals.leak_check import identifier_leaks
from services.signals.submission_v2 import (
    NOT_AN_IDENTIFIER,
    NOT_FREE_TEXT_V2,
    SUBMISSION_V2_SCHEMA_FILE,
    SignalSubmissionV2,
)

EXAMPLES = Path(__file__).parents[2] / "docs" / "examples" / "signal-v2"
_SCHEMA = jsonschema_rs.validator_for(
    json.loads((export.SCHEMA_DIR / SUBMISSION_V2_SCHEMA_FILE).read_text(encoding="utf-8"))
)
SEALED = {"version": 1, "key_id": "0" * 16, "ephemeral_key": "AAAA", "ciphertext": "AAAA"}


def _example(sector: SectorV2) -> dict[str, Any]:
    return json.loads((EXAMPLES / f"{sector}.json").read_text(encoding="utf-8"))


def test_there_is_an_example_for_every_sector_and_no_other() -> None:
    assert {path.stem for path in EXAMPLES.glob("*.json")} == {str(s) for s in SectorV2}


@pytest.mark.parametrize("sector", list(SectorV2))
def test_each_sector_s_example_is_a_submission_its_sector_may_send(sector: SectorV2) -> None:
    body = _example(sector)
    submission = SignalSubmissionV2.model_validate(body)
    assert sector_may_publish_v2(sector, submission.signal_type)
    _SCHEMA.validate(body)
    assert identifier_leaks(body, NOT_FREE_TEXT_V2) == []


def _shelter(**changes: Any) -> dict[str, Any]:
    return _example(SectorV2.SHELTER) | changes


def _errors(body: dict[str, Any]) -> str:
    with pytest.raises(ValidationError) as raised:
        SignalSubmissionV2.model_validate(body)
    return str(raised.value)


def _person(**fields: Any) -> dict[str, Any]:
    return {"roles": ["child"], **fields}


@pytest.mark.parametrize(
    ("persons", "expected"),
    [
        ([_person()], "give a bsn or a local_reference"),
        ([_person(bsn="123456782", sealed_bsn=SEALED)], "either bsn or sealed_bsn"),
        ([_person(local_reference="111222333")], NOT_AN_IDENTIFIER),  # a BSN in disguise
        ([_person(local_reference="geb. 12-03-2019")], "pattern"),
        ([_person(local_reference="12-03-2019")], NOT_AN_IDENTIFIER),  # a date of birth
        ([_person(local_reference="A" * 65)], "at most 64"),
        ([_person(bsn="123456782", age=126)], "less than or equal"),
        ([_person(bsn="123456782", date_of_birth="2019-03-12")], "Extra inputs"),
        ([_person(bsn="123456782", roles=[])], "at least 1"),
        ([_person(local_reference="Z-1", unborn_child_of=0)], "names no other person"),
        ([_person(local_reference="Z-1", unborn_child_of=1)], "names no other person"),
        (
            [_person(bsn="123456782"), _person(bsn="111222333", unborn_child_of=0)],
            "a child not yet born has a local_reference, no bsn",
        ),
        (
            [_person(bsn="123456782"), _person(local_reference="Z-1", age=0, unborn_child_of=0)],
            "no age",
        ),
        (
            [
                _person(local_reference="Z-1", unborn_child_of=1),
                _person(local_reference="Z-2", unborn_child_of=0),
            ],
            "names a child not yet born",
        ),
    ],
)
def test_inconsistent_persons_are_refused(persons: list[dict[str, Any]], expected: str) -> None:
    assert expected in _errors(_shelter(persons=persons))


@pytest.mark.parametrize(
    ("household", "expected"),
    [
        ({}, "give one of"),
        ({"postcode": "3511 AB"}, "give one of"),
        ({"postcode": "3511 AB", "house_number": 1, "placement": {}}, "shelter"),
        (
            {
                "sealed_address": SEALED,
                "placement": {"shelter": "opvang-utrecht", "reference": "1"},
            },
            "give one of",
        ),
        ({"placement": {"shelter": "opvang-utrecht"}}, "either reference or sealed_reference"),
        ({"placement": {"shelter": "Opvang Utrecht", "reference": "1"}}, "pattern"),
    ],
)
def test_a_household_is_an_address_or_a_placement(household: dict[str, Any], expected: str) -> None:
    assert expected in _errors(_shelter(household=household))


def test_a_person_known_by_reference_whose_bsn_became_known_sends_both() -> None:
    identified = _person(bsn="123456782", local_reference="OPV-CL-2209", age=1)
    submission = SignalSubmissionV2.model_validate(_shelter(persons=[identified]))
    assert submission.persons[0].bsn and submission.persons[0].local_reference


def test_references_are_identifier_fields_to_the_leak_guard() -> None:
    body = _shelter(persons=[_person(local_reference="OPV-CL-2209", sealed_bsn=SEALED)])
    assert identifier_leaks(body, NOT_FREE_TEXT_V2) == []
    leaked = _shelter(persons=[_person(local_reference="OPV-CL-2209", note="born 12-03-2019")])
    assert [e.field for e in identifier_leaks(leaked, NOT_FREE_TEXT_V2)] == ["persons.0.note"]
