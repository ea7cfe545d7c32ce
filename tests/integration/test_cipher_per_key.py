"""One cipher object per data key (privacy.key_encryption.CIPHERS), on SQLite and PostgreSQL:
the ledger's events and the read models' rows are sealed with a cached cipher, and erasing a
household (destroying its keys) drops the cached ciphers too, in this process at once and in
a process that still held the key as soon as its key cache lapses."""

from __future__ import annotations

import time
from collections.abc import Iterator
from uuid import UUID

import pytest

from privacy.key_encryption import CIPHERS
from privacy.storage import subject_keys
from privacy.storage.subject_keys import SubjectKeyStore
from radar.household import household_id
from services.database import Database
from services.ledger.application import SignalLedger
from services.ledger.notifications import ErasedEventError
from services.ledger.store import EncryptedSignalLedger, open_ledger
from services.schema.migrate import upgrade_database
from tests.support.radar_fixtures import FAMILY, OTHER_FAMILY, Radar, days_ago, signal


@pytest.fixture
def radar(database: Database) -> Iterator[Radar]:
    upgrade_database(database)
    opened = Radar(database)
    opened.record(signal("zorgmelding", days_ago(3)), signal("huisverbod", days_ago(2)))
    opened.record(signal("zorgmelding", days_ago(1), household=OTHER_FAMILY))
    yield opened
    opened.close()


def _keys(ledger: SignalLedger) -> SubjectKeyStore:
    assert isinstance(ledger, EncryptedSignalLedger)
    return ledger.subject_keys


def _event_key(radar: Radar, household: UUID) -> bytes:
    key = _keys(radar.ledger).key(str(household))
    assert key is not None
    return key


def test_erasing_a_household_drops_the_ciphers_of_its_keys(radar: Radar) -> None:
    family, other = household_id(FAMILY), household_id(OTHER_FAMILY)
    events_key, others_key = _event_key(radar, family), _event_key(radar, other)
    assert CIPHERS.holds(events_key), "its events were sealed with the cached cipher"
    sealer = radar.database.row_sealer(radar.database.engine())
    row = sealer.seal(FAMILY, "test|row", {"signal": "s1"})
    assert sealer.open(sealer.digests.household(FAMILY), "test|row", row) == {"signal": "s1"}
    row_key = sealer.keys.key(sealer.digests.household(FAMILY))
    assert row_key is not None and CIPHERS.holds(row_key)

    _keys(radar.ledger).destroy([str(family)])  # what retention does
    sealer.forget_households([FAMILY])

    assert not CIPHERS.holds(events_key) and not CIPHERS.holds(row_key)
    assert sealer.open(sealer.digests.household(FAMILY), "test|row", row) is None
    (stored, *_rest) = radar.ledger.recorder.select_events(family)
    with pytest.raises(ErasedEventError):
        radar.ledger.mapper.to_domain_event(stored)
    assert CIPHERS.holds(others_key), "another household's cipher stays"
    assert radar.ledger.household(OTHER_FAMILY).version > 0


def test_a_process_that_held_the_key_stops_opening_when_its_cache_lapses(
    radar: Radar, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(subject_keys, "KEY_CACHE_SECONDS", 0.5)
    family = household_id(FAMILY)
    elsewhere = open_ledger(radar.database)  # another aggregator or query process
    try:
        (stored, *_rest) = elsewhere.recorder.select_events(family)
        assert elsewhere.mapper.to_domain_event(stored).originator_id == family
        key = elsewhere.subject_keys.key(str(family))
        assert key is not None and CIPHERS.holds(key)

        _keys(radar.ledger).destroy([str(family)])
        time.sleep(0.6)

        with pytest.raises(ErasedEventError):
            elsewhere.mapper.to_domain_event(stored)
        assert not CIPHERS.holds(key)
    finally:
        elsewhere.close()
