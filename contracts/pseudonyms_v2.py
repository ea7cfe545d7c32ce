"""The pseudonym shapes signal.v2 adds: persons without a BSN and households without an address.

Each kind of identifier has its own domain and prefix, so pseudonyms of different kinds can never
coincide and a reader tells them apart by shape alone:

- ``p.k1.<32 hex>``: a person by BSN (as in v1);
- ``pl.k1.<32 hex>``: a person by a publisher-local reference (a client or file number), keyed
  over the publishing organisation and the reference, so two organisations' "client 17" stay
  two persons; an unborn child is such a person, named with the person it is the child of;
- ``hh.k1.<32 hex>``: a household by its normalised home address (as in v1);
- ``hs.k1.<32 hex>``: a household without a fixed address, by a shelter's placement reference,
  keyed over the shelter and the reference: never by the shelter's (secret) address, which
  would make every family in one shelter one household.

How they are joined when a BSN or address becomes known later is in docs/contracts.md
("Linking"); the shapes alone never join anything.
"""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, StringConstraints, model_validator

from contracts.pseudonyms import (
    HOUSEHOLD_PREFIX,
    KEY_ID_PATTERN,
    LOCAL_PERSON_PREFIX,
    PERSON_PREFIX,
    PLACEMENT_PREFIX,
    key_id_of,
)

_DIGEST = r"[0-9a-f]{32}"


def _shape(*prefixes: str) -> StringConstraints:
    return StringConstraints(pattern=rf"^({'|'.join(prefixes)})\.{KEY_ID_PATTERN}\.{_DIGEST}$")


LocalPersonPseudonym = Annotated[str, _shape(LOCAL_PERSON_PREFIX)]
PersonPseudonymV2 = Annotated[str, _shape(PERSON_PREFIX, LOCAL_PERSON_PREFIX)]
"""A person by BSN (``p.``) or by a publisher-local reference (``pl.``)."""
HouseholdPseudonymV2 = Annotated[str, _shape(HOUSEHOLD_PREFIX, PLACEMENT_PREFIX)]
"""A household by home address (``hh.``) or by a shelter's placement (``hs.``)."""
AnyPseudonymV2 = Annotated[
    str, _shape(HOUSEHOLD_PREFIX, PLACEMENT_PREFIX, PERSON_PREFIX, LOCAL_PERSON_PREFIX)
]


def domain_of(pseudonym: str) -> str:
    """The domain a pseudonym belongs to (its first part: hh, hs, p or pl)."""
    return pseudonym.split(".")[0]


def is_household(pseudonym: str) -> bool:
    """Whether the pseudonym names a household (by address or by placement)."""
    return domain_of(pseudonym) in (HOUSEHOLD_PREFIX, PLACEMENT_PREFIX)


_SUBJECT_KINDS: dict[str, Literal["household", "person"]] = {
    HOUSEHOLD_PREFIX: "household",
    PLACEMENT_PREFIX: "household",
    PERSON_PREFIX: "person",
    LOCAL_PERSON_PREFIX: "person",
}


def subject_kind_of(pseudonym: str) -> Literal["household", "person"] | None:
    """Whether the pseudonym names a data subject's household or person, of any v2 shape (a
    placement is a household, a local reference a person); None for anything else. What
    restrictions and the access log's subject lookups file a subject under: a family in a
    shelter has the same rights as one at an address."""
    return _SUBJECT_KINDS.get(domain_of(pseudonym))


class PseudonymLinkV2(BaseModel):
    """Re-keying, as v1's PseudonymLink, for every v2 shape: a pseudonym made with a newer key
    version and the pseudonym of the same domain the radar first knew it by. A link never joins
    two domains (a placement to an address, a local reference to a BSN): that is identification,
    an explicit statement of its own (see PersonRefV2.local_pseudonym)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["household", "person"]
    pseudonym: AnyPseudonymV2
    known_as: AnyPseudonymV2

    @model_validator(mode="after")
    def _same_domain_other_key(self) -> Self:
        if domain_of(self.pseudonym) != domain_of(self.known_as):
            raise ValueError("a link joins two pseudonyms of one domain")
        if is_household(self.pseudonym) != (self.kind == "household"):
            raise ValueError(f"a {self.kind} link joins two {self.kind} pseudonyms")
        if key_id_of(self.pseudonym) == key_id_of(self.known_as):
            raise ValueError("a link joins pseudonyms of two different key versions")
        return self
