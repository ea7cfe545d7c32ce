"""Raises the worklist alert of every confirmed Handle with Care notice not acknowledged by its
deadline (08:30 on its school day). Time passing is not an event, so the projector process
looks once a minute, as for missed checks and undecided reports (services/casework/reminders.py);
raising is idempotent, one alert per notice, closed by the acknowledgement."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, cast

from services.casework.reminders import CheckReminders
from services.handle_with_care.store import HandleWithCareStore
from services.ledger.application import SignalLedger


def remind_unacknowledged(ledger: SignalLedger, store: HandleWithCareStore, now: datetime) -> int:
    """Raises the alert of each notice unacknowledged at its deadline; returns how many."""
    due = store.due_reminders(now)
    return sum(ledger.remind_unacknowledged_notice(household, n, now) for household, n in due)


def unacknowledged_notices(
    ledger: SignalLedger,
    models: Sequence[object],
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> CheckReminders:
    """The follower that raises them, on the Handle with Care read model among `models`."""
    store = next(m for m in models if isinstance(m, HandleWithCareStore))
    return CheckReminders(ledger, cast(Any, store), clock, remind=remind_unacknowledged)
