"""What every read model offers the projector: its topics, its position, and an atomic apply.

A read model keeps its own position (the last event-store notification id it applied) in its
own tables, and moves it only together with the rows it writes, from the value it expected; so
projectors may run concurrently and a rebuild may run next to a live one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from services.database import Database
    from services.ledger.application import SignalLedger
    from services.projections.checkpoints import Checkpoint


class PositionMovedError(Exception):
    """Another writer moved the projection position first; re-read and try again."""


class ErasedMeanwhileError(Exception):
    """Retention erased some of a batch's events after they were read: nothing of the batch
    was written; apply it again without them (`without_erased`)."""

    def __init__(self, places: set[tuple[str, int]]) -> None:
        super().__init__(f"{len(places)} events of the batch were erased meanwhile")
        self.places = places


def place_of(event: Any) -> tuple[str, int]:
    """Where an event is in the event store: its aggregate's id (as the data keys and the
    erasure records name it) and its version."""
    return str(event.originator_id), event.originator_version


def without_erased(
    events: Sequence[tuple[int, Any]], places: set[tuple[str, int]]
) -> list[tuple[int, Any]]:
    """The batch without the events at these places."""
    return [(position, event) for position, event in events if place_of(event) not in places]


def apply_unerased(
    read_model: ReadModel, events: Sequence[tuple[int, Any]], expected: int, new_position: int
) -> None:
    """Applies a batch as `ReadModel.apply_events`, again without the events an erasure took
    while it was being applied (the position still moves past them: they are gone)."""
    while True:
        try:
            read_model.apply_events(events, expected, new_position)
            return
        except ErasedMeanwhileError as erased:
            events = without_erased(events, erased.places)


class ReadModel(Protocol):
    """A projection of ledger events into tables."""

    name: str
    topics: tuple[str, ...]  # the event topics it reads; others are never fetched

    def position(self) -> int:
        """The last notification id applied."""
        ...

    def apply_events(
        self, events: Sequence[tuple[int, Any]], expected: int, new_position: int
    ) -> None:
        """Applies (notification id, domain event) pairs and moves the position from
        `expected` to `new_position` in one transaction; PositionMovedError if it moved."""
        ...

    def reset(self) -> None:
        """Empties the read model so that it is rebuilt from the start."""
        ...


class HouseholdReadModel(ReadModel, Protocol):
    """A read model with rows about households (every one the projector keeps): retention
    purges them."""

    def count_households(self, households: Sequence[str]) -> int:
        """How many rows `forget_households` would delete (a retention dry run)."""
        ...

    def forget_households(self, households: Sequence[str]) -> int:
        """Deletes every row about these households (retention); returns how many."""
        ...


@runtime_checkable
class BuiltFresh(Protocol):
    """A read model that rebuilds into fresh tables and swaps them in (a bulk load while the
    live tables keep answering; services/projections/swap.py)."""

    def build_fresh(self, ledger: SignalLedger, batch_size: int) -> int:
        """Replays the whole event store into fresh tables, swaps them in; returns how many
        notifications it covered."""
        ...


@runtime_checkable
class Checkpointed(Protocol):
    """A read model that keeps a checkpoint, so that recovering it replays only the tail of
    the log (services/projections/checkpoints.py)."""

    def take_checkpoint(self) -> Checkpoint:
        """Keeps a copy of the rows at their position, replacing the previous one."""
        ...

    def recover(self, ledger: SignalLedger, batch_size: int) -> int:
        """Rebuilds from the checkpoint and the events after it; returns how many it
        replayed. NoCheckpointError, or CheckpointError when the copy does not match."""
        ...


class ReadModelsOf(Protocol):
    """Makes every read model of the radar on a database (the composition root knows which):
    for the projector, a rebuild, or an audit replay into a scratch database."""

    def __call__(self, database: Database, /) -> list[ReadModel]: ...
