"""What an external recipient receives of the radar's signals: pure, so that every rule of an
extract is testable without a database.

A record carries only the recipient's fields; its pseudonyms are the recipient's own; the month
stands in for the date. Records are ordered by their own content, never by signal id or time, so
two recipients' extracts of the same signals cannot be joined on row position either.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import orjson

from privacy.pseudonyms import RecipientPseudonyms
from privacy.recipients import EXTRACT_FIELDS, Recipient
from radar.safety import NETHERLANDS
from radar.timeline import TimelineEntry

FieldValue = Callable[[TimelineEntry, RecipientPseudonyms], Any]


def occurred_month(entry: TimelineEntry) -> str:
    """YYYY-MM of the day it happened in the Netherlands: the exact date would single out a
    signal that the recipient could match with other sources."""
    return entry.occurred_at.astimezone(NETHERLANDS).strftime("%Y-%m")


def _persons(entry: TimelineEntry, pseudonyms: RecipientPseudonyms) -> list[dict[str, str]]:
    persons = [{"pseudonym": pseudonyms.person(p), "role": role} for p, role in entry.persons]
    return sorted(persons, key=lambda person: (person["role"], person["pseudonym"]))


FIELD_VALUES: dict[str, FieldValue] = {
    "signal_type": lambda entry, _: entry.signal_type,
    "sector": lambda entry, _: entry.sector,
    "severity": lambda entry, _: entry.severity,
    "region": lambda entry, _: entry.region,
    "occurred_month": lambda entry, _: occurred_month(entry),
    "household": lambda entry, pseudonyms: pseudonyms.household(entry.household),
    "persons": _persons,
}
"""How each extract field is made from a timeline entry; one maker per field of EXTRACT_FIELDS."""
assert frozenset(FIELD_VALUES) == EXTRACT_FIELDS


def extract_record(
    entry: TimelineEntry, recipient: Recipient, pseudonyms: RecipientPseudonyms
) -> dict[str, Any] | None:
    """The recipient's record of one signal, or None when the signal's sector is not one the
    recipient may receive."""
    if entry.sector not in recipient.sectors:
        return None
    return {name: FIELD_VALUES[name](entry, pseudonyms) for name in sorted(recipient.fields)}


def extract(
    entries: Iterable[TimelineEntry], recipient: Recipient, pseudonyms: RecipientPseudonyms
) -> list[dict[str, Any]]:
    """The recipient's records of the signals, in the order of their own content."""
    records = (extract_record(entry, recipient, pseudonyms) for entry in entries)
    return sorted(
        (record for record in records if record is not None),
        key=lambda record: orjson.dumps(record, option=orjson.OPT_SORT_KEYS),
    )
