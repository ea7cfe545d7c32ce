"""The register of external recipients of pseudonymised extracts: who may receive which fields
of which sectors' signals, on which legal basis (see recipients.toml)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    field_serializer,
    field_validator,
    model_validator,
)

from contracts.pseudonyms import RecipientId
from contracts.vocabulary import Sector
from privacy.registers import MalformedFileError, VersionedRegister, load_toml, sorted_strings
from privacy.statistical_disclosure import MIN_THRESHOLD

DEFAULT_RECIPIENTS = Path(__file__).with_name("recipients.toml")

EXTRACT_FIELDS = frozenset(
    {"signal_type", "sector", "severity", "occurred_month", "region", "household", "persons"}
)
"""What a record of an extract may carry; no signal id, organisation or exact date, since
those would let two recipients (or a recipient and a publisher) join their records."""


class RecipientRegisterError(MalformedFileError):
    """The register file cannot be used; says which file and why."""


class UnknownRecipientError(KeyError):
    """No such recipient in the register: nothing may be exported to it."""

    def __str__(self) -> str:
        return str(self.args[0])


class Recipient(BaseModel):
    """One external recipient and what it may receive."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    description: str = Field(min_length=1)
    legal_basis: str = Field(min_length=1)
    fields: frozenset[str] = Field(min_length=1)
    sectors: frozenset[Sector] = Field(min_length=1)
    min_records: int = Field(ge=1)

    @field_serializer("fields", "sectors")
    def _sorted(self, values: frozenset[str]) -> list[str]:
        return sorted_strings(values)

    @model_validator(mode="after")
    def _known_fields(self) -> Self:
        _only(self.fields, EXTRACT_FIELDS, "fields")
        return self


def _only(found: frozenset[str], allowed: frozenset[str], what: str) -> None:
    """Refuses values outside the allowed ones, naming both."""
    unknown = found - allowed
    if unknown:
        raise ValueError(f"unknown {what}: {sorted(unknown)} (allowed: {sorted(allowed)})")


STATISTICS_DIMENSIONS = frozenset(
    {"region", "kind", "form_of_violence", "sector", "follow_up", "investigation_outcome"}
)
"""What the tables of a statistics recipient may be split by (radar/cbs_tables.py)."""


class StatisticsRecipient(BaseModel):
    """A recipient of aggregate statistics only: frequency tables after disclosure control
    (privacy/statistical_disclosure.py), never a record about a household or a person."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    description: str = Field(min_length=1)
    legal_basis: str = Field(min_length=1)
    privacy_officer_confirms: str = Field(min_length=1)
    dimensions: frozenset[str] = Field(min_length=1)
    threshold: int = Field(ge=MIN_THRESHOLD)

    @field_serializer("dimensions")
    def _sorted(self, values: frozenset[str]) -> list[str]:
        return sorted_strings(values)

    @field_validator("dimensions", mode="after")
    @classmethod
    def _known_dimensions(cls, values: frozenset[str]) -> frozenset[str]:
        _only(values, STATISTICS_DIMENSIONS, "dimensions")
        return values


class RecipientRegister(VersionedRegister):
    """A version of the recipient register."""

    recipients: dict[RecipientId, Recipient] = Field(min_length=1)
    statistics: dict[RecipientId, StatisticsRecipient] = Field(default_factory=dict)

    @classmethod
    def load(cls, path: Path = DEFAULT_RECIPIENTS) -> RecipientRegister:
        """Reads and validates a register file; RecipientRegisterError says what is wrong."""
        try:
            return load_toml(cls, path, "recipient register")
        except MalformedFileError as error:
            raise RecipientRegisterError(str(error)) from None

    def recipient(self, recipient_id: str) -> Recipient:
        """The recipient of that id; UnknownRecipientError names the known ones."""
        found = self.recipients.get(recipient_id)
        if found is None and recipient_id in self.statistics:
            raise UnknownRecipientError(
                f"{recipient_id!r} receives aggregate statistics only, never records "
                f"(radar export {recipient_id})"
            )
        if found is None:
            raise UnknownRecipientError(
                f"unknown recipient {recipient_id!r}; the register (version {self.version}) "
                f"knows {', '.join(sorted(self.recipients))}"
            )
        return found

    def logged_as(self, operator: str, recipient_id: str, legal_basis: str) -> dict[str, Any]:
        """What the access-log entry of every disclosure to a recipient starts with: who sent
        it to whom, on which legal basis, under which exact register."""
        return {
            "operator": operator,
            "recipient": recipient_id,
            "legal_basis": legal_basis,
            "register_version": self.version,
            "register_fingerprint": self.fingerprint(),
        }

    def statistics_recipient(self, recipient_id: str) -> StatisticsRecipient:
        """The statistics recipient of that id; UnknownRecipientError names the known ones."""
        found = self.statistics.get(recipient_id)
        if found is None:
            raise UnknownRecipientError(
                f"{recipient_id!r} is no recipient of statistics in the register (version "
                f"{self.version}); it knows {', '.join(sorted(self.statistics)) or 'none'}"
            )
        return found
