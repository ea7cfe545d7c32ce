"""Recognises text that looks like a plain identifier, so it can be refused or masked.

Used for free text that enters the radar (analysts' notes, justifications, any string a
publisher sends outside the identifier fields) and as the last line of defence in logging. It
finds a BSN (nine digits passing the elfproef), a postcode with a house number, a date of birth
(a real calendar date from 1900 up to this year, written the Dutch or ISO way or with a month
name), an e-mail address and a Dutch phone number (06, area codes, +31 and 0031).

To keep false positives low, a pattern must stand apart from other digits: a date followed by a
time of day is a timestamp (2026-11-20T21:30:00), not a birth date; a date inside a chain of
numbers (1.12-03-2019, 123-12-03-2019) is not matched, and neither is a phone number glued to
letters, digits or hyphens (UUIDs, hex pseudonyms). A date glued to letters is matched: a case
reference such as "K-12-03-2019" or "geb.12-03-2015" still carries the birth date (UUID groups
have four or more characters, so no UUID holds a d-m-yyyy or yyyy-m-d run). A BSN is found even
between letters, as before: it is the identifier that matters most.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from contracts.bsn import passes_elfproef

MASK = "[masked]"
EARLIEST_BIRTH_YEAR = 1900
_MONTHS = {
    "januari": 1, "jan": 1, "january": 1,
    "februari": 2, "feb": 2, "february": 2,
    "maart": 3, "mrt": 3, "march": 3, "mar": 3,
    "april": 4, "apr": 4,
    "mei": 5, "may": 5,
    "juni": 6, "jun": 6, "june": 6,
    "juli": 7, "jul": 7, "july": 7,
    "augustus": 8, "aug": 8, "august": 8,
    "september": 9, "sept": 9, "sep": 9,
    "oktober": 10, "okt": 10, "october": 10, "oct": 10,
    "november": 11, "nov": 11,
    "december": 12, "dec": 12,
}  # fmt: skip
# a date may touch letters and punctuation, not digits (or digits through a separator)
_ALONE_BEFORE = r"(?<![\d+_])(?<!\d[\-/.])"
_ALONE_AFTER = r"(?![\d_])(?![\-/.]\d)"
_NOT_A_TIME = r"(?![T ]\d{1,2}:\d{2})"


@dataclass(frozen=True)
class _Detector:
    """One kind of identifier: a pattern, and a check on what it matched."""

    kind: str
    pattern: re.Pattern[str]
    accept: Callable[[re.Match[str]], bool] = lambda _match: True


def _birth_date(day: str, month: str | int, year: str) -> bool:
    """Whether the parts make a real date someone alive could have been born on."""
    try:
        born = date(int(year), int(month), int(day))
    except ValueError:
        return False
    return EARLIEST_BIRTH_YEAR <= born.year <= datetime.now(UTC).year


_DETECTORS = (
    _Detector(
        "an e-mail address",
        re.compile(r"[\w.%+\-]+@[\w\-]+(?:\.[\w\-]+)*\.[A-Za-z]{2,}(?![\w\-])"),
    ),
    _Detector(
        "a date of birth",
        re.compile(
            rf"{_ALONE_BEFORE}(?P<d>\d{{1,2}})(?P<s>[\-/.])(?P<m>\d{{1,2}})(?P=s)(?P<y>\d{{4}})"
            rf"{_ALONE_AFTER}{_NOT_A_TIME}"
        ),
        lambda m: _birth_date(m["d"], m["m"], m["y"]),
    ),
    _Detector(
        "a date of birth",
        re.compile(
            rf"{_ALONE_BEFORE}(?P<y>\d{{4}})(?P<s>[\-/])(?P<m>\d{{1,2}})(?P=s)(?P<d>\d{{1,2}})"
            rf"{_ALONE_AFTER}{_NOT_A_TIME}"
        ),
        lambda m: _birth_date(m["d"], m["m"], m["y"]),
    ),
    _Detector(
        "a date of birth",
        re.compile(
            rf"{_ALONE_BEFORE}(?P<d>\d{{1,2}})\s+(?P<month>{'|'.join(_MONTHS)})\.?\s+(?P<y>\d{{4}})"
            rf"{_ALONE_AFTER}",
            re.IGNORECASE,
        ),
        lambda m: _birth_date(m["d"], _MONTHS[m["month"].lower()], m["y"]),
    ),
    _Detector(
        "a phone number",
        # the nine digits of a Dutch number after 0, +31 or 0031 (optionally "(0)"), with
        # single spaces or hyphens anywhere between them: 06-12345678, +31 6 1234 5678
        re.compile(
            r"(?<![\w+\-])(?:0|\+31|0031)[ \-]?(?:\(0\)[ \-]?)?\(?[1-9](?:\)?[ \-]?\d){8}(?![\w\-])"
        ),
    ),
    _Detector(
        "a BSN",
        re.compile(r"(?<![0-9])[0-9]{9}(?![0-9])"),
        lambda m: passes_elfproef(m.group(0)),
    ),
    _Detector(
        "a postcode with house number",
        re.compile(r"(?<![\w\-])[1-9][0-9]{3}\s?[A-Za-z]{2}\W{0,3}[0-9]{1,5}[A-Za-z]?(?![\w\-])"),
    ),
)


# Every identifier the detectors find holds a digit (BSN, postcode, phone, date) or an @.
_MAY_HOLD_AN_IDENTIFIER = re.compile(r"[\d@]")


def may_hold_identifier(text: str) -> bool:
    """False for text no detector can find anything in (no digit, no @): the quick test a
    walk over many strings makes before asking `identifier_kinds`."""
    return _MAY_HOLD_AN_IDENTIFIER.search(text) is not None


def never_an_identifier(text: str) -> bool:
    """True when no detector's pattern matches anywhere in the text, so that no later day
    (a birth year's upper bound is this year) can make it look like an identifier: such a
    text can be known clean once, e.g. a vocabulary value."""
    return not any(detector.pattern.search(text) for detector in _DETECTORS)


def identifier_kinds(text: str) -> list[str]:
    """The kinds of identifier the text seems to hold ('a BSN', 'a phone number', ...), in a
    fixed order, without repeats; empty when it holds none."""
    if _MAY_HOLD_AN_IDENTIFIER.search(text) is None:  # most strings: enum values, names
        return []
    kinds: list[str] = []
    for detector in _DETECTORS:
        if detector.kind not in kinds and any(
            detector.accept(match) for match in detector.pattern.finditer(text)
        ):
            kinds.append(detector.kind)
    return kinds


def mask_identifiers(text: str) -> str:
    """The text with everything that looks like an identifier replaced by a marker.

    Repeated until nothing changes (a replacement can expose a neighbour), so masking masked
    text changes nothing; it ends because every match holds a digit or an @ and the marker none.
    """
    while True:
        masked = text
        for detector in _DETECTORS:
            masked = detector.pattern.sub(_masker(detector), masked)
        if masked == text:
            return masked
        text = masked


def contains_identifier(text: str) -> bool:
    return bool(identifier_kinds(text))


def _masker(detector: _Detector) -> Callable[[re.Match[str]], str]:
    return lambda match: MASK if detector.accept(match) else match.group(0)
