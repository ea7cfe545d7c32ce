"""The leak guard at the door: a submission whose free text, or any string or field name where
no identifier belongs, looks like an identifier is refused before it is even validated.

Identifiers belong in the identifier fields only (services.signals.schemas.NOT_FREE_TEXT
lists them with the structured fields); everything else is free text by default, so a string
field added to the submission later is guarded without anyone remembering to.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from contracts.leak_guard import identifier_kinds
from services.errors import FieldError
from services.signals.schemas import NOT_FREE_TEXT

_IDENTIFIERS_BELONG = "identifiers belong only in the bsn and address fields"


def identifier_leaks(raw: Any, structured: frozenset[str] = NOT_FREE_TEXT) -> list[FieldError]:
    """One error per free-text string (or field name) of a raw submission that looks like it
    holds an identifier; empty when none does. `structured` names the fields that are not free
    text (a signal's by default). Walked breadth-first with a queue, not by recursion: a body
    may be nested as deep as the JSON parser took."""
    errors: list[FieldError] = []
    # (path, the path as `structured` writes it, with list positions as '*', value)
    queue: deque[tuple[tuple[str, ...], str, Any]] = deque([((), "", raw)])
    while queue:
        path, pattern, value = queue.popleft()
        if pattern in structured:
            continue
        if isinstance(value, str):
            _refuse(errors, path, value, "holds")
        elif isinstance(value, dict):
            for name, item in value.items():
                key = str(name)
                if not _refuse(errors, path, key, "has a field name that holds"):
                    # below a refused name, a path would echo it
                    queue.append(((*path, key), f"{pattern}.{key}" if pattern else key, item))
        elif isinstance(value, list):
            below = f"{pattern}.*" if pattern else "*"
            queue.extend(((*path, str(i)), below, item) for i, item in enumerate(value))
    return errors


def _refuse(errors: list[FieldError], path: tuple[str, ...], text: str, what: str) -> bool:
    """Adds the error when the text looks like it holds an identifier; says whether it did."""
    kinds = identifier_kinds(text)
    if not kinds:
        return False
    reason = f"{what} what looks like {' and '.join(kinds)}; {_IDENTIFIERS_BELONG}"
    errors.append(FieldError(field=".".join(path) or "signal", reason=reason))
    return True
