"""The v1 -> v2 upcaster, as properties over any v1 signal: the upcast validates (against the
model and the published JSON Schema), is deterministic, and keeps v1's meaning."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema_rs
from hypothesis import given, settings

from contracts import export
from contracts.signal_v1 import SignalEventV1
from contracts.signal_v2 import SignalEventV2
from contracts.upcast_v1_v2 import upcast_signal, upcast_signal_document
from tests.support.contract_strategies import v1_signals, v2_signals

PROPERTY = settings(max_examples=100, deadline=None)
_V2_SCHEMA = jsonschema_rs.validator_for(
    json.loads((export.SCHEMA_DIR / export.SIGNAL_V2_SCHEMA_FILE).read_text(encoding="utf-8"))
)


def _as_published(event: SignalEventV2) -> Any:
    return json.loads(event.model_dump_json())


@PROPERTY
@given(v1_signals())
def test_any_v1_signal_upcasts_to_a_v2_signal_that_validates(v1: SignalEventV1) -> None:
    v2 = upcast_signal(v1)
    assert SignalEventV2.model_validate_json(v2.model_dump_json()) == v2
    _V2_SCHEMA.validate(_as_published(v2))  # what a consumer reading the published file accepts


@PROPERTY
@given(v1_signals())
def test_the_upcast_is_deterministic_and_the_document_form_agrees(v1: SignalEventV1) -> None:
    stored = json.loads(v1.model_dump_json())  # as read back from the topic
    assert upcast_signal(v1) == upcast_signal(v1.model_copy())
    assert upcast_signal(v1).model_dump_json() == upcast_signal(v1).model_dump_json()
    assert SignalEventV2.model_validate(upcast_signal_document(stored)) == upcast_signal(v1)
    assert upcast_signal_document(stored) == upcast_signal_document(json.loads(json.dumps(stored)))
    assert upcast_signal(upcast_signal(v1)) == upcast_signal(v1)  # a v2 signal stays as it is


def _assert_same_meaning(v1: SignalEventV1, v2: SignalEventV2) -> None:
    same = ("event_id", "organisation", "severity", "occurred_at", "reported_at", "received_at")
    assert all(getattr(v2, name) == getattr(v1, name) for name in same)
    assert (str(v2.sector), str(v2.signal_type)) == (str(v1.sector), str(v1.signal_type))
    assert (v2.region, v2.household, v2.pseudonym_key_id) == (
        v1.region,
        v1.household,
        v1.pseudonym_key_id,
    )
    assert [(p.pseudonym, [str(r) for r in p.roles]) for p in v2.persons] == [
        (p.pseudonym, [str(p.role)]) for p in v1.persons
    ]
    assert all(p.age is None and p.unborn_child_of is None for p in v2.persons)
    assert all(p.local_pseudonym is None for p in v2.persons)
    assert v2.forms_of_violence == ()
    assert [link.model_dump() for link in v2.known_as] == [
        link.model_dump() for link in v1.known_as
    ]


@PROPERTY
@given(v1_signals())
def test_the_upcast_keeps_what_v1_said_and_adds_nothing(v1: SignalEventV1) -> None:
    _assert_same_meaning(v1, upcast_signal(v1))


@PROPERTY
@given(v1_signals())
def test_the_upcast_keys_and_canonicalises_a_household_as_v1_does(v1: SignalEventV1) -> None:
    v2 = upcast_signal(v1)
    assert v2.first_known_household() == v1.first_known_household()  # same Kafka key
    assert v2.canonical() == upcast_signal(v1.canonical())


@PROPERTY
@given(v2_signals())
def test_any_v2_signal_round_trips_through_json_and_the_published_schema(
    v2: SignalEventV2,
) -> None:
    assert SignalEventV2.model_validate_json(v2.model_dump_json()) == v2
    _V2_SCHEMA.validate(_as_published(v2))
    assert upcast_signal(v2) is v2
    assert v2.canonical().canonical() == v2.canonical()
    assert v2.canonical().household == v2.first_known_household()


RECORDS = Path(__file__).parents[1] / "fixtures" / "signal-v1-records" / "records.jsonl"


def test_records_written_by_the_v1_ingest_upcast_and_keep_their_key() -> None:
    """Signal records as main's ingest put them on the topic (tests/fixtures/README.md), read
    as a consumer reads them: the value's bytes, the `schema` header, the key."""
    records = [json.loads(line) for line in RECORDS.read_text(encoding="utf-8").splitlines()]
    assert len(records) == 12 and any('"known_as":[{' in r["value"] for r in records)
    for record in records:
        assert record["headers"] == {"schema": "radar.signal.v1"}
        v1 = SignalEventV1.model_validate_json(record["value"])
        v2 = SignalEventV2.model_validate(upcast_signal_document(json.loads(record["value"])))
        assert v2 == upcast_signal(v1)
        _V2_SCHEMA.validate(_as_published(v2))
        _assert_same_meaning(v1, v2)
        assert v2.first_known_household() == record["key"]
