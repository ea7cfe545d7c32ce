"""What a publisher submits for a signal.v2 (not yet accepted by the ingest API: the contract
comes first, so publishers can build against it).

Beside v1's BSNs and home address, in clear or sealed, a v2 submission can name a person by the
publisher's own reference (a client or file number), a child not yet born as the child of
another person in the same signal, and a household without a fixed address by a shelter's
placement reference. References are identifiers like a BSN: sealed to the radar's key wherever
real identifiers flow, kept encrypted in the vault, and never anything but pseudonyms beyond
ingest. A reference that looks like an identifier itself (a BSN, a date of birth) is refused:
it belongs in its own field, or nowhere.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Self
from uuid import UUID

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from contracts import export
from contracts.correction_v1 import lies_ahead
from contracts.leak_guard import contains_identifier
from contracts.regions import VtRegion
from contracts.signal_types_v2 import REPORTED_TYPES, SignalTypeV2, vocabulary_extensions
from contracts.signal_v1 import MAX_PERSONS_PER_SIGNAL, OrganisationId
from contracts.signal_v2 import MAX_AGE, ProsecutionV2
from contracts.vocabulary import Severity
from contracts.vocabulary_v2 import FormOfViolence, PersonRoleV2, Reporter
from privacy.sealed_identifiers import SealedValue
from services.addresses import Addition, HouseNumber, Postcode
from services.signals.schemas import NOT_FREE_TEXT, Bsn, described_as

SUBMISSION_V2_SCHEMA_FILE = "signal-submission.v2.schema.json"
MAX_REFERENCE_LENGTH = 64
NOT_AN_IDENTIFIER = "looks like an identifier; a reference is the publisher's own number or code"
NOT_FREE_TEXT_V2 = NOT_FREE_TEXT | {
    "persons.*.local_reference",
    "persons.*.sealed_local_reference",
    "household.placement.reference",
    "household.placement.sealed_reference",
}
"""v1's structured and identifier fields and v2's references (services.signals.leak_check)."""


def _not_an_identifier(value: str) -> str:
    if contains_identifier(value):
        raise ValueError(NOT_AN_IDENTIFIER)
    return value


LocalReference = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/-]*$", max_length=MAX_REFERENCE_LENGTH),
    AfterValidator(_not_an_identifier),
]


def _exactly_one(plain: object, sealed: object, what: str) -> None:
    if (plain is None) == (sealed is None):
        raise ValueError(f"give either {what} or sealed_{what}")


class PlacementSubmission(BaseModel):
    """A household without a fixed address: the shelter and its reference for the placement
    (the shelter's address is never sent: it is secret, and shared by every family there)."""

    model_config = ConfigDict(extra="forbid")

    shelter: OrganisationId = Field(description="The shelter organisation's identifier.")
    reference: LocalReference | None = Field(
        default=None, description="The shelter's placement reference, in clear."
    )
    sealed_reference: SealedValue | None = Field(
        default=None,
        description="The reference sealed for field path household.placement.reference.",
    )

    @model_validator(mode="after")
    def _one_form(self) -> Self:
        _exactly_one(self.reference, self.sealed_reference, "reference")
        return self


class HouseholdSubmissionV2(BaseModel):
    """The household: a home address (as in v1: in clear or sealed) or a shelter placement."""

    model_config = ConfigDict(extra="forbid")

    postcode: Postcode | None = Field(default=None, description="In clear, with house_number.")
    house_number: HouseNumber | None = Field(default=None, description="With postcode.")
    addition: Addition = Field(default="", description="With postcode (optional).")
    sealed_address: SealedValue | None = Field(
        default=None, description="As in v1, sealed for field path household.address."
    )
    placement: PlacementSubmission | None = Field(
        default=None, description="A household without a fixed address; then no address."
    )

    @model_validator(mode="after")
    def _one_form(self) -> Self:
        plain = self.postcode is not None and self.house_number is not None
        partial = (self.postcode is None) != (self.house_number is None) or (
            self.addition and not plain
        )
        forms = [plain, self.sealed_address is not None, self.placement is not None]
        if partial or forms.count(True) != 1:
            raise ValueError("give one of: postcode and house_number, sealed_address, or placement")
        return self


class PersonSubmissionV2(BaseModel):
    """A person: by BSN (in clear or sealed), by the publisher's own reference, or both (the
    BSN became known: the radar links the two, see docs/contracts.md); roles; age if known."""

    model_config = ConfigDict(extra="forbid")

    bsn: Bsn | None = Field(default=None, description="The BSN in clear.")
    sealed_bsn: SealedValue | None = Field(
        default=None, description="The BSN sealed for field path persons.<index>.bsn."
    )
    local_reference: LocalReference | None = Field(
        default=None, description="The publisher's own reference for a person without a BSN."
    )
    sealed_local_reference: SealedValue | None = Field(
        default=None,
        description="The reference sealed for field path persons.<index>.local_reference.",
    )
    roles: list[PersonRoleV2] = Field(min_length=1, max_length=len(PersonRoleV2))
    age: int | None = Field(default=None, ge=0, le=MAX_AGE, description="Whole years.")
    unborn_child_of: int | None = Field(
        default=None,
        ge=0,
        lt=MAX_PERSONS_PER_SIGNAL,
        description="A child not yet born: the index in persons of the expectant parent. The "
        "child has a local reference, no BSN, no age and the role child.",
    )

    @model_validator(mode="after")
    def _forms(self) -> Self:
        by_bsn = self.bsn is not None or self.sealed_bsn is not None
        by_reference = self.local_reference is not None or self.sealed_local_reference is not None
        if not (by_bsn or by_reference):
            raise ValueError("give a bsn or a local_reference (in clear or sealed)")
        if by_bsn:
            _exactly_one(self.bsn, self.sealed_bsn, "bsn")
        if by_reference:
            _exactly_one(self.local_reference, self.sealed_local_reference, "local_reference")
        if len(set(self.roles)) != len(self.roles):
            raise ValueError("a role is named twice")
        if self.unborn_child_of is not None and (
            by_bsn or self.age is not None or PersonRoleV2.CHILD not in self.roles
        ):
            raise ValueError(
                "a child not yet born has a local_reference, no bsn, no age, role child"
            )
        return self


class SignalSubmissionV2(BaseModel):
    """One signal.v2 as a publisher sends it (organisation and sector come from the credential)."""

    model_config = ConfigDict(extra="forbid")

    event_id: UUID = Field(description="Client-chosen UUID; re-sending it is safe.")
    signal_type: SignalTypeV2
    reported_by: Reporter | None = Field(
        default=None,
        description="Only for vt_report and vt_advice_request: who reported to Veilig Thuis "
        "(de melder): a sector, or self, relative, neighbour_or_acquaintance, anonymous, "
        "other_citizen, other_professional (x-reporters). Left out when not known.",
    )
    severity: Severity
    forms_of_violence: list[FormOfViolence] = Field(
        default_factory=list,
        max_length=len(FormOfViolence),
        description="The forms of violence seen or suspected, each once; none if not known.",
    )
    prosecution: ProsecutionV2 | None = Field(
        default=None,
        description="Only for prosecution_decision (the OM): the outcome (prosecution, "
        "dismissal, punishment_order: x-prosecution-outcomes) and the id of the Veilig Thuis "
        "referral it decides, from the OM's referrals feed. Left out when not said.",
    )
    occurred_at: AwareDatetime
    reported_at: AwareDatetime | None = None
    region: VtRegion
    household: HouseholdSubmissionV2
    persons: list[PersonSubmissionV2] = Field(
        default_factory=list, max_length=MAX_PERSONS_PER_SIGNAL
    )

    @field_validator("reported_by")
    @classmethod
    def _reported_only_to_vt(cls, value: Reporter | None, info: ValidationInfo) -> Reporter | None:
        kind = info.data.get("signal_type")  # absent when it was invalid: that error is enough
        if value is not None and kind is not None and kind not in REPORTED_TYPES:
            raise ValueError(f"only {' and '.join(sorted(REPORTED_TYPES))} say who reported")
        return value

    @field_validator("prosecution")
    @classmethod
    def _decisions_only(
        cls, value: ProsecutionV2 | None, info: ValidationInfo
    ) -> ProsecutionV2 | None:
        kind = info.data.get("signal_type")  # absent when it was invalid: that error is enough
        if value is not None and kind is not None and kind != SignalTypeV2.PROSECUTION_DECISION:
            raise ValueError("only prosecution_decision says it")
        return value

    @field_validator("occurred_at", "reported_at")
    @classmethod
    def _not_in_future(cls, value: datetime | None) -> datetime | None:
        if value is not None and lies_ahead(value, datetime.now(UTC)):
            raise ValueError("lies in the future")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.reported_at is not None and self.reported_at < self.occurred_at:
            raise ValueError("reported_at lies before occurred_at")
        if len(set(self.forms_of_violence)) != len(self.forms_of_violence):
            raise ValueError("a form of violence is named twice")
        for index, person in enumerate(self.persons):
            parent = person.unborn_child_of
            if parent is not None and (parent == index or parent >= len(self.persons)):
                raise ValueError(f"persons.{index}.unborn_child_of names no other person")
            if parent is not None and self.persons[parent].unborn_child_of is not None:
                raise ValueError(f"persons.{index}.unborn_child_of names a child not yet born")
        return self


RawSignalV2 = Annotated[dict[str, Any], described_as(SignalSubmissionV2)]
"""A v2 signal as sent, declared as a SignalSubmissionV2 (validated by the ingest service)."""


def submission_schema_v2() -> dict[str, Any]:
    """The JSON Schema a v2 publisher's body is validated against, with the v2 vocabulary."""
    schema = export.published(SignalSubmissionV2.model_json_schema(), SUBMISSION_V2_SCHEMA_FILE)
    return schema | vocabulary_extensions()


def rendered_files() -> dict[str, str]:
    """File name -> exact text of the v2 submission schema file."""
    return {SUBMISSION_V2_SCHEMA_FILE: export.render(submission_schema_v2())}


def write_all(directory: Path = export.SCHEMA_DIR) -> list[Path]:
    """Writes the v2 submission schema beside the contracts' and returns its path."""
    return export.write_all(directory, rendered_files())
