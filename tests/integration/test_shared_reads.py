"""The projector's read models share what they decoded of the notification log (services/ledger/
shared_reads.py), on real SQLite and PostgreSQL stores: an event read a moment ago is the same
event again, and a household erased in between (its key destroyed, or a new one made since)
reads as erased at once, as the event decoded afresh would."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.database import Database
from services.ledger.store import EncryptedSignalLedger
from tests.support.radar_fixtures import FAMILY, OTHER_FAMILY, Radar, signal

NOW = datetime.now(UTC)


def _signal_ids(ledger: EncryptedSignalLedger) -> dict[str, set[str]]:
    """The signal ids each household's readable SignalRecorded events name, read the way the
    projector reads (positions and a batch)."""
    found: dict[str, set[str]] = {}
    notifications = ledger.notifications
    for _position, event in notifications.readable(notifications.after(0, 1000)):
        if type(event).__name__ == "SignalRecorded":
            found.setdefault(event.household, set()).add(str(event.signal_id))
    return found


def test_an_erased_household_stops_reading_at_once_and_its_new_signals_read(
    database: Database,
) -> None:
    radar = Radar(database)
    try:
        ledger = radar.ledger
        assert isinstance(ledger, EncryptedSignalLedger)
        old = signal("zorgmelding", NOW - timedelta(days=3))
        other = signal("domestic_incident", NOW - timedelta(days=2), household=OTHER_FAMILY)
        radar.record(old, other)
        first = _signal_ids(ledger)
        assert first == {FAMILY: {str(old.event_id)}, OTHER_FAMILY: {str(other.event_id)}}
        assert _signal_ids(ledger) == first, "read again: the same events"

        erased = [str(ledger.household(FAMILY).id)]
        assert ledger.subject_keys.destroy(erased) == 1  # what retention does to a household
        assert _signal_ids(ledger) == {OTHER_FAMILY: {str(other.event_id)}}

        fresh = signal("zorgmelding", NOW - timedelta(days=1))  # a new key for the same home
        radar.record(fresh)
        assert _signal_ids(ledger) == {
            FAMILY: {str(fresh.event_id)},
            OTHER_FAMILY: {str(other.event_id)},
        }, "the erased past never returns, though the household has a key again"
    finally:
        radar.close()
