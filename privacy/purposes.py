"""The purpose register: which purposes exist, on which legal basis, for which roles, and what
each may see (resources, sectors, fields, regions, look-back window), and what each learns about
the signals it may not see (`withheld`, privacy/withholding.py applies it)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, field_serializer, model_validator

from contracts.vocabulary import Sector
from privacy.actors import AnalystRole
from privacy.registers import MalformedFileError, VersionedRegister, load_toml, sorted_strings

DEFAULT_REGISTER = Path(__file__).with_name("purposes.toml")

TIMELINE_FIELDS = frozenset(
    {
        "signal_id",
        "organisation",
        "sector",
        "signal_type",
        "severity",
        "occurred_at",
        "reported_at",
        "region",
        "persons",
    }
)
"""The fields of a timeline signal that a purpose may disclose."""


class Resource(StrEnum):
    """What a query reads."""

    HOUSEHOLD_TIMELINE = "household_timeline"
    PERSON_TIMELINE = "person_timeline"  # one person's signals across households and regions
    IDENTITY = "identity"  # re-identification through the identity vault
    ACCESS_LOG = "access_log"
    BREAK_GLASS_REVIEWS = "break_glass_reviews"
    ACCESS_NOTICES = "access_notices"
    WORKLIST = "worklist"  # a region's open alerts, ordered by urgency
    AUDIT_REPLAY = "audit_replay"  # point-in-time replay, integrity and compliance reports
    RESTRICTIONS = "restrictions"  # placing and lifting restrictions of processing (AVG art. 18)


class WithheldRule(StrEnum):
    """What a purpose learns about the signals it may not see (another sector, or before its
    look-back window): one closed vocabulary, so that every view can say the same."""

    NOTHING = "nothing"  # every view is as if those signals did not exist, the score too
    COUNT = "count"  # how many there are, never their points, sector, type or date
    WEIGHT = "weight"  # how many, and their weight in the score as one line; no sector/type/date


class RegionScope(StrEnum):
    """Whether a purpose is bound to the actor's own Veilig Thuis region."""

    OWN = "own"
    NATIONAL = "national"


class Purpose(BaseModel):
    """One purpose a query may be made for."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    description: str = Field(min_length=1)
    legal_basis: str = Field(min_length=1)
    roles: frozenset[AnalystRole] = Field(min_length=1)
    resources: frozenset[Resource] = Field(min_length=1)
    sectors: frozenset[Sector]
    fields: frozenset[str]
    region_scope: RegionScope
    lookback_days: int = Field(ge=1)
    # May see a subject whose processing is restricted (AVG art. 18 lid 2: legal claims, the
    # subject's own request); every other purpose is refused for such a subject.
    restricted_access: bool = False
    # What the purpose learns about the signals it may not see, why, and what the privacy
    # officer confirmed. Required in the register file (PurposeRegister.load); absent only in a
    # version adopted before they existed (read back from the access log): then nothing.
    withheld: WithheldRule | None = None
    withheld_reason: str | None = Field(default=None, min_length=1)
    privacy_officer_confirms: str | None = Field(default=None, min_length=1)

    @property
    def withheld_rule(self) -> WithheldRule:
        """The rule in force; a register from before the rule existed reveals nothing."""
        return self.withheld or WithheldRule.NOTHING

    @field_serializer("roles", "resources", "sectors", "fields")
    def _sorted(self, values: frozenset[str]) -> list[str]:
        return sorted_strings(values)

    @model_validator(mode="after")
    def _known_fields(self) -> Self:
        unknown = self.fields - TIMELINE_FIELDS
        if unknown:
            raise ValueError(f"unknown fields: {sorted(unknown)}")
        if Resource.HOUSEHOLD_TIMELINE in self.resources and not (self.fields and self.sectors):
            raise ValueError("a purpose that reads timelines must name its sectors and fields")
        return self


class PurposeRegister(VersionedRegister):
    """A version of the purpose register, validated as a whole when loaded."""

    purposes: dict[str, Purpose] = Field(min_length=1)

    @classmethod
    def load(cls, path: Path = DEFAULT_REGISTER) -> PurposeRegister:
        """Reads and validates a register file; a malformed file stops the service at start
        (MalformedFileError names the file and the field). A file must state every purpose's
        withheld rule, its reason and what the privacy officer confirms: a rule nobody wrote
        down is one nobody answers for."""
        register = load_toml(cls, path, "purpose register")
        missing = [
            f"purposes.{name}.{field}: Field required"
            for name, purpose in register.purposes.items()
            for field in WITHHELD_FIELDS
            if getattr(purpose, field) is None
        ]
        if missing:
            raise MalformedFileError(f"purpose register {path}: {'; '.join(missing)}")
        return register


WITHHELD_FIELDS = ("withheld", "withheld_reason", "privacy_officer_confirms")
"""What every purpose of a register file must state about the signals it may not see."""
