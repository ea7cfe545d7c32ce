"""Raises reminders for check dates of safety conditions that passed without an assessment, and
for reports without a decision on their working day 3 (radar.report_reminder).

Time passing is not an event, so something has to look: this follower (in the projector
process) does, once a minute, and `radar safety remind` does on demand. Each reminder is an
alert event; raising one is idempotent, so two of them running at once do no harm.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog

from radar.safety import dutch_date
from services.casework.lead_time_store import LeadTimeStore
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


def remind_due_reports(ledger: SignalLedger, store: LeadTimeStore, now: datetime) -> int:
    """Raises the decision-due alert of every report without a decision whose working day 3
    has come; returns how many were raised."""
    due = store.due_reminders(dutch_date(now))
    return sum(ledger.remind_undecided_report(household, report, now) for household, report in due)


Remind = Callable[[SignalLedger, Any, datetime], int]


class CheckReminders:
    """A follower: every `interval` it raises the reminders that are due (`remind`: those of
    check dates by default, `remind_due_reports` for reports with `store` a LeadTimeStore)."""

    def __init__(
        self,
        ledger: SignalLedger,
        store: SafetyStore | LeadTimeStore,
        clock: Clock = lambda: datetime.now(UTC),
        interval: timedelta = CHECK_INTERVAL,
        remind: Remind = remind_due_checks,
    ) -> None:
        self._ledger = ledger
        self._store = store
        self._remind = remind
        self._clock = clock
        self._interval = interval
        self._last: datetime | None = None

    def step(self) -> int:
        """Raises due reminders if the interval has passed; returns how many it raised."""
        now = self._clock()
        if self._last is not None and now - self._last < self._interval:
            return 0
        self._last = now
        raised = self._remind(self._ledger, self._store, now)
        if raised:
            log.info("reminders raised", kind=self._remind.__name__, count=raised)
        return raised
