"""The leak guard at the door: a submission whose free text, or any string or field name where
no identifier belongs, looks like an identifier is refused before it is even validated.

Identifiers belong in the identifier fields only (services.ingest.submissions.NOT_FREE_TEXT
lists them with the structured fields); everything else is free text by default, so a string
field added to the submission later is guarded without anyone remembering to.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from privacy.leak_guard import identifier_kinds
from services.http import FieldError
from services.ingest.submissions import NOT_FREE_TEXT

_IDENTIFIERS_BELONG = "identifiers belong only in the bsn and address fields"


def identifier_leaks(raw: Any, structured: frozenset[str] = NOT_FREE_TEXT) -> list[FieldError]:
    """One error per free-text string (or field name) of a raw submission that looks like it
    holds an identifier; empty when none does. `structured` names the fields that are not free
    text (a signal's by default). Walked breadth-first with a queue, not by recursion: a body
    may be nested as deep as the JSON parser took."""
    errors = []
    queue: deque[tuple[tuple[str, ...], Any]] = deque([((), raw)])
    while queue:
        path, value = queue.popleft()
        if _pattern(path) in structured:
            continue
        if isinstance(value, str):
            errors.extend(_refusal(path, value, "holds"))
        elif isinstance(value, dict):
            for name, item in value.items():
                refused = _refusal(path, str(name), "has a field name that holds")
                errors.extend(refused)
                if not refused:  # below such a name, a path would echo it
                    queue.append(((*path, str(name)), item))
        elif isinstance(value, list):
            queue.extend(((*path, str(index)), item) for index, item in enumerate(value))
    return errors


def _refusal(path: tuple[str, ...], text: str, what: str) -> list[FieldError]:
    kinds = identifier_kinds(text)
    if not kinds:
        return []
    reason = f"{what} what looks like {' and '.join(kinds)}; {_IDENTIFIERS_BELONG}"
    return [FieldError(field=".".join(path) or "signal", reason=reason)]


def _pattern(path: tuple[str, ...]) -> str:
    """The path with list positions as '*', as NOT_FREE_TEXT writes them."""
    return ".".join("*" if part.isdigit() else part for part in path)
