"""The register of external recipients of pseudonymised extracts: who may receive which fields
of which sectors' signals, on which legal basis (see recipients.toml)."""

from __future__ import annotations

from pathlib import Path
from typing import Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    field_serializer,
    model_validator,
)

from contracts.pseudonyms import RecipientId
from contracts.vocabulary import Sector
from privacy.registers import MalformedFileError, VersionedRegister, load_toml, sorted_strings

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
        unknown = self.fields - EXTRACT_FIELDS
        if unknown:
            raise ValueError(
                f"unknown fields: {sorted(unknown)} (allowed: {sorted(EXTRACT_FIELDS)})"
            )
        return self


class RecipientRegister(VersionedRegister):
    """A version of the recipient register."""

    recipients: dict[RecipientId, Recipient] = Field(min_length=1)

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
        if found is None:
            raise UnknownRecipientError(
                f"unknown recipient {recipient_id!r}; the register (version {self.version}) "
                f"knows {', '.join(sorted(self.recipients))}"
            )
        return found
