"""Point-in-time replay: every read model rebuilt from the event store as it was at a moment T,
in a throw-away SQLite database. The live read models are never touched.

"As of T" means the events whose timestamp is at or before T. Notification order is commit
order and an event's timestamp is taken just before its commit, so once events are more than
STRAGGLER_MARGIN past T no earlier event can follow and the replay stops reading.

Whatever read models `services.bootstrap.read_models` returns are replayed, each from its own
position, so an interrupted replay resumes from its scratch database (`--resume`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event

from services.database import Database
from services.ledger.application import SignalLedger
from services.projections.read_model import ReadModel, apply_unerased

STRAGGLER_MARGIN = timedelta(minutes=5)
READ_BATCH = 1000  # notifications per select
APPLY_BATCH = 10_000  # events per read-model transaction


@dataclass(frozen=True)
class ScratchDatabase(Database):
    """A throw-away SQLite file for one replay: durability is not wanted, speed is."""

    def engine(self, **options: Any) -> Engine:
        engine = super().engine(**options)
        event.listen(engine, "connect", _no_sync)
        return engine

    def remove(self) -> None:
        """Deletes the file and its WAL, shared-memory and schema-lock companions."""
        path = self.sqlite_path()
        for companion in (
            path,
            path.with_name(path.name + "-wal"),
            path.with_name(path.name + "-shm"),
            path.with_name(path.name + ".schema-lock"),
        ):
            with contextlib.suppress(FileNotFoundError):
                companion.unlink()

    @classmethod
    def at(cls, path: Path) -> ScratchDatabase:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        return cls(f"sqlite:///{path.resolve()}")


def _no_sync(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA synchronous=OFF")
    cursor.close()


class ReplayFailedError(Exception):
    """A read model refused the events (a store altered so that it no longer replays)."""


@dataclass(frozen=True)
class ReplayOutcome:
    """How far a replay read and what it applied."""

    last_notification_id: int
    notifications_read: int
    events_applied: int
    complete: bool


def replay(
    ledger: SignalLedger,
    models: Sequence[ReadModel],
    as_of: datetime,
    on_read: Callable[[int, int], object] = lambda _position, _count: None,
) -> ReplayOutcome:
    """Applies every event with timestamp <= as_of to each read model (from its position).

    `on_read(position, count)` is told after each select, for a progress bar.
    """
    positions = {model.name: model.position() for model in models}
    start = min(positions.values(), default=0)
    topics = _union_of_topics(models)
    horizon = as_of + STRAGGLER_MARGIN
    pending: list[tuple[int, str, Any]] = []
    read = applied = 0
    last = start
    complete = False
    while not complete:
        notifications = ledger.notifications.after(last, READ_BATCH, topics)
        if not notifications:
            complete = True
        readable = dict(ledger.notifications.readable(notifications))
        for notification in notifications:
            domain_event: Any = readable.get(notification.id)
            if domain_event is None:  # erased at the end of its retention period
                last = notification.id
                read += 1
                continue
            if domain_event.timestamp > horizon:
                complete = True
                break
            if domain_event.timestamp <= as_of:
                pending.append((notification.id, notification.topic, domain_event))
            last = notification.id
            read += 1
        on_read(last, len(notifications))
        if len(pending) >= APPLY_BATCH or (complete and last > start):
            applied += _apply(models, positions, pending, last)
            pending = []
    return ReplayOutcome(last, read, applied, complete)


def _apply(
    models: Sequence[ReadModel],
    positions: dict[str, int],
    pending: list[tuple[int, str, Any]],
    last: int,
) -> int:
    """One transaction per read model, each skipping what it already had (after a resume)."""
    applied = 0
    for model in models:
        if positions[model.name] >= last:
            continue
        events = [
            (nid, domain_event)
            for nid, topic, domain_event in pending
            if nid > positions[model.name] and (not model.topics or topic in model.topics)
        ]
        try:
            apply_unerased(model, events, positions[model.name], last)
        except Exception as error:
            raise ReplayFailedError(
                f"read model {model.name} refused the events after notification "
                f"{positions[model.name]} up to {last} ({type(error).__name__}); "
                "`radar audit verify` tells whether the store was altered"
            ) from error
        positions[model.name] = last
        applied += len(events)
    return applied


def _union_of_topics(models: Sequence[ReadModel]) -> tuple[str, ...]:
    """The topics any read model reads; () (every topic) when one of them reads everything."""
    if any(not model.topics for model in models):
        return ()
    return tuple(sorted({topic for model in models for topic in model.topics}))
