"""Raises reminders for check dates of safety conditions that passed without an assessment.

Time passing is not an event, so something has to look: this follower (in the projector
process) does, once a minute, and `radar safety remind` does on demand. Each reminder is an
alert event; raising one is idempotent, so two of them running at once do no harm.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import structlog

from radar.safety import dutch_date
from services.casework.monitoring_store import SafetyStore
from services.ledger.application import SignalLedger

log = structlog.get_logger("radar.reminders")
CHECK_INTERVAL = timedelta(minutes=1)

Clock = Callable[[], datetime]


def remind_due_checks(ledger: SignalLedger, store: SafetyStore, now: datetime) -> int:
    """Raises a reminder for every check date before today without an assessment; returns how
    many were raised."""
    households = sorted({household for household, _, _ in store.due_checks(dutch_date(now))})
    return sum(len(ledger.remind_missed_checks(household, now)) for household in households)


class CheckReminders:
    """A follower: every `interval` it raises the reminders that are due."""

    def __init__(
        self,
        ledger: SignalLedger,
        store: SafetyStore,
        clock: Clock = lambda: datetime.now(UTC),
        interval: timedelta = CHECK_INTERVAL,
    ) -> None:
        self._ledger = ledger
        self._store = store
        self._clock = clock
        self._interval = interval
        self._last: datetime | None = None

    def step(self) -> int:
        """Raises due reminders if the interval has passed; returns how many it raised."""
        now = self._clock()
        if self._last is not None and now - self._last < self._interval:
            return 0
        self._last = now
        raised = remind_due_checks(self._ledger, self._store, now)
        if raised:
            log.info("check reminders raised", count=raised)
        return raised
