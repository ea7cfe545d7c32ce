"""What a publisher submits over HTTP, and how it becomes a pseudonymised signal event.

The submission carries identifiers (BSN, address); they are validated here, turned into
pseudonyms, and go no further. Organisation and sector come from the credential.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from contracts.regions import VtRegion
from contracts.signal_v1 import (
    CLOCK_SKEW_ALLOWED,
    MAX_PERSONS_PER_SIGNAL,
    PersonRef,
    SignalEventV1,
)
from contracts.vocabulary import PersonRole, Severity, SignalType
from privacy.actors import Publisher
from privacy.addresses import MAX_ADDITION_LENGTH, MAX_HOUSE_NUMBER, HomeAddress
from privacy.bsn import passes_elfproef
from privacy.pseudonyms import Pseudonymiser


class AddressSubmission(BaseModel):
    """The household's home address: postcode, house number and addition."""

    model_config = ConfigDict(extra="forbid")

    postcode: Annotated[
        str, StringConstraints(pattern=r"^\s*[1-9][0-9]{3}\s*[A-Za-z]{2}\s*$", max_length=10)
    ]
    house_number: int = Field(ge=1, le=MAX_HOUSE_NUMBER)
    addition: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9\s\-]{0,10}$")] = ""

    @field_validator("addition")
    @classmethod
    def _short_addition(cls, value: str) -> str:
        if len(value.replace(" ", "").replace("-", "")) > MAX_ADDITION_LENGTH:
            raise ValueError(f"at most {MAX_ADDITION_LENGTH} letters or digits")
        return value


class PersonSubmission(BaseModel):
    """A person the signal concerns, by BSN and role."""

    model_config = ConfigDict(extra="forbid")

    bsn: str = Field(max_length=9)
    role: PersonRole

    @field_validator("bsn")
    @classmethod
    def _elfproef(cls, value: str) -> str:
        if not passes_elfproef(value):
            raise ValueError("not a valid BSN: nine digits passing the elfproef expected")
        return value


class SignalSubmission(BaseModel):
    """One signal as a publisher sends it."""

    model_config = ConfigDict(extra="forbid")

    event_id: UUID = Field(description="Client-chosen UUID; re-sending it is safe.")
    signal_type: SignalType
    severity: Severity
    occurred_at: AwareDatetime
    reported_at: AwareDatetime | None = None
    region: VtRegion
    household: AddressSubmission
    persons: list[PersonSubmission] = Field(default_factory=list, max_length=MAX_PERSONS_PER_SIGNAL)

    @field_validator("occurred_at", "reported_at")
    @classmethod
    def _not_in_future(cls, value: datetime | None) -> datetime | None:
        if value is not None and value > datetime.now(UTC) + CLOCK_SKEW_ALLOWED:
            raise ValueError("lies in the future")
        return value

    @field_validator("reported_at")
    @classmethod
    def _not_before_occurrence(
        cls, value: datetime | None, info: ValidationInfo
    ) -> datetime | None:
        occurred_at = info.data.get("occurred_at")
        if value is not None and occurred_at is not None and value < occurred_at:
            raise ValueError("lies before occurred_at")
        return value


def to_event(
    submission: SignalSubmission,
    publisher: Publisher,
    pseudonymiser: Pseudonymiser,
    received_at: datetime,
) -> SignalEventV1:
    """The pseudonymised event for an accepted submission (raises ValueError if inconsistent)."""
    address = HomeAddress.normalised(
        submission.household.postcode,
        submission.household.house_number,
        submission.household.addition,
    )
    return SignalEventV1(
        event_id=submission.event_id,
        organisation=publisher.organisation,
        sector=publisher.sector,
        signal_type=submission.signal_type,
        severity=submission.severity,
        occurred_at=submission.occurred_at,
        reported_at=submission.reported_at or received_at,
        received_at=received_at,
        region=submission.region,
        household=pseudonymiser.household(address),
        persons=tuple(
            PersonRef(pseudonym=pseudonymiser.person(person.bsn), role=person.role)
            for person in submission.persons
        ),
        pseudonym_key_id=pseudonymiser.key_id,
    )
