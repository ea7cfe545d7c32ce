"""Version 1 of the signal event: what the ingest service writes to Kafka.

The event id is chosen by the publisher and is the idempotency key. Organisation and sector come
from the publisher's credential, never from the request body. Households and persons are
pseudonyms only (see contracts.pseudonyms).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal, Self
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from contracts.pseudonyms import HouseholdPseudonym, KeyId, PersonPseudonym
from contracts.regions import VtRegion
from contracts.vocabulary import PersonRole, Sector, Severity, SignalType, sector_may_publish

SIGNAL_TOPIC_DEFAULT = "radar.signals.v1"
MAX_PERSONS_PER_SIGNAL = 20
CLOCK_SKEW_ALLOWED = timedelta(minutes=5)

OrganisationId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{1,63}$")]


class PersonRef(BaseModel):
    """A person the signal concerns, by pseudonym and role in the household."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    pseudonym: PersonPseudonym
    role: PersonRole


class SignalEventV1(BaseModel):
    """A pseudonymised signal about one household, as published on the signals topic."""

    model_config = ConfigDict(extra="forbid", frozen=True, title="SignalEventV1")

    schema_version: Literal[1] = 1
    event_id: UUID = Field(description="Publisher-chosen UUID; the idempotency key.")
    organisation: OrganisationId = Field(description="Publishing organisation's identifier.")
    sector: Sector
    signal_type: SignalType
    severity: Severity
    occurred_at: AwareDatetime = Field(description="When what is signalled happened.")
    reported_at: AwareDatetime = Field(description="When the publisher recorded it.")
    received_at: AwareDatetime = Field(description="When the radar's ingest service accepted it.")
    region: VtRegion = Field(description="The Veilig Thuis region the publisher reports to.")
    household: HouseholdPseudonym
    persons: tuple[PersonRef, ...] = Field(default=(), max_length=MAX_PERSONS_PER_SIGNAL)
    pseudonym_key_id: KeyId = Field(description="Version of the key that made the pseudonyms.")

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if not sector_may_publish(self.sector, self.signal_type):
            raise ValueError(f"sector {self.sector} may not publish {self.signal_type}")
        if self.occurred_at > self.reported_at + CLOCK_SKEW_ALLOWED:
            raise ValueError("occurred_at lies after reported_at")
        if self.reported_at > self.received_at + CLOCK_SKEW_ALLOWED:
            raise ValueError("reported_at lies after received_at")
        return self
