"""Events and snapshots as orjson, their types restored by the declared field types: no hooks.

The library's JSON transcoder marks every non-JSON value (`{"_type_": ..., "_data_": ...}`) and
decodes through an object hook called for every JSON object: 13.5 us per event, most of the
ledger's write and replay cost. Here the mapper knows the event class (from the topic), so the
values are written as orjson writes them (moments as ISO text, UUIDs and decimals as text, our
frozen dataclasses as positional lists, tuples as lists) and restored after `orjson.loads` by a
converter table built once per class from its annotations; a snapshot's state by the annotations
of the aggregate class it names. `Annotated[dict[str, Any], D]` declares a record of dataclass
D (ScoreChanged's Factors records): its values are restored by D's field types. Where a value is
declared `Any` the declaration cannot restore a type, so only there values are written with the
library's markers (the same names as before) and unmarked on read.

Format: the bytes start with TYPED_FORMAT, a zero byte, which no JSON text can start with, so
everything written before (plain JSON with markers, the release-stop14 and store-v0 fixtures,
snapshots with compact lists) is told apart safely and still decoded by the library's transcoder,
exactly as before. Only a radar with this codec reads the new bytes (no rolling downgrade).

Upcasters (`upcast_vN_vN+1`) run before the types are restored: for data in this format they see
the JSON values (moments as text), for older data the typed values; the current declarations
then restore the upcast state. A snapshot of an older class version is restored only at its
markers, its upcasters see JSON values too.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from functools import cache, partial
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.domain import CanSnapshotAggregate
from eventsourcing.persistence import (
    JSONTranscoder,
    Transcoder,
    TranscodingNotRegisteredError,
)
from eventsourcing.utils import resolve_topic

TYPED_FORMAT = b"\x00"  # first byte of this codec's bytes; JSON never starts with it
MARK, DATA = "_type_", "_data_"
_OPTIONS = orjson.OPT_PASSTHROUGH_DATACLASS  # ours go positional, through `_default`
_AGGREGATE_BASE = {"_created_on": datetime, "_modified_on": datetime}  # the library's, unannotated

_LEAVES = frozenset({str, int, float, bool, type(None)})
Convert = Callable[[Any], Any]


class TypedTranscoder(Transcoder):
    """orjson by the declared types of a class (`encode_as`, `restore`: what TypedMapper
    calls); the library's transcoder (with our transcodings) for bytes written before and for
    the values at `Any` positions. Without a class (`encode`, `decode`: what a plain mapper
    calls) it is the library's transcoder: bytes of this format need their class to read."""

    def __init__(self, legacy: JSONTranscoder) -> None:
        self.legacy = legacy
        self._encoders: dict[type, list[tuple[str, Convert]]] = {}
        self._decoders: dict[type, list[tuple[str, Convert]]] = {}
        self._states: dict[bool, dict[type, dict[str, Convert | None]]] = {True: {}, False: {}}

    def encode(self, obj: Any) -> bytes:
        return self.legacy.encode(obj)

    def decode(self, data: bytes) -> Any:
        if data.startswith(TYPED_FORMAT):
            raise TypeError("this state's types come from its class: read it with TypedMapper")
        return self.legacy.decode(data)

    def encode_as(self, cls: type, state: dict[str, Any]) -> bytes:
        """An event's (or snapshot's) state, by the declared types of its class."""
        if issubclass(cls, CanSnapshotAggregate):
            state["state"] = self._state(resolve_topic(state["topic"]), state["state"], True)
        else:
            for name, convert in self._plan(cls, self._encoders, self._encoder):
                if name in state:
                    state[name] = convert(state[name])
        return TYPED_FORMAT + orjson.dumps(state, default=_default, option=_OPTIONS)

    def restore(self, cls: type, state: dict[str, Any]) -> None:
        """Restores the typed values of a state decoded from this format, in place."""
        if issubclass(cls, CanSnapshotAggregate):
            state["timestamp"] = _datetime(state["timestamp"])
            aggregate = resolve_topic(state["topic"])
            inner = state["state"]
            if inner.get("class_version", 1) == getattr(aggregate, "class_version", 1):
                state["state"] = self._state(aggregate, inner, False)
            else:  # its upcasters have run on the JSON values: only the markers are known
                state["state"] = self.unmark(inner)
            return
        for name, convert in self._plan(cls, self._decoders, self._decoder):
            if name in state:
                state[name] = convert(state[name])

    def mark(self, value: Any) -> Any:
        """A value at an `Any` position: every non-JSON value marked, as the library writes it."""
        kind = type(value)
        if kind in _LEAVES:
            return value
        if kind is dict:
            return {k: v if type(v) in _LEAVES else self.mark(v) for k, v in value.items()}
        if kind is list or kind is tuple:
            return [v if type(v) in _LEAVES else self.mark(v) for v in value]
        transcoding = self.legacy.types.get(kind)
        if transcoding is not None:
            return {MARK: transcoding.name, DATA: self.mark(transcoding.encode(value))}
        if isinstance(value, str | int | float):  # a str enum: JSON writes it as its value
            return value
        if isinstance(value, Mapping):
            return self.mark(dict(value))
        if isinstance(value, list | tuple):
            return self.mark(list(value))
        raise TranscodingNotRegisteredError(f"no transcoding for {kind}")

    def unmark(self, value: Any) -> Any:
        """What `mark` wrote (and the library's hook reads), bottom-up like the hook."""
        kind = type(value)
        if kind is dict:
            if len(value) == 2 and MARK in value and DATA in value:
                transcoding = self.legacy.names.get(value[MARK])
                if transcoding is None:
                    raise TranscodingNotRegisteredError(f"no transcoding named {value[MARK]}")
                return transcoding.decode(self.unmark(value[DATA]))
            return {k: v if type(v) in _LEAVES else self.unmark(v) for k, v in value.items()}
        if kind is list:
            return [v if type(v) in _LEAVES else self.unmark(v) for v in value]
        return value

    def _state(self, aggregate: type, state: dict[str, Any], encode: bool) -> dict[str, Any]:
        """An aggregate's state: its annotated attributes by type, any other one as `Any`."""
        cache = self._states[encode]
        declared = cache.get(aggregate)
        if declared is None:
            make = self._encoder if encode else self._decoder
            hints = {**_AGGREGATE_BASE, **_hints(aggregate)}
            declared = cache[aggregate] = {n: make(t) for n, t in hints.items()}
        other = self.mark if encode else self.unmark
        converted = {}
        for name, value in state.items():
            convert = declared.get(name, other)
            converted[name] = value if convert is None else convert(value)
        return converted

    def _plan(
        self,
        cls: type,
        cache: dict[type, list[tuple[str, Convert]]],
        make: Callable[[Any], Convert | None],
    ) -> list[tuple[str, Convert]]:
        """The fields of an event class that need converting, and how; made once per class."""
        found = cache.get(cls)
        if found is None:
            hints = _hints(cls)
            found = cache[cls] = [
                (name, convert)
                for name, declared in hints.items()
                if name not in ("originator_id", "originator_version")
                and (convert := make(declared)) is not None
            ]
        return found

    # --- per declared type: a converter, or None where orjson's value is already right --------

    def _encoder(self, declared: Any) -> Convert | None:
        """Only where an `Any` is inside does a value need more than orjson (and `_default`)."""
        record = _record_of(declared)
        if record is not None:
            return partial(_record, frozenset(_hints(record)), self.mark, None)
        if not _holds_any(declared):
            return None
        origin, args = typing.get_origin(declared), typing.get_args(declared)
        if _is_any(declared) or origin in (typing.Union, types.UnionType):
            return self.mark
        if dataclasses.is_dataclass(declared):
            return self._positional(declared)
        if origin in (list, tuple, Sequence) and args:
            return partial(_list_of, self._encoder(args[0]) or _same)
        if origin in (dict, Mapping) and len(args) == 2:
            return partial(_dict_of, self._encoder(args[1]) or _same)
        return self.mark

    def _positional(self, cls: Any) -> Convert:
        hints = _hints(cls)
        fields = [(f.name, self._encoder(hints[f.name]) or _same) for f in dataclasses.fields(cls)]
        return lambda value: [convert(getattr(value, name)) for name, convert in fields]

    def _decoder(self, declared: Any) -> Convert | None:
        if declared in (str, int, float, bool, type(None)):
            return None
        record = _record_of(declared)
        if record is not None:
            by_field = {k: c for k, t in _hints(record).items() if (c := self._decoder(t))}
            return partial(_record, frozenset(_hints(record)), self.unmark, by_field)
        simple = _SIMPLE.get(declared)
        if simple is not None:
            return simple
        if isinstance(declared, type) and issubclass(declared, enum.Enum):
            return declared
        if dataclasses.is_dataclass(declared) and isinstance(declared, type):
            return self._dataclass_decoder(declared)
        if typing.is_typeddict(declared):
            keys = [(k, c) for k, t in _hints(declared).items() if (c := self._decoder(t))]
            return partial(_typed_dict, keys) if keys else None
        origin, args = typing.get_origin(declared), typing.get_args(declared)
        if origin in (typing.Union, types.UnionType):
            kinds = [a for a in args if a is not type(None)]
            if len(kinds) == 1:
                inner = self._decoder(kinds[0])
                return None if inner is None else partial(_optional, inner)
            return self.unmark
        if origin is tuple and args:
            if len(args) == 2 and args[1] is Ellipsis:
                return partial(_tuple_of, self._decoder(args[0]) or _same)
            items = [self._decoder(a) or _same for a in args]
            return lambda value: tuple(c(v) for c, v in zip(items, value, strict=True))
        if origin in (list, Sequence) and args:
            item = self._decoder(args[0])
            return None if item is None else partial(_list_of, item)
        if origin in (dict, Mapping) and len(args) == 2:
            item = self._decoder(args[1])
            return None if item is None else partial(_dict_of, item)
        return self.unmark

    def _dataclass_decoder(self, cls: type) -> Convert:
        """Positional (as `_default` writes it), only the fields that need it converted."""
        hints = _hints(cls)
        names = [f.name for f in dataclasses.fields(cls)]
        converted = [(i, c) for i, n in enumerate(names) if (c := self._decoder(hints[n]))]

        def decode(value: Any) -> Any:
            if type(value) is not list:
                return value if isinstance(value, cls) else cls(**value)
            if len(value) != len(names):
                raise ValueError(f"{cls.__name__} has {len(names)} fields, not {len(value)}")
            for index, convert in converted:
                value[index] = convert(value[index])  # a list of our own, fresh from orjson
            return cls(*value)

        return decode


def _hints(cls: Any) -> dict[str, Any]:
    """Declared types, ClassVars left out; a forward reference that does not resolve is Any."""
    try:
        hints = typing.get_type_hints(cls, include_extras=True)
    except (NameError, TypeError):
        hints = {n: Any for c in reversed(cls.__mro__) for n in getattr(c, "__annotations__", {})}
    return {n: t for n, t in hints.items() if typing.get_origin(t) is not typing.ClassVar}


def _record_of(declared: Any) -> type | None:
    """`Annotated[dict[str, Any], D]`: a record of dataclass D (`{field: value}`), so its
    values are restored by D's field types; other keys it may hold are marked."""
    if typing.get_origin(declared) is not typing.Annotated:
        return None
    found = [m for m in declared.__metadata__ if dataclasses.is_dataclass(m)]
    return found[0] if found and isinstance(found[0], type) else None


def _record(
    fields: frozenset[str],
    other: Convert,
    typed: Mapping[str, Convert] | None,
    value: dict[str, Any],
) -> dict[str, Any]:
    """A record in either direction: its fields by type (`typed`, decoding), anything else
    through `other` (mark or unmark)."""
    if typed is None and value.keys() <= fields:
        return value  # orjson writes every field's value as its declared type reads it back
    converted = value if typed is not None else dict(value)  # decoding: a fresh dict of ours
    for key in value.keys() - fields:
        converted[key] = other(value[key])
    for key, convert in (typed or {}).items():
        if key in converted:
            converted[key] = convert(converted[key])
    return converted


def _is_any(declared: Any) -> bool:
    return declared is Any or declared is object or isinstance(declared, typing.TypeVar)


def _holds_any(declared: Any, seen: frozenset[Any] = frozenset()) -> bool:
    """Whether a value of this type can hold something only markers can restore."""
    if _is_any(declared):
        return True
    if declared in seen:
        return False
    seen = seen | {declared}
    if dataclasses.is_dataclass(declared) or typing.is_typeddict(declared):
        return any(_holds_any(t, seen) for t in _hints(declared).values())
    origin, args = typing.get_origin(declared), typing.get_args(declared)
    if origin in (typing.Union, types.UnionType):
        return len([a for a in args if a is not type(None)]) > 1 or any(
            _holds_any(a, seen) for a in args
        )
    return any(_holds_any(a, seen) for a in args if a is not Ellipsis)


def _default(value: Any) -> Any:
    """What orjson does not write itself: decimals as text, our dataclasses positionally."""
    if isinstance(value, Decimal):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [getattr(value, name) for name in _field_names(type(value))]
    raise TypeError(f"Object of type {type(value)} is not serializable")


@cache
def _field_names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls))


def _same(value: Any) -> Any:
    return value


def _list_of(convert: Convert, value: Any) -> list[Any]:
    return [convert(v) for v in value]


def _tuple_of(convert: Convert, value: Any) -> tuple[Any, ...]:
    return tuple(convert(v) for v in value)


def _dict_of(convert: Convert, value: Mapping[Any, Any]) -> dict[Any, Any]:
    return {k: convert(v) for k, v in value.items()}


def _optional(convert: Convert, value: Any) -> Any:
    return None if value is None else convert(value)


def _typed_dict(keys: list[tuple[str, Convert]], value: dict[str, Any]) -> dict[str, Any]:
    restored = dict(value)
    for key, convert in keys:
        if key in restored:
            restored[key] = convert(restored[key])
    return restored


def _datetime(value: Any) -> Any:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def _date(value: Any) -> Any:
    return date.fromisoformat(value) if isinstance(value, str) else value


def _uuid(value: Any) -> Any:
    return UUID(value) if isinstance(value, str) else value


def _decimal(value: Any) -> Any:
    return value if isinstance(value, Decimal) else Decimal(str(value))


_SIMPLE: dict[Any, Convert] = {datetime: _datetime, date: _date, UUID: _uuid, Decimal: _decimal}
