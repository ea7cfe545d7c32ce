"""The ingest leak check refuses exactly what the plain walk over every string refused: the
same errors, in the same order, for any body (the quick tests it makes before asking the
detectors change how fast it answers, never what)."""

from __future__ import annotations

import random
from collections import deque
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.bsn import synthetic_bsn
from contracts.leak_guard import identifier_kinds
from contracts.regions import VtRegion
from contracts.vocabulary import SignalType
from services.errors import FieldError
from services.signals.leak_check import identifier_leaks
from services.signals.schemas import NOT_FREE_TEXT

PROPERTY = settings(max_examples=150, deadline=None)


def _every_string_walked(raw: Any, structured: frozenset[str]) -> list[FieldError]:
    """The reference: every value queued and every string and field name asked of the
    detectors, breadth-first (the leak check as it was first written)."""
    errors: list[FieldError] = []
    queue: deque[tuple[tuple[str, ...], str, Any]] = deque([((), "", raw)])

    def refuse(path: tuple[str, ...], text: str, what: str) -> bool:
        kinds = identifier_kinds(text)
        if kinds:
            reason = (
                f"{what} what looks like {' and '.join(kinds)}; "
                "identifiers belong only in the bsn and address fields"
            )
            errors.append(FieldError(field=".".join(path) or "signal", reason=reason))
        return bool(kinds)

    while queue:
        path, pattern, value = queue.popleft()
        if pattern in structured:
            continue
        if isinstance(value, str):
            refuse(path, value, "holds")
        elif isinstance(value, dict):
            for name, item in value.items():
                key = str(name)
                if not refuse(path, key, "has a field name that holds"):
                    queue.append(((*path, key), f"{pattern}.{key}" if pattern else key, item))
        elif isinstance(value, list):
            below = f"{pattern}.*" if pattern else "*"
            queue.extend(((*path, str(i)), below, item) for i, item in enumerate(value))
    return errors


texts = st.one_of(
    st.sampled_from([*VtRegion, *SignalType]).map(str),
    st.integers(0, 2**32).map(lambda seed: synthetic_bsn(random.Random(seed))),
    st.sampled_from(["06-12345678", "3511 AB 12", "12-03-2015", "a@b.nl", "2026-11-20T21:30:00"]),
    st.text(alphabet="abc019-@ .:/", max_size=20),
)
names = st.one_of(
    st.sampled_from(["event_id", "household", "persons", "bsn", "postcode", "note", "*"]), texts
)
bodies = st.recursive(
    st.one_of(texts, st.integers(), st.none(), st.booleans()),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(names, inner, max_size=5)),
    max_leaves=20,
)


@PROPERTY
@given(bodies)
def test_the_same_errors_in_the_same_order_as_walking_every_string(body: Any) -> None:
    assert identifier_leaks(body) == _every_string_walked(body, NOT_FREE_TEXT)


@PROPERTY
@given(st.dictionaries(names, bodies, max_size=6))
def test_the_same_errors_under_nested_structured_fields(body: dict[str, Any]) -> None:
    signal = {"household": body, "persons": [body, {"bsn": body}], "event_id": body}
    assert identifier_leaks(signal) == _every_string_walked(signal, NOT_FREE_TEXT)
