"""The ledger's codec (services/ledger/codec.py) in memory, many examples: any household state
made of its declared types (moves, corrections, facts, factors, the latest score with its
contributions) and any undeclared attribute reads back from a snapshot exactly; bytes of the
library's JSON transcoder still read; bytes of this format name their class to be read."""

from __future__ import annotations

import typing
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    Mapper,
    UUIDAsHex,
)
from eventsourcing.utils import get_topic
from hypothesis import given, settings
from hypothesis import strategies as st

from radar.household import Household
from radar.household_score import MEMORY_ONLY
from radar.risk import Assessment
from services.ledger.codec import TYPED_FORMAT, TypedTranscoder
from services.ledger.transcodings import register_state_transcodings
from services.ledger.typed_mapper import TypedMapper
from tests.support.typed_values import ANY, TEXT, values_of

NOT_STATE = {
    "INITIAL_VERSION",
    "_score_changed",
    *MEMORY_ONLY,
}  # class constants, memory only
STATE_TYPES = {
    name: declared
    for name, declared in typing.get_type_hints(Household, include_extras=True).items()
    if name not in NOT_STATE
}


def _legacy() -> JSONTranscoder:
    transcoder = JSONTranscoder()
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO()):
        transcoder.register(transcoding)
    register_state_transcodings(transcoder)
    return transcoder


MAPPER = TypedMapper(TypedTranscoder(_legacy()))
LIBRARY: Mapper[uuid.UUID] = Mapper(_legacy())


@st.composite
def states(draw: st.DrawFn) -> dict[str, Any]:
    state = {name: draw(values_of(t), label=name) for name, t in STATE_TYPES.items()}
    state["_created_on"] = state["_modified_on"] = datetime(2026, 1, 2, tzinfo=UTC)
    state["class_version"] = Household.class_version
    undeclared = st.dictionaries(TEXT.filter(lambda n: n not in STATE_TYPES), ANY, max_size=2)
    return {**state, **draw(undeclared, label="undeclared")}


@settings(max_examples=150, deadline=None)
@given(states())
def test_any_household_state_reads_back_from_a_snapshot(state: dict[str, Any]) -> None:
    snapshot = Household.Snapshot(
        originator_id=uuid.uuid4(),
        originator_version=7,
        timestamp=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        topic=get_topic(Household),
        state=state,
    )
    stored = MAPPER.to_stored_event(snapshot)
    assert bytes(stored.state[:1]) == TYPED_FORMAT
    assert repr(MAPPER.to_domain_event(stored)) == repr(snapshot)


@settings(max_examples=60, deadline=None)
@given(values_of(Assessment))
def test_a_score_with_its_explanation_reads_back_as_the_library_read_it(
    score: Assessment,
) -> None:
    snapshot = Household.Snapshot(
        originator_id=uuid.uuid4(),
        originator_version=3,
        timestamp=datetime(2026, 1, 2, tzinfo=UTC),
        topic=get_topic(Household),
        state={"latest_score": score, "class_version": Household.class_version},
    )
    written_before = LIBRARY.to_stored_event(snapshot)
    assert MAPPER.to_domain_event(written_before) == LIBRARY.to_domain_event(written_before)
    assert MAPPER.to_domain_event(MAPPER.to_stored_event(snapshot)) == snapshot


def test_the_new_format_is_not_read_without_its_class() -> None:
    event = Household.CaseOpened(
        originator_id=uuid.uuid4(), originator_version=2, timestamp=datetime.now(UTC)
    )
    stored = MAPPER.to_stored_event(event)
    with pytest.raises(TypeError, match="TypedMapper"):
        MAPPER.transcoder.decode(stored.state)
