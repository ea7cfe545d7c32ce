"""Keeps the timeline read model up to date from the event store, with its own position.

SQLite has no change notifications, so the projector polls the notification log; an idle
projector sleeps a few tens of milliseconds between polls, which keeps signals visible well
within a second.
"""

from __future__ import annotations

import threading

import structlog
from eventsourcing.utils import get_topic

from radar.ledger import SignalLedger
from radar.timeline import SIGNAL_RECORDED, timeline_entry
from services.read_models.timeline_store import PositionMovedError, TimelineStore

log = structlog.get_logger("radar.projector")
_TOPICS = (get_topic(SIGNAL_RECORDED),)


class TimelineProjector:
    """Applies ledger events to the timeline read model, exactly once each."""

    def __init__(self, ledger: SignalLedger, store: TimelineStore, batch_size: int) -> None:
        self._ledger = ledger
        self._store = store
        self._batch_size = batch_size

    def step(self) -> int:
        """Applies the next batch of events; returns how many notifications it covered."""
        start = self._store.position()
        notifications = self._ledger.recorder.select_notifications(
            start=start, limit=self._batch_size, topics=_TOPICS, inclusive_of_start=False
        )
        if not notifications:
            return 0
        entries = []
        for notification in notifications:
            entry = timeline_entry(
                notification.id, self._ledger.mapper.to_domain_event(notification)
            )
            if entry is not None:
                entries.append(entry)
        try:
            self._store.apply(entries, expected=start, new_position=notifications[-1].id)
        except PositionMovedError:
            return 0  # another projector got there first; read the new position next time
        return len(notifications)

    def catch_up(self) -> int:
        """Applies every event recorded so far; returns how many notifications were covered."""
        total = 0
        while covered := self.step():
            total += covered
        return total

    def run(self, stop: threading.Event, idle_seconds: float) -> None:
        """Follows the event store until stopped; database outages are waited out."""
        while not stop.is_set():
            try:
                if self.step() == 0:
                    stop.wait(idle_seconds)
            except Exception as error:  # the database may be restarting: retry
                log.warning("projection step failed", error=type(error).__name__)
                stop.wait(1.0)


def rebuild(ledger: SignalLedger, store: TimelineStore, batch_size: int) -> int:
    """Empties the timeline and replays the whole event store into it."""
    store.reset()
    return TimelineProjector(ledger, store, batch_size).catch_up()
