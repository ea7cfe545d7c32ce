"""Hypothesis strategies for any value of a declared type (what the ledger's codec must write
and read back): JSON values, moments with and without offsets, decimals, UUIDs, enums, our
frozen dataclasses, TypedDicts, records of dataclasses, and `Any` (all of these nested)."""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
import uuid
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, cast

from hypothesis import strategies as st

TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)
ZONES = st.sampled_from(
    [UTC, timezone(timedelta(hours=1)), timezone(timedelta(hours=-5, minutes=-30))]
)
EARLIEST, LATEST = datetime(1900, 1, 1), datetime(2200, 1, 1)
MOMENTS = (st.datetimes(EARLIEST, LATEST, timezones=ZONES) | st.datetimes(EARLIEST, LATEST)).map(
    lambda moment: moment.replace(fold=0)  # ISO text has no fold, in either format
)
DECIMALS = st.decimals(allow_nan=False, allow_infinity=False)
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=8,
)
ANY = st.recursive(
    JSON_VALUES | MOMENTS | DECIMALS | st.uuids(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=8,
)


def values_of(declared: Any) -> st.SearchStrategy[Any]:
    """Any value of a declared type, as far as JSON and our transcodings can hold one."""
    simple = {
        str: TEXT,
        int: st.integers(-(2**63), 2**63 - 1),
        float: st.floats(allow_nan=False, allow_infinity=False),
        bool: st.booleans(),
        type(None): st.none(),
        datetime: MOMENTS,
        Decimal: DECIMALS,
        uuid.UUID: st.uuids(),
    }
    if declared in simple:
        return simple[declared]
    if declared is Any:
        return ANY
    if isinstance(declared, type) and issubclass(declared, enum.Enum):
        return st.sampled_from(list(declared))
    if typing.get_origin(declared) is typing.Annotated:  # a record of a dataclass
        (record,) = declared.__metadata__
        fields = {k: values_of(t) for k, t in typing.get_type_hints(record).items()}
        return st.fixed_dictionaries(fields, optional={"noted": ANY})
    hints = typing.get_type_hints(declared) if isinstance(declared, type) else {}
    if dataclasses.is_dataclass(declared):
        fields = {f.name: values_of(hints[f.name]) for f in dataclasses.fields(declared)}
        return st.builds(cast(type, declared), **fields)
    if typing.is_typeddict(declared):
        return st.fixed_dictionaries({k: values_of(t) for k, t in hints.items()})
    origin, args = typing.get_origin(declared), typing.get_args(declared)
    if origin in (typing.Union, types.UnionType):
        return st.one_of([values_of(a) for a in args])
    if origin is list:
        return st.lists(values_of(args[0]), max_size=3)
    if origin is tuple:
        return st.lists(values_of(args[0]), max_size=3).map(tuple)
    if origin is dict:
        return st.dictionaries(TEXT, values_of(args[1]), max_size=3)
    raise AssertionError(f"no strategy for {declared}")
