"""The purpose register: which purposes exist, on which legal basis, for which roles, and what
each may see (resources, sectors, fields, regions, look-back window)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, field_serializer, model_validator

from contracts.vocabulary import Sector
from privacy.actors import AnalystRole
from privacy.registers import VersionedRegister, load_toml, sorted_strings

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
        (MalformedFileError names the file and the field)."""
        return load_toml(cls, path, "purpose register")
