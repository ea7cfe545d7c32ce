"""The v1 -> v2 upcaster, as properties over any v1 signal: the upcast validates (against the
model and the published JSON Schema), is deterministic, and keeps v1's meaning."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import jsonschema_rs
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts import export
from contracts.pseudonyms import PseudonymLink
from contracts.regions import VtRegion
from contracts.signal_v1 import CLOCK_SKEW_ALLOWED, MAX_PERSONS_PER_SIGNAL, PersonRef, SignalEventV1
from contracts.signal_v2 import SignalEventV2
from contracts.upcast_v1_v2 import upcast_signal, upcast_signal_document
from contracts.vocabulary import SIGNAL_TYPES, PersonRole, Severity

PROPERTY = settings(max_examples=100, deadline=None)
START = datetime(2020, 1, 1, tzinfo=UTC)
_CET = timezone(timedelta(hours=1))
_V2_SCHEMA = jsonschema_rs.validator_for(
    json.loads((export.SCHEMA_DIR / export.SIGNAL_V2_SCHEMA_FILE).read_text(encoding="utf-8"))
)
_digests = st.binary(min_size=16, max_size=16).map(bytes.hex)
_sector_and_type = st.sampled_from(
    [(sector, kind) for kind, definition in SIGNAL_TYPES.items() for sector in definition.sectors]
)


@st.composite
def v1_signals(draw: st.DrawFn) -> SignalEventV1:
    """Any valid v1 signal: any sector with a type it may publish, times in order within the
    clock skew allowed, up to the maximum of persons, made under k1 or (rotated) k2 with links
    from some of its pseudonyms to the k1 ones the radar first knew."""
    key = draw(st.sampled_from(["k1", "k2"]))
    household = f"hh.{key}.{draw(_digests)}"
    persons = draw(
        st.lists(
            st.builds(
                PersonRef,
                pseudonym=_digests.map(lambda d: f"p.{key}.{d}"),
                role=st.sampled_from(PersonRole),
            ),
            max_size=MAX_PERSONS_PER_SIGNAL,
        )
    )
    links: list[PseudonymLink] = []
    if key == "k2":
        rekeyed = draw(st.sets(st.sampled_from([household, *(p.pseudonym for p in persons)])))
        links = [
            PseudonymLink(
                kind="household" if name.startswith("hh.") else "person",
                pseudonym=name,
                known_as=f"{name.split('.')[0]}.k1.{draw(_digests)}",
            )
            for name in sorted(rekeyed)
        ]
    occurred = START + timedelta(seconds=draw(st.integers(0, 10**8)))
    skew = st.integers(-CLOCK_SKEW_ALLOWED.seconds, 10**6).map(lambda s: timedelta(seconds=s))
    reported = occurred + draw(skew)
    sector, kind = draw(_sector_and_type)
    return SignalEventV1(
        event_id=uuid.UUID(int=draw(st.integers(0, 2**128 - 1))),
        organisation=draw(st.from_regex(r"[a-z0-9][a-z0-9-]{1,20}", fullmatch=True)),
        sector=sector,
        signal_type=kind,
        severity=draw(st.sampled_from(Severity)),
        occurred_at=occurred.astimezone(draw(st.sampled_from([UTC, _CET]))),
        reported_at=reported,
        received_at=reported + draw(skew),
        region=draw(st.sampled_from(VtRegion)),
        household=household,
        persons=tuple(persons),
        pseudonym_key_id=key,
        known_as=tuple(links),
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


@PROPERTY
@given(v1_signals())
def test_the_upcast_keeps_what_v1_said_and_adds_nothing(v1: SignalEventV1) -> None:
    v2 = upcast_signal(v1)
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
def test_the_upcast_keys_and_canonicalises_a_household_as_v1_does(v1: SignalEventV1) -> None:
    v2 = upcast_signal(v1)
    assert v2.first_known_household() == v1.first_known_household()  # same Kafka key
    assert v2.canonical() == upcast_signal(v1.canonical())
