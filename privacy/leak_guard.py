"""Recognises text that looks like a plain identifier, so it can be refused or masked.

Used for free text that enters the radar (justifications) and as the last line of defence in
logging. It looks for a BSN (nine digits passing the elfproef) and a postcode with a house
number; the pseudonymisation issue extends it (dates of birth, e-mail, phone numbers).
"""

from __future__ import annotations

import re

from privacy.bsn import passes_elfproef

_NINE_DIGITS = re.compile(r"(?<![0-9])[0-9]{9}(?![0-9])")
_POSTCODE_WITH_NUMBER = re.compile(
    r"\b[1-9][0-9]{3}\s?[A-Za-z]{2}\W{0,3}[0-9]{1,5}[A-Za-z]?(?![0-9])"
)
MASK = "[masked]"


def mask_identifiers(text: str) -> str:
    """The text with BSN-like numbers and postcode+number pairs replaced by a marker."""
    text = _NINE_DIGITS.sub(lambda m: MASK if passes_elfproef(m.group(0)) else m.group(0), text)
    return _POSTCODE_WITH_NUMBER.sub(MASK, text)


def contains_identifier(text: str) -> bool:
    return mask_identifiers(text) != text
