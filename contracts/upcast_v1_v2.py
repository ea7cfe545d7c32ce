"""Upcasting v1 signals to v2: pure, deterministic, and saying nothing v1 did not say.

A v1 event becomes the v2 event with the same sector, type, severity, times, region, household
and persons; each person's one v1 role becomes its only v2 role (v1's child, parent_or_carer and
other_adult are v2 roles with the same meaning), its age is unknown, and no form of violence is
stated. Nothing is inferred (a v1 `incident_with_children_present` does not become "witnessing
violence"): an upcast event must replay to what the v1 event replayed to.

The document form works on JSON as it travels (a Kafka record's value, read back from the topic
by a consumer or a replay) without the models; the model form is the same function behind
validation. The event store holds the radar's own domain events (radar.household), not these
contract events: when the ledger records v2's facts, those events get their own class_version
upcasts there.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from contracts.signal_v1 import SignalEventV1
from contracts.signal_v2 import SignalEventV2


def upcast_signal_document(document: Mapping[str, Any]) -> dict[str, Any]:
    """The v2 JSON document of a v1 signal's JSON document (a v2 one is returned as it is)."""
    if document.get("schema_version") == 2:
        return dict(document)
    upcast = {key: value for key, value in document.items() if key != "persons"}
    upcast["schema_version"] = 2
    upcast["forms_of_violence"] = []
    upcast["persons"] = [
        {"pseudonym": person["pseudonym"], "roles": [person["role"]]}
        for person in document.get("persons", ())
    ]
    return upcast


def upcast_signal(event: SignalEventV1 | SignalEventV2) -> SignalEventV2:
    """The v2 event of a v1 event (a v2 event is returned as it is)."""
    if isinstance(event, SignalEventV2):
        return event
    return SignalEventV2.model_validate(upcast_signal_document(event.model_dump(mode="json")))
