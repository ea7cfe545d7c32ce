"""The published contract: exported schema files in sync, and what SignalEventV1 and
SignalCorrectionV1 refuse."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from contracts import export
from contracts.correction_v1 import SignalCorrectionV1
from contracts.signal_v1 import CLOCK_SKEW_ALLOWED, MAX_PERSONS_PER_SIGNAL, SignalEventV1
from contracts.vocabulary import SIGNAL_TYPES, Sector, SignalType, sector_may_publish
from services.signals import submission_schemas, submission_v2

PROPERTY = settings(max_examples=50, deadline=None)
HOUSEHOLD = "hh.k1." + "0123456789abcdef" * 2
PERSON = "p.k1." + "fedcba9876543210" * 2
NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def _valid(**changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "event_id": str(uuid.UUID(int=42)),
        "organisation": "politie-midden",
        "sector": "police",
        "signal_type": "zorgmelding",
        "severity": "high",
        "occurred_at": (NOW - timedelta(days=1)).isoformat(),
        "reported_at": NOW.isoformat(),
        "received_at": (NOW + timedelta(seconds=1)).isoformat(),
        "region": "VT09",
        "household": HOUSEHOLD,
        "persons": [{"pseudonym": PERSON, "role": "child"}],
        "pseudonym_key_id": "k1",
    }
    document.update(changes)
    return document


def _errors(document: dict[str, Any]) -> list[Any]:
    with pytest.raises(ValidationError) as raised:
        SignalEventV1.model_validate(document)
    return raised.value.errors()


# --- exported files -----------------------------------------------------------------------------


def test_exported_files_are_up_to_date() -> None:
    rendered = (
        export.rendered_files()
        | submission_schemas.rendered_files()
        | submission_v2.rendered_files()
    )
    on_disk = {path.name for path in export.SCHEMA_DIR.glob("*.json")}
    assert on_disk == set(rendered), "run `make contracts` to regenerate contracts/schemas"
    for name, text in rendered.items():
        stored = (export.SCHEMA_DIR / name).read_text(encoding="utf-8")
        assert stored == text, f"contracts/schemas/{name} is stale: run `make contracts`"


def test_asyncapi_references_existing_schema_file() -> None:
    document = json.loads(export.rendered_files()[export.ASYNCAPI_FILE])
    payload_ref = document["components"]["messages"]["signalEventV1"]["payload"]["$ref"]
    assert payload_ref.startswith("./")
    referenced = export.SCHEMA_DIR / payload_ref.removeprefix("./")
    assert referenced.is_file()
    schema = json.loads(referenced.read_text(encoding="utf-8"))
    assert schema["title"] == "SignalEventV1"
    assert schema["$id"].endswith(referenced.name)


def test_asyncapi_internal_references_resolve() -> None:
    document = json.loads(export.rendered_files()[export.ASYNCAPI_FILE])

    def resolve(reference: str) -> Any:
        node: Any = document
        for part in reference.removeprefix("#/").split("/"):
            node = node[part]
        return node

    for operation in document["operations"].values():
        assert resolve(operation["channel"]["$ref"]) is document["channels"]["signals"]
    names = {
        resolve(message["$ref"])["name"]
        for message in document["channels"]["signals"]["messages"].values()
    }
    assert names == {"SignalEventV1", "SignalCorrectionV1"}
    for message in document["components"]["messages"].values():
        referenced = export.SCHEMA_DIR / message["payload"]["$ref"].removeprefix("./")
        assert json.loads(referenced.read_text(encoding="utf-8"))["title"] == message["name"]


def test_schema_documents_every_signal_type() -> None:
    schema = json.loads(export.rendered_files()[export.SIGNAL_SCHEMA_FILE])
    assert set(schema["x-signal-types"]) == {str(kind) for kind in SignalType}
    assert schema["additionalProperties"] is False


# --- vocabulary ---------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(SignalType))
def test_every_signal_type_has_a_definition(kind: SignalType) -> None:
    definition = SIGNAL_TYPES[kind]
    assert definition.meaning.strip()
    assert len(definition.sectors) >= 1
    assert all(isinstance(sector, Sector) for sector in definition.sectors)


def test_no_definitions_for_unknown_types() -> None:
    assert set(SIGNAL_TYPES) == set(SignalType)


# --- SignalEventV1 ------------------------------------------------------------------------------


def test_valid_event_accepted_and_round_trips() -> None:
    event = SignalEventV1.model_validate(_valid())
    assert event.household == HOUSEHOLD
    again = SignalEventV1.model_validate_json(event.model_dump_json())
    assert again == event


@pytest.mark.parametrize(
    "household",
    [
        "111222333",  # a BSN
        "1234AB 12",  # postcode and house number
        "Dorpsstraat 12, 1234 AB Utrecht",
        "1234AB|12|",  # the canonical address form
        "hh.k1." + "0" * 31,  # one hex digit short
        "hh.k1." + "A" * 32,  # upper-case hex
        "p.k1." + "0" * 32,  # a person pseudonym
        "hh.k1." + "0" * 32 + "\n",
        "hh." + "0" * 32,  # no key version
    ],
)
def test_household_must_be_a_household_pseudonym(household: str) -> None:
    errors = _errors(_valid(household=household))
    assert any(error["loc"] == ("household",) for error in errors)


@pytest.mark.parametrize(
    "pseudonym", ["111222333", "1234AB 12", "hh.k1." + "0" * 32, "p.k1.111222333"]
)
def test_person_must_be_a_person_pseudonym(pseudonym: str) -> None:
    errors = _errors(_valid(persons=[{"pseudonym": pseudonym, "role": "child"}]))
    assert any(error["loc"][:3] == ("persons", 0, "pseudonym") for error in errors)


@PROPERTY
@given(st.text(max_size=60))
def test_arbitrary_text_in_household_is_refused_unless_a_pseudonym(text: str) -> None:
    try:
        event = SignalEventV1.model_validate(_valid(household=text))
    except ValidationError:
        return
    prefix, key, digest = event.household.split(".")
    assert (prefix, len(digest)) == ("hh", 32)
    assert int(digest, 16) >= 0
    assert key.startswith("k")


@pytest.mark.parametrize(
    "extra",
    [
        {"bsn": "111222333"},
        {"address": "Dorpsstraat 12, 1234 AB Utrecht"},
        {"name": "J. Jansen"},
    ],
)
def test_extra_fields_refused(extra: dict[str, str]) -> None:
    errors = _errors(_valid(**extra))
    assert any(error["type"] == "extra_forbidden" for error in errors)


def test_extra_fields_in_person_refused() -> None:
    person = {"pseudonym": PERSON, "role": "child", "bsn": "111222333"}
    errors = _errors(_valid(persons=[person]))
    assert any(error["type"] == "extra_forbidden" for error in errors)


def test_too_many_persons_refused() -> None:
    persons = [{"pseudonym": PERSON, "role": "child"}] * (MAX_PERSONS_PER_SIGNAL + 1)
    _errors(_valid(persons=persons))


def test_signal_type_outside_sector_refused() -> None:
    errors = _errors(_valid(sector="police", signal_type="school_absence"))
    assert any("may not publish" in error["msg"] for error in errors)


@pytest.mark.parametrize(("sector", "kind"), [(s, k) for s in Sector for k in SignalType])
def test_sector_and_type_accepted_exactly_when_allowed(sector: Sector, kind: SignalType) -> None:
    document = _valid(sector=str(sector), signal_type=str(kind))
    if sector in SIGNAL_TYPES[kind].sectors:
        assert sector_may_publish(sector, kind)
        SignalEventV1.model_validate(document)
    else:
        assert not sector_may_publish(sector, kind)
        _errors(document)


def test_occurred_after_reported_refused() -> None:
    late = NOW + CLOCK_SKEW_ALLOWED + timedelta(seconds=1)
    errors = _errors(_valid(occurred_at=late.isoformat(), received_at=late.isoformat()))
    assert any("occurred_at lies after reported_at" in error["msg"] for error in errors)


def test_reported_after_received_refused() -> None:
    late = NOW + CLOCK_SKEW_ALLOWED + timedelta(seconds=1)
    errors = _errors(_valid(reported_at=late.isoformat(), received_at=NOW.isoformat()))
    assert any("reported_at lies after received_at" in error["msg"] for error in errors)


def test_small_clock_skew_tolerated() -> None:
    slightly_late = NOW + CLOCK_SKEW_ALLOWED - timedelta(seconds=1)
    SignalEventV1.model_validate(_valid(occurred_at=slightly_late.isoformat()))


def test_times_compare_as_instants_across_time_zones() -> None:
    # 13:00 at +02:00 is 11:00 UTC: before reported_at (12:00 UTC) although the digits are later.
    occurred = datetime(2025, 3, 1, 13, 0, tzinfo=UTC).isoformat().replace("+00:00", "+02:00")
    SignalEventV1.model_validate(_valid(occurred_at=occurred))


@pytest.mark.parametrize("field", ["occurred_at", "reported_at", "received_at"])
def test_naive_times_refused(field: str) -> None:
    errors = _errors(_valid(**{field: "2025-03-01T12:00:00"}))
    assert any(error["loc"] == (field,) for error in errors)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("schema_version", 2),
        ("region", "VT27"),
        ("severity", "extreme"),
        ("signal_type", "gossip"),
        ("organisation", "Politie Midden"),
        ("pseudonym_key_id", "key1"),
        ("event_id", "not-a-uuid"),
    ],
)
def test_bad_values_refused(field: str, value: object) -> None:
    errors = _errors(_valid(**{field: value}))
    assert any(error["loc"][:1] == (field,) for error in errors)


# --- corrections --------------------------------------------------------------------------------


def _correction(**changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "correction_id": str(uuid.UUID(int=7)),
        "corrects": str(uuid.UUID(int=42)),
        "kind": "correction",
        "values": {"severity": "low"},
        "reason": "severity was entered wrongly",
        "organisation": "politie-midden",
        "sector": "police",
        "received_at": NOW.isoformat(),
        "household": HOUSEHOLD,
    }
    document.update(changes)
    return document


def test_valid_correction_and_retraction_accepted() -> None:
    corrected = SignalCorrectionV1.model_validate(_correction())
    assert corrected.values is not None and corrected.values.changes() == {"severity": "low"}
    retracted = SignalCorrectionV1.model_validate(_correction(kind="retraction", values=None))
    assert retracted.values is None
    assert SignalCorrectionV1.model_validate_json(retracted.model_dump_json()) == retracted


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"values": None}, "at least one"),
        ({"values": {}}, "at least one"),
        ({"kind": "retraction"}, "no values"),
        ({"values": {"signal_type": "school_absence"}}, "may not publish"),
        ({"values": {"persons": []}}, "Extra inputs"),
        ({"values": {"occurred_at": (NOW + timedelta(hours=1)).isoformat()}}, "after received"),
        ({"reason": "child 111222333 was not involved"}, "identifier"),
        ({"reason": "  "}, "at least 1"),
        ({"household": "someone's address"}, "pattern"),
    ],
)
def test_inconsistent_corrections_refused(changes: dict[str, Any], expected: str) -> None:
    with pytest.raises(ValidationError) as raised:
        SignalCorrectionV1.model_validate(_correction(**changes))
    assert expected in str(raised.value)
