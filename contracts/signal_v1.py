"""Version 1 of the signal event: what the ingest service writes to Kafka.

The event id is chosen by the publisher and is the idempotency key. Organisation and sector come
from the publisher's credential, never from the request body. Households and persons are
pseudonyms only (see contracts.pseudonyms).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal, Self
from uuid import UUID

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from contracts.pseudonyms import (
    HouseholdPseudonym,
    KeyId,
    PersonPseudonym,
    PseudonymLink,
    key_id_of,
)
from contracts.regions import VtRegion
from contracts.vocabulary import PersonRole, Sector, Severity, SignalType, sector_may_publish

SIGNAL_TOPIC_DEFAULT = "radar.signals.v1"
SIGNAL_SCHEMA = "radar.signal.v1"
"""The Kafka `schema` header of a signal record (corrections have their own)."""
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
    known_as: tuple[PseudonymLink, ...] = Field(
        default=(),
        max_length=MAX_PERSONS_PER_SIGNAL + 1,
        description="Re-keying: for each pseudonym of this signal made after a key rotation, "
        "the pseudonym the radar first knew the same household or person by.",
    )

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        self._check_consistent()
        return self

    def _check_consistent(self) -> None:
        """The rules across fields (raises ValueError)."""
        if not sector_may_publish(self.sector, self.signal_type):
            raise ValueError(f"sector {self.sector} may not publish {self.signal_type}")
        if self.occurred_at > self.reported_at + CLOCK_SKEW_ALLOWED:
            raise ValueError("occurred_at lies after reported_at")
        if self.reported_at > self.received_at + CLOCK_SKEW_ALLOWED:
            raise ValueError("reported_at lies after received_at")
        named = {self.household, *(p.pseudonym for p in self.persons)}
        if any(link.pseudonym not in named for link in self.known_as):
            raise ValueError("known_as links a pseudonym the signal does not carry")
        if len({link.pseudonym for link in self.known_as}) != len(self.known_as):
            raise ValueError("known_as links a pseudonym twice")

    def first_known_household(self) -> str:
        """The household's pseudonym as the radar first knew it: the Kafka key, so a
        household's signals stay in one partition, in order, across key rotations."""
        return next(
            (link.known_as for link in self.known_as if link.pseudonym == self.household),
            self.household,
        )

    def canonical(self) -> SignalEventV1:
        """The signal under the pseudonyms the radar first knew its household and persons by:
        what the radar records, and what makes a re-sent signal recognisable after a key
        rotation."""
        if not self.known_as:
            return self
        first = {link.pseudonym: link.known_as for link in self.known_as}
        household = self.first_known_household()
        persons = tuple(
            PersonRef(pseudonym=first.get(p.pseudonym, p.pseudonym), role=p.role)
            for p in self.persons
        )
        return self.model_copy(
            update={
                "household": household,
                "persons": persons,
                "pseudonym_key_id": key_id_of(household),
                "known_as": (),
            }
        )
