"""Version 1 of the signal correction: a publisher corrects or retracts a signal it published
(AVG art. 16, rectification).

Corrections travel on the signals topic, keyed by the household pseudonym the radar first knew
the original by, so a correction always follows its signal in the same partition. A record's
Kafka `schema` header tells the two messages apart. The original signal is never changed: the
correction is recorded beside it, and the radar's views show the corrected values.

Only what the publisher weighed may be corrected (signal type, severity, occurred-at). Persons
and household cannot: a signal about the wrong household is retracted and published anew.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal, Self
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from contracts.leak_guard import contains_identifier
from contracts.pseudonyms import HouseholdPseudonym
from contracts.signal_v1 import CLOCK_SKEW_ALLOWED, OrganisationId
from contracts.vocabulary import Sector, Severity, SignalType, sector_may_publish

CORRECTION_SCHEMA = "radar.signal-correction.v1"
"""The Kafka `schema` header of a correction record (a signal's is radar.signal.v1)."""
MAX_REASON_LENGTH = 1000

Reason = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_REASON_LENGTH)
]


class CorrectionKind(StrEnum):
    """A correction changes values of the signal; a retraction withdraws it altogether."""

    CORRECTION = "correction"
    RETRACTION = "retraction"


class CorrectedValues(BaseModel):
    """The values a correction may change; those left out keep their value."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    signal_type: SignalType | None = None
    severity: Severity | None = None
    occurred_at: AwareDatetime | None = None

    def changes(self) -> dict[str, object]:
        """The values given, by field name."""
        return self.model_dump(exclude_none=True)


class SignalCorrectionV1(BaseModel):
    """A correction or retraction of one signal, as published on the signals topic."""

    model_config = ConfigDict(extra="forbid", frozen=True, title="SignalCorrectionV1")

    schema_version: Literal[1] = 1
    correction_id: UUID = Field(description="Publisher-chosen UUID; the idempotency key.")
    corrects: UUID = Field(description="The event_id of the signal corrected or retracted.")
    kind: CorrectionKind
    values: CorrectedValues | None = Field(
        default=None, description="For a correction: the new values. None for a retraction."
    )
    reason: Reason = Field(description="Why; free text that must not hold an identifier.")
    organisation: OrganisationId = Field(description="The organisation that published the signal.")
    sector: Sector
    received_at: AwareDatetime = Field(description="When the radar's ingest service accepted it.")
    household: HouseholdPseudonym = Field(
        description="The household's pseudonym as the radar first knew it (the Kafka key)."
    )

    def first_known_household(self) -> str:
        """The household as the radar first knew it (the Kafka key), as for signals."""
        return self.household

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.kind == CorrectionKind.RETRACTION and self.values is not None:
            raise ValueError("a retraction carries no values")
        if self.kind == CorrectionKind.CORRECTION and not (self.values and self.values.changes()):
            raise ValueError("a correction changes at least one of the correctable values")
        values = self.values or CorrectedValues()
        if values.signal_type is not None and not sector_may_publish(
            self.sector, values.signal_type
        ):
            raise ValueError(f"sector {self.sector} may not publish {values.signal_type}")
        if values.occurred_at is not None and lies_ahead(values.occurred_at, self.received_at):
            raise ValueError("occurred_at lies after received_at")
        if contains_identifier(self.reason):
            raise ValueError("reason holds what looks like an identifier")
        return self


def lies_ahead(moment: datetime, now: datetime) -> bool:
    """Whether a moment lies after `now` by more than the clock skew allowed."""
    return moment > now + CLOCK_SKEW_ALLOWED
