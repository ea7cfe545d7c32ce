"""The shape of pseudonyms as they travel in contracts.

A pseudonym names its domain and the key version that made it, then 128 bits of keyed hash:
``hh.k1.<32 hex>`` for a household, ``p.k1.<32 hex>`` for a person. The shape alone keeps a BSN,
name or address from ever fitting into a pseudonym field. An external recipient of an extract gets
pseudonyms of its own domain, ``x.<recipient id>.k1.<32 hex>``, made from the internal ones; the
recipient id has no dots, so the shape stays unambiguous.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, StringConstraints, model_validator

HOUSEHOLD_PREFIX = "hh"
PERSON_PREFIX = "p"
RECIPIENT_PREFIX = "x"
LOCAL_PERSON_PREFIX = "pl"
"""signal.v2: a person known to one publisher by its own reference, not (yet) by a BSN."""
PLACEMENT_PREFIX = "hs"
"""signal.v2: a household without a fixed address, by a shelter's placement reference."""
KEY_ID_PATTERN = r"k[0-9]{1,6}"
RECIPIENT_ID_PATTERN = r"[a-z][a-z0-9-]{1,39}"

HouseholdPseudonym = Annotated[
    str, StringConstraints(pattern=rf"^{HOUSEHOLD_PREFIX}\.{KEY_ID_PATTERN}\.[0-9a-f]{{32}}$")
]
PersonPseudonym = Annotated[
    str, StringConstraints(pattern=rf"^{PERSON_PREFIX}\.{KEY_ID_PATTERN}\.[0-9a-f]{{32}}$")
]
KeyId = Annotated[str, StringConstraints(pattern=rf"^{KEY_ID_PATTERN}$")]
RecipientId = Annotated[str, StringConstraints(pattern=rf"^{RECIPIENT_ID_PATTERN}$")]
RecipientPseudonym = Annotated[
    str,
    StringConstraints(
        pattern=rf"^{RECIPIENT_PREFIX}\.{RECIPIENT_ID_PATTERN}\.{KEY_ID_PATTERN}\.[0-9a-f]{{32}}$"
    ),
]

AnyPseudonym = Annotated[
    str,
    StringConstraints(
        pattern=rf"^({HOUSEHOLD_PREFIX}|{PERSON_PREFIX})\.{KEY_ID_PATTERN}\.[0-9a-f]{{32}}$"
    ),
]


def key_id_of(pseudonym: str) -> str:
    """The key version a pseudonym was made with (its middle part)."""
    return pseudonym.split(".")[1]


class PseudonymLink(BaseModel):
    """Re-keying: a pseudonym made with a newer key version, and the pseudonym the radar first
    knew the same household or person by. The radar keeps using the first one, so a key
    rotation never splits a household or a person in two."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["household", "person"]
    pseudonym: AnyPseudonym
    known_as: AnyPseudonym

    @model_validator(mode="after")
    def _same_domain_other_key(self) -> Self:
        prefix = HOUSEHOLD_PREFIX if self.kind == "household" else PERSON_PREFIX
        if not (self.pseudonym.startswith(f"{prefix}.") and self.known_as.startswith(f"{prefix}.")):
            raise ValueError(f"a {self.kind} link joins two {self.kind} pseudonyms")
        if key_id_of(self.pseudonym) == key_id_of(self.known_as):
            raise ValueError("a link joins pseudonyms of two different key versions")
        return self


# Any pseudonym in running text: a household's or person's of any key version (signal.v2's
# local persons and placements too), a recipient's.
# The hex part is matched from 8 digits on, so a truncated pseudonym is caught as well.
_PSEUDONYM_IN_TEXT = re.compile(
    rf"(?<![0-9A-Za-z])(?P<domain>{HOUSEHOLD_PREFIX}|{PERSON_PREFIX}|{LOCAL_PERSON_PREFIX}"
    rf"|{PLACEMENT_PREFIX}|{RECIPIENT_PREFIX}\.{RECIPIENT_ID_PATTERN})"
    rf"\.(?P<key>{KEY_ID_PATTERN})\.[0-9a-fA-F]{{8,}}"
)
PSEUDONYM_MASK = "***"


def mask_pseudonyms(text: str) -> str:
    """The text with the keyed part of every pseudonym blanked (``hh.k1.***``): the domain and
    key version stay readable, the household or person no longer can be told apart."""
    return _PSEUDONYM_IN_TEXT.sub(rf"\g<domain>.\g<key>.{PSEUDONYM_MASK}", text)
