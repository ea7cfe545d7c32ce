"""Dutch addresses as household identifiers, normalised so one home has one pseudonym.

A household is identified by postcode (four digits, two letters), house number and optional
addition (huisletter/huisnummertoevoeging). '1234 ab', '1234AB' and '1234ab' are the same
postcode; '12 a', '12-A' and '12A' the same home.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_POSTCODE = re.compile(r"^\s*([1-9][0-9]{3})\s*([A-Za-z]{2})\s*$")
MAX_HOUSE_NUMBER = 99999
MAX_ADDITION_LENGTH = 6
_ADDITION = re.compile(rf"^[A-Z0-9]{{0,{MAX_ADDITION_LENGTH}}}$")


class InvalidAddressError(ValueError):
    """The address cannot identify a Dutch home; the message says which part and why."""

    def __init__(self, part: str, reason: str) -> None:
        super().__init__(f"{part}: {reason}")
        self.part = part
        self.reason = reason


@dataclass(frozen=True)
class HomeAddress:
    """A normalised Dutch address: the identifier of a household."""

    postcode: str
    house_number: int
    addition: str = ""

    @classmethod
    def normalised(cls, postcode: str, house_number: int, addition: str = "") -> HomeAddress:
        """Builds the canonical form, or raises InvalidAddressError naming the bad part."""
        match = _POSTCODE.match(postcode)
        if not match:
            raise InvalidAddressError("postcode", "must be four digits and two letters")
        if not 1 <= house_number <= MAX_HOUSE_NUMBER:
            raise InvalidAddressError("house_number", f"must be 1..{MAX_HOUSE_NUMBER}")
        clean_addition = re.sub(r"[\s\-]", "", addition).upper()
        if not _ADDITION.match(clean_addition):
            raise InvalidAddressError("addition", "at most six letters or digits")
        return cls(match.group(1) + match.group(2).upper(), house_number, clean_addition)

    def canonical(self) -> str:
        """The one text form that is pseudonymised."""
        return f"{self.postcode}|{self.house_number}|{self.addition}"

    @classmethod
    def from_canonical(cls, text: str) -> HomeAddress:
        """The address back from its canonical form (as the identity vault stores it)."""
        postcode, house_number, addition = text.split("|")
        return cls.normalised(postcode, int(house_number), addition)
