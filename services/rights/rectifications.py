"""What publishers corrected or withdrew of a person's signals (AVG art. 16), for the person's
inzage: the reason of each correction, and each signal that was retracted.

The read models show corrected values and drop retracted signals; the reasons and the
retractions themselves are only in the event store, so they are read from there. Erased events
(a household at the end of its retention) are unreadable and so not shown.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from eventsourcing.utils import get_topic

from radar.household import household_id
from radar.timeline import SIGNAL_CORRECTED, SIGNAL_RECORDED, SIGNAL_RETRACTED
from services.ledger.notifications import NotificationLog


@dataclass(frozen=True)
class Withdrawn:
    """A signal naming the person that the reporting organisation retracted: who reported it,
    when, and when it was withdrawn; not what it said (see `rectifications`)."""

    signal_id: str
    household: str
    organisation: str
    sector: str
    reported_at: datetime
    withdrawn_at: datetime

    def record(self) -> dict[str, Any]:
        return {
            "signal_id": self.signal_id,
            "household": self.household,
            "organisation": self.organisation,
            "sector": self.sector,
            "reported_at": self.reported_at.isoformat(),
            "withdrawn_at": self.withdrawn_at.isoformat(),
            "status": "ingetrokken door de melder",
        }


@dataclass(frozen=True)
class Rectifications:
    """Per signal id the reasons of its corrections (oldest first); the withdrawn signals."""

    reasons: dict[str, list[str]] = field(default_factory=dict)
    withdrawn: list[Withdrawn] = field(default_factory=list)


def rectifications(notifications: NotificationLog, names: Iterable[str]) -> Rectifications:
    """The corrections' reasons and the retracted signals naming one of `names` (the person's
    pseudonyms). A retracted signal's type, severity and reason are left out: a publisher
    retracts a signal it recorded in error (often about the wrong person or household), so
    its content may not be about this person at all, and is no longer processed; that it
    existed, who reported it and when it was withdrawn is what the person has a right to know.
    A correction's reason is shown: it passed the leak guard, and it explains the values."""
    topics = [get_topic(SIGNAL_CORRECTED), get_topic(SIGNAL_RETRACTED)]
    reasons: dict[str, list[str]] = defaultdict(list)
    retracted: dict[str, Any] = {}
    for _position, event in notifications.all_readable(topics):
        if isinstance(event, SIGNAL_CORRECTED):
            reasons[str(event.signal_id)].append(event.reason)
        elif isinstance(event, SIGNAL_RETRACTED):
            retracted[str(event.signal_id)] = event
    return Rectifications(dict(reasons), _withdrawn(notifications, retracted, set(names)))


def _withdrawn(
    notifications: NotificationLog, retracted: dict[str, Any], names: set[str]
) -> list[Withdrawn]:
    found: list[Withdrawn] = []
    for household in sorted({event.household for event in retracted.values()}):
        for recorded in notifications.readable_events_of(household_id(household)):
            retraction = retracted.get(str(getattr(recorded, "signal_id", "")))
            if not isinstance(recorded, SIGNAL_RECORDED) or retraction is None:
                continue
            if names.isdisjoint(person["pseudonym"] for person in recorded.persons):
                continue
            found.append(
                Withdrawn(
                    str(recorded.signal_id),
                    household,
                    recorded.organisation,
                    recorded.sector,
                    recorded.reported_at,
                    retraction.received_at,
                )
            )
    return sorted(found, key=lambda w: (w.reported_at, w.signal_id))
