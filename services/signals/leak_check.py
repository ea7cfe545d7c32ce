"""The leak guard at the door: a submission whose free text, or any string or field name where
no identifier belongs, looks like an identifier is refused before it is even validated.

Identifiers belong in the identifier fields only (services.signals.schemas.NOT_FREE_TEXT
lists them with the structured fields); everything else is free text by default, so a string
field added to the submission later is guarded without anyone remembering to.
"""

from __future__ import annotations

from collections import deque
from enum import StrEnum
from typing import Any

from pydantic import BaseModel

from contracts.leak_guard import identifier_kinds, may_hold_identifier, never_an_identifier
from contracts.regions import VtRegion
from contracts.vocabulary import PersonRole, Sector, Severity, SignalType
from services.errors import FieldError
from services.signals.schemas import (
    NOT_FREE_TEXT,
    HouseholdSubmission,
    PersonSubmission,
    SignalSubmission,
)
from services.signals.submission_v2 import (
    HouseholdSubmissionV2,
    PersonSubmissionV2,
    PlacementSubmission,
    SignalSubmissionV2,
)

_IDENTIFIERS_BELONG = "identifiers belong only in the bsn and address fields"
_VOCABULARIES: tuple[type[StrEnum], ...] = (SignalType, Severity, PersonRole, Sector, VtRegion)
_SUBMISSIONS: tuple[type[BaseModel], ...] = (
    SignalSubmission,
    HouseholdSubmission,
    PersonSubmission,
    SignalSubmissionV2,
    HouseholdSubmissionV2,
    PlacementSubmission,
    PersonSubmissionV2,
)
_KNOWN_CLEAN = frozenset(
    text
    for text in (
        *(value.value for vocabulary in _VOCABULARIES for value in vocabulary),
        *(name for model in _SUBMISSIONS for name in model.model_fields),
    )
    if never_an_identifier(text)
)
"""Vocabulary values and the submissions' field names that no detector matches at all (a
region code holds digits, so it would be run through every detector in every signal; every
field name is asked of the quick test): the same answer, known once."""


def identifier_leaks(raw: Any, structured: frozenset[str] = NOT_FREE_TEXT) -> list[FieldError]:
    """One error per free-text string (or field name) of a raw submission that looks like it
    holds an identifier; empty when none does. `structured` names the fields that are not free
    text (a signal's by default). Walked breadth-first with a queue, not by recursion: a body
    may be nested as deep as the JSON parser took. Only what could yield an error is queued
    (a string that may hold an identifier, an object, a list), in the order the walk meets it,
    so the errors come in the same order as when everything was queued."""
    errors: list[FieldError] = []
    # (path, the path as `structured` writes it, with list positions as '*', value)
    queue: deque[tuple[tuple[str, ...], str, Any]] = deque()
    _queue(queue, (), "", raw, structured)
    while queue:
        path, pattern, value = queue.popleft()
        if isinstance(value, str):
            _refuse(errors, path, value, "holds")
        elif isinstance(value, dict):
            for name, item in value.items():  # _queue inlined: most of a body is here
                key = name if type(name) is str else str(name)
                if _suspect(key) and _refuse(errors, path, key, "has a field name that holds"):
                    continue  # below a refused name, a path would echo it
                below = f"{pattern}.{key}" if pattern else key
                if below in structured or (isinstance(item, str) and not _suspect(item)):
                    continue
                if isinstance(item, str | dict | list):
                    queue.append(((*path, key), below, item))
        else:  # a list: nothing else is queued
            below = f"{pattern}.*" if pattern else "*"
            for index, item in enumerate(value):
                _queue(queue, (*path, str(index)), below, item, structured)
    return errors


def _queue(
    queue: deque[tuple[tuple[str, ...], str, Any]],
    path: tuple[str, ...],
    pattern: str,
    value: Any,
    structured: frozenset[str],
) -> None:
    """Queues a value that could yield an error: not a structured field, and a string that
    may hold an identifier, an object or a list (numbers, booleans and null never do)."""
    if pattern in structured:
        return
    if isinstance(value, str):
        if _suspect(value):
            queue.append((path, pattern, value))
    elif isinstance(value, dict | list):
        queue.append((path, pattern, value))


def _suspect(text: str) -> bool:
    """Whether the detectors must look at the text (a quick test, the same answers)."""
    return text not in _KNOWN_CLEAN and may_hold_identifier(text)


def _refuse(errors: list[FieldError], path: tuple[str, ...], text: str, what: str) -> bool:
    """Adds the error when the text looks like it holds an identifier; says whether it did."""
    kinds = identifier_kinds(text)
    if not kinds:
        return False
    reason = f"{what} what looks like {' and '.join(kinds)}; {_IDENTIFIERS_BELONG}"
    errors.append(FieldError(field=".".join(path) or "signal", reason=reason))
    return True
