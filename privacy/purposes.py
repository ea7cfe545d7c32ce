"""The purpose register: which purposes exist, on which legal basis, for which roles, and what
each may see (resources, sectors, fields, regions, look-back window), and what each learns about
the signals it may not see (`withheld`, privacy/withholding.py applies it). v2's facts (forms
of violence, a person's roles, age, unborn child, local pseudonym) are fields like any other:
a purpose sees one only when the register names it (privacy/disclosure.py enforces it), and
values a purpose may not see (a form, a role) are named apart (`hidden_forms`, `hidden_roles`)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_serializer, model_validator

from contracts.vocabulary_v2 import FormOfViolence, PersonRoleV2, SectorV2
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
        "forms_of_violence",  # v2
    }
)
"""The fields of a timeline signal that a purpose may disclose."""

PERSON_FIELDS = frozenset({"roles", "age", "unborn_child_of", "local_pseudonym"})
"""v2's fields of each person a signal names: disclosed only with `persons` (a role or an age of
nobody in particular is no use) and only when the purpose names them too. A person's pseudonym
and v1 role go with `persons` itself, as in v1."""


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
    EFFECT_MONITOR = "effect_monitor"  # the programme's figures per region: counts, no household
    REGIE = "regie"  # who leads the help for a household, for an organisation involved with it
    # issue 17: the feeds back to the parties (services/feeds/), each its receiver's own items
    SIGNAL_FEEDBACK = "signal_feedback"  # terugmelding: what became of a publisher's signals
    HANDLE_WITH_CARE = "handle_with_care"  # notices to schools and leerplicht offices
    REFERRALS = "referrals"  # suspected offences referred to the OM/police, and their decisions
    WEBHOOKS = "webhooks"  # an organisation's own webhook registrations


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
    sectors: frozenset[SectorV2]
    fields: frozenset[str]
    # Values of a disclosed field the purpose may still not see: a form of violence that is
    # health data (FGM, AVG art. 9), a role that is criminal-law data (AVG art. 10). Empty when
    # absent (as in every version before v2's fields existed).
    hidden_forms: frozenset[FormOfViolence] = frozenset()
    hidden_roles: frozenset[PersonRoleV2] = frozenset()
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

    @field_serializer(
        "roles",
        "resources",
        "sectors",
        "fields",
        "hidden_forms",
        "hidden_roles",
    )
    def _sorted(self, values: frozenset[str]) -> list[str]:
        return sorted_strings(values)

    @model_validator(mode="after")
    def _known_fields(self) -> Self:
        unknown = self.fields - TIMELINE_FIELDS - PERSON_FIELDS
        if unknown:
            raise ValueError(f"unknown fields: {sorted(unknown)}")
        if self.fields & PERSON_FIELDS and "persons" not in self.fields:
            raise ValueError("a person's roles, age or references need the field persons")
        if Resource.HOUSEHOLD_TIMELINE in self.resources and not (self.fields and self.sectors):
            raise ValueError("a purpose that reads timelines must name its sectors and fields")
        return self

    def sees_form(self, form: FormOfViolence) -> bool:
        """Whether the purpose may see that a signal names this form of violence."""
        return "forms_of_violence" in self.fields and form not in self.hidden_forms

    def sees_role(self, role: PersonRoleV2) -> bool:
        """Whether the purpose may see that a person has this (v2) role."""
        return "roles" in self.fields and role not in self.hidden_roles


DataCategory = Literal["ordinary", "health", "criminal_law"]
"""What a sector's signals are in law: health data (AVG art. 9) or criminal-law data (AVG art.
10) need a basis of their own beside the purpose's."""


class SectorProvision(BaseModel):
    """On which legal basis a sector provides signals to the radar, and what kind of data."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    legal_basis: str = Field(min_length=1)
    data: DataCategory


class PurposeRegister(VersionedRegister):
    """A version of the purpose register, validated as a whole when loaded."""

    purposes: dict[str, Purpose] = Field(min_length=1)
    # Every sector's basis for providing signals (required in the file from version 5 on:
    # PurposeRegister.load); absent in versions adopted before, read back from the access log.
    sectors: dict[SectorV2, SectorProvision] = Field(default_factory=dict)

    @field_serializer("sectors")
    def _sorted_sectors(self, values: dict[SectorV2, SectorProvision]) -> dict[str, object]:
        return {str(k): values[k].model_dump(mode="json") for k in sorted(values)}

    @classmethod
    def load(cls, path: Path = DEFAULT_REGISTER) -> PurposeRegister:
        """Reads and validates a register file; a malformed file stops the service at start
        (MalformedFileError names the file and the field). A file must state every purpose's
        withheld rule, its reason and what the privacy officer confirms: a rule nobody wrote
        down is one nobody answers for; and every sector's basis for providing signals."""
        register = load_toml(cls, path, "purpose register")
        missing = [
            f"purposes.{name}.{field}: Field required"
            for name, purpose in register.purposes.items()
            for field in WITHHELD_FIELDS
            if getattr(purpose, field) is None
        ]
        missing += [
            f"sectors.{sector}: Field required"
            for sector in SectorV2
            if sector not in register.sectors
        ]
        if missing:
            raise MalformedFileError(f"purpose register {path}: {'; '.join(missing)}")
        return register


WITHHELD_FIELDS = ("withheld", "withheld_reason", "privacy_officer_confirms")
"""What every purpose of a register file must state about the signals it may not see."""
