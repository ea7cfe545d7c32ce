"""The library's mapper, told the event's class: what lets the codec (services.ledger.codec)
restore types by declaration instead of marking every value; and the application's wiring of
both (TypedStorage)."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any, cast
from uuid import UUID

import orjson
from eventsourcing.application import Application
from eventsourcing.persistence import (
    JSONTranscoder,
    Mapper,
    MapperDeserialisationError,
    StoredEvent,
    Transcoder,
    find_id_convertor,
)
from eventsourcing.utils import get_topic, resolve_topic

from services.ledger.codec import TYPED_FORMAT, TypedTranscoder
from services.ledger.transcodings import register_state_transcodings


class TypedMapper(Mapper[UUID]):
    """The library's mapper, but the transcoder is told the event's class, in both directions.
    With a library cipher or compressor configured it is the library's mapper unchanged."""

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        codec = self._codec()
        if codec is None:
            return super().to_stored_event(domain_event)
        cls = type(domain_event)
        state = dict(vars(domain_event))
        originator_id = state.pop("originator_id")
        originator_version = state.pop("originator_version")
        class_version = getattr(cls, "class_version", 1)
        if class_version > 1:
            state["class_version"] = class_version
        return StoredEvent(
            originator_id=originator_id,
            originator_version=originator_version,
            topic=get_topic(cls),
            state=codec.encode_as(cls, state),
        )

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        codec = self._codec()
        data = stored_event.state
        if codec is None or bytes(data[:1]) != TYPED_FORMAT:
            return super().to_domain_event(stored_event)  # written before: as it always was
        cls = resolve_topic(stored_event.topic)
        try:
            state: dict[str, Any] = orjson.loads(memoryview(data)[1:])
        except orjson.JSONDecodeError as error:
            raise MapperDeserialisationError(
                f"stored event {stored_event.originator_id} v{stored_event.originator_version}"
                f" ({stored_event.topic}) does not decode: {error}"
            ) from error
        convert = find_id_convertor(cls, cast(Hashable, type(stored_event.originator_id)))
        state["originator_id"] = convert(stored_event.originator_id)
        state["originator_version"] = stored_event.originator_version
        from_version = state.pop("class_version", 1)
        for version in range(from_version, getattr(cls, "class_version", 1)):
            getattr(cls, f"upcast_v{version}_v{version + 1}")(state)
        codec.restore(cls, state)
        domain_event = object.__new__(cls)
        object.__setattr__(domain_event, "__dict__", state)
        return domain_event

    def _codec(self) -> TypedTranscoder | None:
        if self.cipher or self.compressor or not isinstance(self.transcoder, TypedTranscoder):
            return None
        return self.transcoder


class TypedStorage(Application[UUID]):
    """An application whose events and snapshots go through the typed codec."""

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        """The library's transcodings, and those of the household's typed state (snapshots)."""
        super().register_transcodings(transcoder)
        register_state_transcodings(transcoder)

    def construct_transcoder(self) -> Transcoder:
        """orjson with types restored by declaration (services.ledger.codec); the library's
        JSON transcoder, with our transcodings, reads what was written before."""
        legacy = JSONTranscoder()
        self.register_transcodings(legacy)
        return TypedTranscoder(legacy)

    def construct_mapper(self) -> Mapper[UUID]:
        return TypedMapper(self.construct_transcoder())
