"""Keeps the read models up to date from the event store, each with its own position.

SQLite has no change notifications, so the projector polls the notification log; an idle
projector sleeps a few tens of milliseconds between polls, which keeps signals visible well
within a second.

Why not eventsourcing's ProjectionRunner (decided in issue 14, checked against 9.5.6):

- It follows an application through `recorder.subscribe()`, and SQLite recorders have none
  (`SQLiteApplicationRecorder.subscribe` raises NotImplementedError). The radar runs on SQLite
  in development, in the tests and in the stored-data fixtures, and on PostgreSQL in
  production; one projector has to serve both.
- It keeps its position in a TrackingRecorder: one tracking row per application name that
  only ever grows. Our read models keep theirs in `projection_positions` and move it
  optimistically, from the value the writer read, in the transaction that writes the rows
  (services/projections/positions.py, `move_position`). That is what lets two projectors, or a
  rebuild (`reset`, then replay) beside a live one, run safely; a tracking row cannot go back
  to 0 for a rebuild, nor be contended for.
- Its subscription maps every notification with the application's mapper and stops on the first
  error. An event erased at the end of its retention period (its key destroyed) raises
  ErasedEventError there; we pass over it and move the position past it
  (`NotificationLog.readable`).
- It builds its own application from a class and an environment; the ledger needs its subject
  key store, which the composition root gives it, and the audit sealer and the point-in-time
  replay follow the same log in the same steps (`Follower`), batch by batch, one transaction
  per batch rather than one per event.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Protocol

import structlog

from services.ledger.application import SignalLedger
from services.projections.read_model import (
    BuiltFresh,
    PositionMovedError,
    ReadModel,
    apply_unerased,
)

log = structlog.get_logger("radar.projector")


class Projector:
    """Applies ledger events to one read model, exactly once each."""

    def __init__(self, ledger: SignalLedger, read_model: ReadModel, batch_size: int) -> None:
        self._ledger = ledger
        self._read_model = read_model
        self._batch_size = batch_size

    def step(self) -> int:
        """Applies the next batch of events; returns how many notifications it covered."""
        start = self._read_model.position()
        notification_log = self._ledger.notifications
        notifications = notification_log.after(start, self._batch_size, self._read_model.topics)
        if not notifications:
            return 0
        events = notification_log.readable(notifications)
        try:
            apply_unerased(self._read_model, events, start, notifications[-1].id)
        except PositionMovedError:
            return 0  # another projector got there first; read the new position next time
        log.info(
            "read model advanced", read_model=self._read_model.name, position=notifications[-1].id
        )
        return len(notifications)

    def catch_up(self) -> int:
        """Applies every event recorded so far; returns how many notifications were covered."""
        total = 0
        while covered := self.step():
            total += covered
        return total


class Follower(Protocol):
    """Anything that follows the event store in steps: projectors, the audit sealer."""

    def step(self) -> int:
        """Does the next piece of work; returns how much it covered (0 when caught up)."""
        ...


def follow(followers: Sequence[Follower], stop: threading.Event, idle_seconds: float) -> None:
    """Keeps every follower up to date until stopped; database outages are waited out."""
    while not stop.is_set():
        try:
            if sum(follower.step() for follower in followers) == 0:
                stop.wait(idle_seconds)
        except Exception as error:  # the database may be restarting: retry
            log.warning("projection step failed", error=type(error).__name__)
            stop.wait(1.0)


def rebuild(ledger: SignalLedger, read_model: ReadModel, batch_size: int) -> int:
    """Makes a read model anew from the whole event store: built into fresh tables and swapped
    in when the read model can (BuiltFresh: its live tables answer meanwhile), otherwise
    emptied and replayed into."""
    if isinstance(read_model, BuiltFresh):
        return read_model.build_fresh(ledger, batch_size)
    read_model.reset()
    return Projector(ledger, read_model, batch_size).catch_up()
