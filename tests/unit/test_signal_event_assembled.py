"""The ingest service assembles each signal event from its validated submission instead of
validating every field again (issue 15): the event, its record bytes and every refusal are the
same as the constructor's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import orjson
import pytest
from pydantic import ValidationError

from contracts.regions import VtRegion
from contracts.signal_v1 import PersonRef, SignalEventV1
from contracts.vocabulary import PersonRole, Sector, Severity, SignalType
from services.signals.publisher import serialise

NOW = datetime.now(UTC)


def values(**changed: Any) -> dict[str, Any]:
    return {
        "event_id": uuid4(),
        "organisation": "politie-oost",
        "sector": Sector.POLICE,
        "signal_type": SignalType.HUISVERBOD,
        "severity": Severity.HIGH,
        "occurred_at": NOW - timedelta(days=1),
        "reported_at": NOW,
        "received_at": NOW,
        "region": VtRegion.VT09,
        "household": "hh.k1." + "a" * 32,
        "persons": (
            PersonRef.model_construct(pseudonym="p.k1." + "b" * 32, role=PersonRole.CHILD),
        ),
        "pseudonym_key_id": "k1",
        **changed,
    }


def test_an_assembled_event_is_the_validated_one_to_the_byte() -> None:
    given = values()
    assembled = SignalEventV1.assembled(**given)
    validated = SignalEventV1(**given)
    assert assembled == validated
    assert serialise(assembled) == serialise(validated)
    assert serialise(assembled) == orjson.dumps(validated.model_dump(mode="json"))


@pytest.mark.parametrize(
    "changed",
    [
        {"organisation": "Politie Oost"},
        {"sector": Sector.EDUCATION},  # may not publish a huisverbod
        {"occurred_at": NOW + timedelta(hours=1)},
        {"reported_at": NOW + timedelta(hours=1)},
    ],
)
def test_an_inconsistent_event_is_refused_with_the_constructors_error(
    changed: dict[str, Any],
) -> None:
    def errors(make: Any) -> list[tuple[Any, str]]:
        with pytest.raises(ValidationError) as raised:
            make(**values(**changed))
        return [(e["loc"], e["msg"]) for e in raised.value.errors()]

    assert errors(SignalEventV1.assembled) == errors(SignalEventV1)
