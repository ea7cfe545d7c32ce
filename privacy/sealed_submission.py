"""Which fields of a signal submission are sealed, under which field path, and how a publisher
seals them: shared by the SDK (sealing) and the ingest service (opening), so both bind a
sealed value to the same context.

A person's BSN goes from `persons.<i>.bsn` into `persons.<i>.sealed_bsn`; the household's
address (postcode, house_number, addition as JSON) into `household.sealed_address`.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from privacy.sealed_identifiers import PublishedKey, SealingContext, seal

ADDRESS_FIELD = "household.address"
SEALED_ADDRESS = "sealed_address"
SEALED_BSN = "sealed_bsn"


def bsn_field(index: int) -> str:
    """The field path a person's BSN is sealed for: its place in the signal."""
    return f"persons.{index}.bsn"


def canonical_event_id(event_id: Any) -> str:
    """The event id as the radar writes it (lower-case, hyphenated); ValueError if not a UUID."""
    return str(uuid.UUID(str(event_id)))


def sealed_signal(signal: dict[str, Any], key: PublishedKey) -> dict[str, Any]:
    """The signal with every identifier still in clear sealed to the radar's key (values that
    are sealed already are kept). The signal must carry its event id (a UUID)."""
    event_id = canonical_event_id(signal["event_id"])
    sealed = dict(signal)
    household = signal.get("household")
    if isinstance(household, dict) and SEALED_ADDRESS not in household:
        address = json.dumps(household, separators=(",", ":"))
        value = seal(address, key, SealingContext(event_id, ADDRESS_FIELD))
        sealed["household"] = {SEALED_ADDRESS: value.model_dump()}
    persons = signal.get("persons")
    if isinstance(persons, list):
        sealed["persons"] = [
            _sealed_person(person, key, SealingContext(event_id, bsn_field(index)))
            for index, person in enumerate(persons)
        ]
    return sealed


def _sealed_person(person: Any, key: PublishedKey, context: SealingContext) -> Any:
    if not isinstance(person, dict) or not isinstance(person.get("bsn"), str):
        return person
    rest = {name: value for name, value in person.items() if name != "bsn"}
    return {**rest, SEALED_BSN: seal(person["bsn"], key, context).model_dump()}
