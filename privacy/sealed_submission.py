"""Which fields of a signal submission are sealed, under which field path, and how a publisher
seals them: shared by the SDK (sealing) and the ingest service (opening), so both bind a
sealed value to the same context.

A person's BSN goes from `persons.<i>.bsn` into `persons.<i>.sealed_bsn`; the household's
address (postcode, house_number, addition as JSON) into `household.sealed_address`. signal.v2
adds a person's own reference (`persons.<i>.local_reference` into `sealed_local_reference`) and a
shelter placement's reference (`household.placement.reference` into `sealed_reference`); a v1
submission has neither, so sealing it is unchanged.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from privacy.sealed_identifiers import PublishedKey, SealingContext, seal

ADDRESS_FIELD = "household.address"
SEALED_ADDRESS = "sealed_address"
SEALED_BSN = "sealed_bsn"
PLACEMENT = "placement"
PLACEMENT_REFERENCE_FIELD = "household.placement.reference"
SEALED_REFERENCE = "sealed_reference"
SEALED_LOCAL_REFERENCE = "sealed_local_reference"


def bsn_field(index: int) -> str:
    """The field path a person's BSN is sealed for: its place in the signal."""
    return f"persons.{index}.bsn"


def local_reference_field(index: int) -> str:
    """The field path a person's own reference is sealed for (signal.v2)."""
    return f"persons.{index}.local_reference"


def canonical_event_id(event_id: Any) -> str:
    """The event id as the radar writes it (lower-case, hyphenated); ValueError if not a UUID."""
    return str(uuid.UUID(str(event_id)))


def sealed_signal(signal: dict[str, Any], key: PublishedKey) -> dict[str, Any]:
    """The signal with every identifier still in clear sealed to the radar's key (values that
    are sealed already are kept). The signal must carry its event id (a UUID)."""
    event_id = canonical_event_id(signal["event_id"])
    sealed = dict(signal)
    household = signal.get("household")
    if isinstance(household, dict) and isinstance(household.get(PLACEMENT), dict):
        placement = household[PLACEMENT]
        context = SealingContext(event_id, PLACEMENT_REFERENCE_FIELD)
        sealed["household"] = {
            **household,
            PLACEMENT: _sealed_field(placement, "reference", SEALED_REFERENCE, key, context),
        }
    elif isinstance(household, dict) and SEALED_ADDRESS not in household:
        address = json.dumps(household, separators=(",", ":"))
        value = seal(address, key, SealingContext(event_id, ADDRESS_FIELD))
        sealed["household"] = {SEALED_ADDRESS: value.model_dump()}
    persons = signal.get("persons")
    if isinstance(persons, list):
        sealed["persons"] = [
            _sealed_field(
                _sealed_field(
                    person, "bsn", SEALED_BSN, key, SealingContext(event_id, bsn_field(index))
                ),
                "local_reference",
                SEALED_LOCAL_REFERENCE,
                key,
                SealingContext(event_id, local_reference_field(index)),
            )
            for index, person in enumerate(persons)
        ]
    return sealed


def _sealed_field(
    part: Any, plain: str, sealed: str, key: PublishedKey, context: SealingContext
) -> Any:
    """The object with its field `plain`, when a string, sealed into the field `sealed`."""
    if not isinstance(part, dict) or not isinstance(part.get(plain), str):
        return part
    rest = {name: value for name, value in part.items() if name != plain}
    return {**rest, sealed: seal(part[plain], key, context).model_dump()}
