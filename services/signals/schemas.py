"""What a publisher submits over HTTP, and how it becomes a pseudonymised signal event.

The submission carries identifiers (BSN, address), sealed to the radar's key or, where allowed,
in clear; services.signals.identifiers opens and validates them, to_event turns them into
pseudonyms, and they go no further. Organisation and sector come from the credential.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Self
from uuid import UUID

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from contracts.bsn import passes_elfproef
from contracts.correction_v1 import CorrectedValues, CorrectionKind, Reason
from contracts.regions import VtRegion
from contracts.signal_v1 import (
    CLOCK_SKEW_ALLOWED,
    MAX_PERSONS_PER_SIGNAL,
    PersonRef,
    SignalEventV1,
)
from contracts.vocabulary import PersonRole, Sector, Severity, SignalType
from privacy.actors import Publisher
from privacy.addresses import HomeAddress
from privacy.pseudonyms import Pseudonymiser
from privacy.sealed_identifiers import SealedValue
from services.addresses import Addition, AddressSubmission, HouseNumber, Postcode

INVALID_BSN = "not a valid BSN: nine digits passing the elfproef expected"
NOT_FREE_TEXT = frozenset(
    {
        "event_id",
        "occurred_at",
        "reported_at",
        "household.postcode",
        "household.addition",
        "household.sealed_address",
        "persons.*.bsn",
        "persons.*.sealed_bsn",
    }
)
"""The string fields that hold an identifier (in clear or sealed) or a structured value (an id,
a timestamp). Every other string a submission carries, now or in a later version, is free text
and is refused when it looks like an identifier (services.signals.leak_check)."""


@dataclass(frozen=True)
class Identifiers:
    """One signal's identifiers in clear, opened and validated; they exist only inside the
    ingest request and are turned into pseudonyms by to_event."""

    home: HomeAddress
    bsns: tuple[str, ...]  # in the order of the submission's persons


def _elfproef(value: str) -> str:
    if not passes_elfproef(value):
        raise ValueError(INVALID_BSN)
    return value


Bsn = Annotated[str, StringConstraints(max_length=9), AfterValidator(_elfproef)]
_PLAIN = (
    "Refused (422) where the radar takes only sealed identifiers "
    "(RADAR_ALLOW_PLAIN_IDENTIFIERS=false, wherever real identifiers flow)."
)


class HouseholdSubmission(BaseModel):
    """The household's home address, in clear (postcode, house number, addition) or sealed to
    the radar's key (sealed_address, holding the same three fields as JSON)."""

    model_config = ConfigDict(extra="forbid")

    postcode: Postcode | None = Field(
        default=None, description=f"In clear, with house_number; or give sealed_address. {_PLAIN}"
    )
    house_number: HouseNumber | None = Field(
        default=None, description="In clear, with postcode; or give sealed_address."
    )
    addition: Addition = Field(default="", description="In clear, with postcode (optional).")
    sealed_address: SealedValue | None = Field(
        default=None,
        description='{"postcode", "house_number", "addition"} as compact JSON, sealed for '
        "field path household.address; give this or postcode and house_number, not both.",
    )

    @model_validator(mode="after")
    def _one_form(self) -> Self:
        plain = self.postcode is not None or self.house_number is not None or self.addition
        if self.sealed_address is not None and plain:
            raise ValueError("give either postcode and house_number, or sealed_address")
        if self.sealed_address is None and (self.postcode is None or self.house_number is None):
            raise ValueError("postcode and house_number (or sealed_address) are required")
        return self

    def plain(self) -> AddressSubmission | None:
        """The address in clear, when it was sent so."""
        return plain_address(self.postcode, self.house_number, self.addition)


def plain_address(
    postcode: str | None, house_number: int | None, addition: str
) -> AddressSubmission | None:
    """An address sent in clear (its fields validated with a submission's, which are
    AddressSubmission's types: not validated again); None when it was not sent so."""
    if postcode is None or house_number is None:
        return None
    return AddressSubmission.model_construct(
        postcode=postcode, house_number=house_number, addition=addition
    )


class PersonSubmission(BaseModel):
    """A person the signal concerns: BSN in clear (bsn) or sealed (sealed_bsn), and role."""

    model_config = ConfigDict(extra="forbid")

    bsn: Bsn | None = Field(
        default=None, description=f"The BSN in clear; give this or sealed_bsn. {_PLAIN}"
    )
    sealed_bsn: SealedValue | None = Field(
        default=None,
        description="The BSN sealed for field path persons.<index>.bsn; give this or bsn.",
    )
    role: PersonRole

    @model_validator(mode="after")
    def _one_form(self) -> Self:
        if (self.bsn is None) == (self.sealed_bsn is None):
            raise ValueError("give either bsn or sealed_bsn")
        return self


class SignalSubmission(BaseModel):
    """One signal as a publisher sends it."""

    model_config = ConfigDict(extra="forbid")

    event_id: UUID = Field(description="Client-chosen UUID; re-sending it is safe.")
    signal_type: SignalType
    severity: Severity
    occurred_at: AwareDatetime
    reported_at: AwareDatetime | None = None
    region: VtRegion
    household: HouseholdSubmission
    persons: list[PersonSubmission] = Field(default_factory=list, max_length=MAX_PERSONS_PER_SIGNAL)

    @field_validator("occurred_at", "reported_at")
    @classmethod
    def _not_in_future(cls, value: datetime | None) -> datetime | None:
        return _not_in_future(value)

    @field_validator("reported_at")
    @classmethod
    def _not_before_occurrence(
        cls, value: datetime | None, info: ValidationInfo
    ) -> datetime | None:
        occurred_at = info.data.get("occurred_at")
        if value is not None and occurred_at is not None and value < occurred_at:
            raise ValueError("lies before occurred_at")
        return value


CORRECTION_NOT_FREE_TEXT = frozenset({"correction_id", "occurred_at"})
"""The structured string fields of a correction or retraction; its reason is free text."""


def _not_in_future(value: datetime | None) -> datetime | None:
    if value is not None and value > datetime.now(UTC) + CLOCK_SKEW_ALLOWED:
        raise ValueError("lies in the future")
    return value


class RetractionSubmission(BaseModel):
    """A publisher withdraws a signal it published (the event id is in the path)."""

    model_config = ConfigDict(extra="forbid")

    correction_id: UUID = Field(description="Client-chosen UUID; re-sending it is safe.")
    reason: Reason = Field(description="Why; free text that must not hold an identifier.")

    def values(self) -> CorrectedValues | None:
        return None


class CorrectionSubmission(RetractionSubmission):
    """A publisher corrects a signal it published: only signal type, severity and occurred-at
    may change (a signal about the wrong household is retracted and published anew)."""

    signal_type: SignalType | None = None
    severity: Severity | None = None
    occurred_at: Annotated[AwareDatetime, AfterValidator(_not_in_future)] | None = None

    def values(self) -> CorrectedValues | None:
        return CorrectedValues(
            signal_type=self.signal_type, severity=self.severity, occurred_at=self.occurred_at
        )


CORRECTION_SUBMISSIONS: dict[CorrectionKind, type[RetractionSubmission]] = {
    CorrectionKind.CORRECTION: CorrectionSubmission,
    CorrectionKind.RETRACTION: RetractionSubmission,
}


def _as_sent(value: Any) -> Any:
    return value


def described_as(model: type[BaseModel]) -> BeforeValidator:
    """Takes a JSON object as sent while the JSON Schema (and so the OpenAPI document) states the
    model: the ingest service validates it itself, after the leak check and per signal in a
    batch, so that a refusal names each field without echoing a value."""
    return BeforeValidator(_as_sent, json_schema_input_type=model)


RawSignal = Annotated[dict[str, Any], described_as(SignalSubmission)]
"""A signal as sent, declared as a SignalSubmission."""
RawCorrection = Annotated[dict[str, Any], described_as(CorrectionSubmission)]
"""A correction as sent, declared as a CorrectionSubmission."""
RawRetraction = Annotated[dict[str, Any], described_as(RetractionSubmission)]
"""A retraction as sent, declared as a RetractionSubmission."""


def to_event(
    submission: SignalSubmission,
    identifiers: Identifiers,
    publisher: Publisher,
    pseudonymiser: Pseudonymiser,
    received_at: datetime,
) -> SignalEventV1:
    """The pseudonymised event for an accepted submission (raises ValidationError if
    inconsistent). Built by the validating constructor from values already typed (enum
    members, aware datetimes, UUID, PersonRefs): pydantic-core checks those in a few
    microseconds, where `model_construct` (pure Python, per field) cost twice as much."""
    return SignalEventV1(
        event_id=submission.event_id,
        organisation=publisher.organisation,
        sector=Sector(publisher.sector),  # a v1 sector: the route checked may_publish_v1
        signal_type=submission.signal_type,
        severity=submission.severity,
        occurred_at=submission.occurred_at,
        reported_at=submission.reported_at or received_at,
        received_at=received_at,
        region=submission.region,
        household=pseudonymiser.household(identifiers.home),
        persons=tuple(
            PersonRef(pseudonym=pseudonymiser.person(bsn), role=person.role)
            for person, bsn in zip(submission.persons, identifiers.bsns, strict=True)
        ),
        pseudonym_key_id=pseudonymiser.key_id,
    )
