"""Which signals a restriction of processing (AVG art. 18) withholds from a purpose without
`restricted_access`: every signal recorded at a restricted household or naming a restricted
person, wherever it would be shown (its own household, another household through a member, a
person's view, a list, an extract). Withheld signals are counted, never described."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def subjects(record: Mapping[str, Any]) -> set[str]:
    """The household a signal was recorded at and every person it names."""
    return {record["household"], *(p["pseudonym"] for p in record["persons"])}


def all_subjects(records: Iterable[Mapping[str, Any]]) -> set[str]:
    """Every subject of these signals: what to ask the restriction register about, at once."""
    return {s for record in records for s in subjects(record)}


def withholds(restricted: frozenset[str], record: Mapping[str, Any]) -> bool:
    """Whether a restriction withholds this signal."""
    return not restricted.isdisjoint(subjects(record))
