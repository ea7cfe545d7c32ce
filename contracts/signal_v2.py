"""Version 2 of the signal event (`radar.signal.v2`): every party the programme names, the forms
of violence, the roles and ages of persons, persons without a BSN and households without a
fixed address.

Everything v1 says, v2 says the same way (contracts.upcast_v1_v2 turns any v1 event into a v2
one); what v2 adds is optional, so a v1 signal is a valid v2 signal with nothing more known. It
travels on the same topic as v1, told apart by the Kafka `schema` header, so one household's
signals keep one order whichever version each publisher sends. Only pseudonyms travel: an age
in whole years is the most v2 says about when someone was born (minimisation).
"""

from __future__ import annotations

from typing import Literal, Self
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from contracts.pseudonyms import LOCAL_PERSON_PREFIX, PERSON_PREFIX, KeyId, key_id_of
from contracts.pseudonyms_v2 import (
    HouseholdPseudonymV2,
    LocalPersonPseudonym,
    PersonPseudonymV2,
    PseudonymLinkV2,
    domain_of,
)
from contracts.regions import VtRegion
from contracts.signal_types_v2 import REPORTED_TYPES, SignalTypeV2, sector_may_publish_v2
from contracts.signal_v1 import CLOCK_SKEW_ALLOWED, MAX_PERSONS_PER_SIGNAL, OrganisationId
from contracts.vocabulary import Severity
from contracts.vocabulary_v2 import (
    FormOfViolence,
    PersonRoleV2,
    ProsecutionOutcome,
    Reporter,
    SectorV2,
)

SIGNAL_SCHEMA_V2 = "radar.signal.v2"
"""The Kafka `schema` header of a v2 signal record (a v1 signal's is radar.signal.v1)."""
MAX_AGE = 125
"""Above any age a living person has reached (122): a larger number is a typing error."""


class PersonRefV2(BaseModel):
    """A person the signal concerns: a pseudonym, one or more roles, and an age if known."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    pseudonym: PersonPseudonymV2 = Field(
        description="p.<key>.<hex> for a person by BSN; pl.<key>.<hex> for a person known to "
        "the publisher only by its own reference (and for a child not yet born)."
    )
    roles: tuple[PersonRoleV2, ...] = Field(
        min_length=1,
        max_length=len(PersonRoleV2),
        description="Who the person is in the household and what part they had in what "
        "happened (e.g. parent_or_carer and suspected_perpetrator); each role once.",
    )
    age: int | None = Field(
        default=None,
        ge=0,
        le=MAX_AGE,
        description="Age in whole years on occurred_at; never a date of birth. None when not "
        "known, and for a child not yet born.",
    )
    unborn_child_of: PersonPseudonymV2 | None = Field(
        default=None,
        description="For a child not yet born: the pseudonym of the expectant parent, who is "
        "one of this signal's persons. The child itself is a pl. pseudonym with role child.",
    )
    local_pseudonym: LocalPersonPseudonym | None = Field(
        default=None,
        description="Identification: the pl. pseudonym the publisher knew this person by "
        "before the BSN became known; pseudonym is then the BSN's (p.). See docs/contracts.md.",
    )

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if len(set(self.roles)) != len(self.roles):
            raise ValueError("a role is named twice")
        if self.unborn_child_of is not None:
            if domain_of(self.pseudonym) != LOCAL_PERSON_PREFIX:
                raise ValueError("a child not yet born has no BSN: a pl. pseudonym expected")
            if PersonRoleV2.CHILD not in self.roles or self.age is not None:
                raise ValueError("a child not yet born has the role child and no age")
            if self.unborn_child_of == self.pseudonym:
                raise ValueError("a child not yet born is the child of another person")
        if self.local_pseudonym is not None and domain_of(self.pseudonym) != PERSON_PREFIX:
            raise ValueError("local_pseudonym identifies a person: pseudonym must be by BSN (p.)")
        return self


class ProsecutionV2(BaseModel):
    """What the OM's decision signal (`prosecution_decision`) says of the decision: how it was
    decided and, when it decides a referral by Veilig Thuis, which (the referral's id, as the
    OM's referrals feed gave it)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    outcome: ProsecutionOutcome
    referral_id: UUID | None = Field(
        default=None, description="The Veilig Thuis referral this decides; None: none said."
    )


class SignalEventV2(BaseModel):
    """A pseudonymised signal about one household, as published on the signals topic (v2)."""

    model_config = ConfigDict(extra="forbid", frozen=True, title="SignalEventV2")

    schema_version: Literal[2] = 2
    event_id: UUID = Field(description="Publisher-chosen UUID; the idempotency key.")
    organisation: OrganisationId = Field(description="Publishing organisation's identifier.")
    sector: SectorV2
    signal_type: SignalTypeV2
    severity: Severity
    forms_of_violence: tuple[FormOfViolence, ...] = Field(
        default=(),
        max_length=len(FormOfViolence),
        description="The forms of violence seen or suspected, each once; empty when the "
        "publisher did not say (as for every signal first published as v1).",
    )
    reported_by: Reporter | None = Field(
        default=None,
        description="Only for vt_report and vt_advice_request: who reported to Veilig Thuis "
        "(de melder), a sector or a non-professional reporter; None when not said.",
    )
    prosecution: ProsecutionV2 | None = Field(
        default=None,
        description="Only for prosecution_decision: the OM's outcome and the referral it "
        "decides; None when not said.",
    )
    occurred_at: AwareDatetime = Field(description="When what is signalled happened.")
    reported_at: AwareDatetime = Field(description="When the publisher recorded it.")
    received_at: AwareDatetime = Field(description="When the radar's ingest service accepted it.")
    region: VtRegion = Field(description="The Veilig Thuis region the publisher reports to.")
    household: HouseholdPseudonymV2 = Field(
        description="hh.<key>.<hex> for a household by home address; hs.<key>.<hex> for one "
        "without a fixed address, by a shelter's placement."
    )
    persons: tuple[PersonRefV2, ...] = Field(default=(), max_length=MAX_PERSONS_PER_SIGNAL)
    pseudonym_key_id: KeyId = Field(description="Version of the key that made the pseudonyms.")
    known_as: tuple[PseudonymLinkV2, ...] = Field(
        default=(),
        max_length=2 * MAX_PERSONS_PER_SIGNAL + 1,
        description="Re-keying: for each pseudonym of this signal made after a key rotation, "
        "the pseudonym of the same domain the radar first knew the household or person by.",
    )

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if not sector_may_publish_v2(self.sector, self.signal_type):
            raise ValueError(f"sector {self.sector} may not publish {self.signal_type}")
        if self.reported_by is not None and self.signal_type not in REPORTED_TYPES:
            raise ValueError(f"reported_by: only {' and '.join(sorted(REPORTED_TYPES))} say it")
        if self.prosecution is not None and self.signal_type != SignalTypeV2.PROSECUTION_DECISION:
            raise ValueError("prosecution: only prosecution_decision says it")
        if self.occurred_at > self.reported_at + CLOCK_SKEW_ALLOWED:
            raise ValueError("occurred_at lies after reported_at")
        if self.reported_at > self.received_at + CLOCK_SKEW_ALLOWED:
            raise ValueError("reported_at lies after received_at")
        if len(set(self.forms_of_violence)) != len(self.forms_of_violence):
            raise ValueError("a form of violence is named twice")
        persons = {p.pseudonym for p in self.persons}
        unborn = {p.pseudonym for p in self.persons if p.unborn_child_of is not None}
        if any(p.unborn_child_of not in (None, *persons) for p in self.persons):
            raise ValueError("unborn_child_of names a person the signal does not carry")
        if any(p.unborn_child_of in unborn for p in self.persons):
            raise ValueError("the expectant parent of a child not yet born is born")
        if any(p.local_pseudonym in persons for p in self.persons):
            raise ValueError("an identified person's local_pseudonym is not a person beside it")
        named = self.pseudonyms()
        if any(link.pseudonym not in named for link in self.known_as):
            raise ValueError("known_as links a pseudonym the signal does not carry")
        if len({link.pseudonym for link in self.known_as}) != len(self.known_as):
            raise ValueError("known_as links a pseudonym twice")
        return self

    def pseudonyms(self) -> set[str]:
        """Every pseudonym the signal carries: household, persons, their local pseudonyms."""
        locals_ = {p.local_pseudonym for p in self.persons if p.local_pseudonym is not None}
        return {self.household, *(p.pseudonym for p in self.persons), *locals_}

    def first_known_household(self) -> str:
        """The household's pseudonym as the radar first knew it: the Kafka key (as in v1)."""
        return next(
            (link.known_as for link in self.known_as if link.pseudonym == self.household),
            self.household,
        )

    def canonical(self) -> SignalEventV2:
        """The signal under the pseudonyms the radar first knew each household and person by
        (as v1's canonical: what the radar records after a key rotation)."""
        if not self.known_as:
            return self
        first = {link.pseudonym: link.known_as for link in self.known_as}

        def known(pseudonym: str | None) -> str | None:
            return None if pseudonym is None else first.get(pseudonym, pseudonym)

        household = self.first_known_household()
        persons = tuple(
            person.model_copy(
                update={
                    "pseudonym": known(person.pseudonym),
                    "unborn_child_of": known(person.unborn_child_of),
                    "local_pseudonym": known(person.local_pseudonym),
                }
            )
            for person in self.persons
        )
        return self.model_copy(
            update={
                "household": household,
                "persons": persons,
                "pseudonym_key_id": key_id_of(household),
                "known_as": (),
            }
        )
