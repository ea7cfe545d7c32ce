"""The ledger's orjson codec (services/ledger/codec.py), on SQLite and PostgreSQL: any event of
any of our aggregates, and any household's snapshot, reads back from the store exactly as it was
written; what the previous release wrote (release-stop14), and what the library's JSON
transcoder writes, reads back as that transcoder reads it; a household whose history mixes
both formats replays to the same state."""

from __future__ import annotations

import dataclasses
import shutil
import typing
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast
from uuid import UUID

import pytest
from eventsourcing.domain import CanSnapshotAggregate, DomainEvent
from eventsourcing.persistence import EventStore, JSONTranscoder, StoredEvent
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import make_url

from contracts.vocabulary import SignalType
from radar.case import HouseholdCase
from radar.household import Household, household_id
from radar.household_score import MEMORY_ONLY, HouseholdSnapshot
from radar.model_history import RiskModelHistory
from radar.risk_model import default_model
from services.backup.postgres_copy import restore
from services.database import Database
from services.ledger.application import SignalLedger
from services.ledger.codec import TYPED_FORMAT
from services.ledger.store import (
    ENCRYPTED,
    EncryptedSignalLedger,
    SubjectEncryptingMapper,
    open_ledger,
)
from services.schema.migrate import upgrade_database
from tests.support.radar_fixtures import Radar, signal
from tests.support.typed_values import values_of

REPORTABLE = [t for t in SignalType if t != SignalType.SAFETY_CONDITIONS_SET]
RELEASE = Path(__file__).parent.parent / "fixtures" / "release-stop14"
START = datetime(2025, 1, 1, tzinfo=UTC)
EVENT_CLASSES = sorted(
    {
        value
        for aggregate in (Household, HouseholdCase, RiskModelHistory)
        for value in vars(aggregate).values()
        if isinstance(value, type)
        and issubclass(value, DomainEvent)
        and not issubclass(value, CanSnapshotAggregate)
    },
    key=lambda cls: cls.__qualname__,
)


@st.composite
def events(draw: st.DrawFn) -> Any:
    cls = draw(st.sampled_from(EVENT_CLASSES))
    hints = typing.get_type_hints(cls, include_extras=True)
    values = {
        f.name: draw(values_of(hints[f.name]), label=f.name)
        for f in dataclasses.fields(cls)
        if f.name not in ("originator_id", "originator_version", "timestamp")
    }
    return cls(
        originator_id=draw(st.uuids()),
        originator_version=draw(st.integers(1, 10**6)),
        timestamp=draw(st.datetimes(timezones=st.just(UTC))).replace(fold=0),
        **values,
    )


@pytest.fixture
def ledger(database: Database) -> Any:
    upgrade_database(database)
    opened = open_ledger(database)
    yield opened
    opened.close()


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(events())
def test_any_event_reads_back_from_the_store_as_it_was_written(
    ledger: EncryptedSignalLedger, event: Any
) -> None:
    event = dataclasses.replace(event, originator_id=uuid.uuid4())  # examples repeat ids
    ledger.events.put([event])
    (stored,) = ledger.recorder.select_events(event.originator_id)
    assert bytes(stored.state).startswith(ENCRYPTED)
    mapper = ledger.mapper
    assert isinstance(mapper, SubjectEncryptingMapper)
    assert bytes(mapper.opened(stored).state[:1]) == TYPED_FORMAT
    (read,) = ledger.events.get(event.originator_id)
    assert type(read) is type(event)
    assert repr(read) == repr(event)  # types too: a tuple stays a tuple, a moment its offset


@st.composite
def households(draw: st.DrawFn) -> Household:
    household = Household("hh.k1." + uuid.uuid4().hex)  # examples repeat: a new one each
    for hours in draw(st.lists(st.integers(0, 400 * 24), min_size=1, max_size=15)):
        occurred = START + timedelta(hours=hours)
        household.record(
            signal(
                str(draw(st.sampled_from(REPORTABLE))),
                occurred,
                household=household.pseudonym,
                severity=draw(st.sampled_from(["low", "moderate", "high", "acute"])),
                children=draw(st.sampled_from([(), ("p.k1." + "2" * 32,)])),
            )
        )
        household.change_score(default_model(), occurred + timedelta(hours=2), "signal")
    if draw(st.booleans()):
        household.replay_required = True  # an attribute the class does not declare
    return household


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(households())
def test_any_household_snapshot_reads_back_to_the_same_state(
    ledger: EncryptedSignalLedger, household: Household
) -> None:
    snapshot = Household.Snapshot.take(household)
    snapshots = _snapshots(ledger)
    snapshots.put([snapshot])
    (read,) = snapshots.get(household.id)
    assert repr(read) == repr(snapshot)
    restored = cast(Household, cast(HouseholdSnapshot, read).mutate(None))
    assert _state(restored) == _state(household)
    assert restored.latest_assessment() == household.latest_assessment()


def _snapshots(ledger: SignalLedger) -> EventStore[UUID]:
    assert ledger.snapshots is not None, "the ledger snapshots households"
    return ledger.snapshots


def _state(household: Household) -> dict[str, Any]:
    skipped = ("_pending_events", *MEMORY_ONLY)
    return {k: v for k, v in vars(household).items() if k not in skipped}


def _previous_release(database: Database, tmp_path: Path) -> Database:
    """release-stop14's store of the database's kind, in the test's database, upgraded."""
    kind = "sqlite" if database.is_sqlite else "postgresql"
    keys = tmp_path / "release-keys"
    shutil.copytree(RELEASE / kind / "keys", keys)
    if database.is_sqlite:
        shutil.copy(RELEASE / kind / "radar.db", str(make_url(database.url).database))
    else:
        restore(database.url, RELEASE / kind / "radar.pgdump")
    old = Database(database.url, keys)
    upgrade_database(old)
    return old


def _library_mapper(ledger: SignalLedger) -> SubjectEncryptingMapper:
    """The mapper as the previous release had it: the library's JSON transcoder, with ours."""
    transcoder = JSONTranscoder()
    ledger.register_transcodings(transcoder)
    assert isinstance(ledger, EncryptedSignalLedger)
    return SubjectEncryptingMapper(transcoder, ledger.subject_keys)


def _reads_as_the_library_reads(database: Database) -> int:
    """Every stored event and snapshot decodes to what the library's JSON transcoder makes of
    it; returns how many snapshots there were."""
    ledger = open_ledger(database)
    try:
        library = _library_mapper(ledger)
        stored: list[StoredEvent] = list(
            ledger.recorder.select_notifications(start=None, limit=100_000)
        )
        assert stored, "the fixture has events"
        snapshots = [
            s
            for originator in {item.originator_id for item in stored}
            for s in _snapshots(ledger).recorder.select_events(originator)
        ]
        for item in stored + snapshots:
            assert bytes(library.opened(item).state[:1]) != TYPED_FORMAT
            assert repr(ledger.mapper.to_domain_event(item)) == repr(library.to_domain_event(item))
        return len(snapshots)
    finally:
        ledger.close()


def test_the_previous_release_store_reads_as_the_library_transcoder_reads_it(
    database: Database, tmp_path: Path
) -> None:
    _reads_as_the_library_reads(_previous_release(database, tmp_path))


def test_the_store_before_the_restructure_and_its_snapshot_read_as_before(
    store_v0: tuple[Database, dict[str, Any]],
) -> None:
    database, _expected = store_v0
    assert _reads_as_the_library_reads(database) == 1


def test_a_history_in_both_formats_replays_to_the_state_kept_in_memory(database: Database) -> None:
    upgrade_database(database)
    pseudonym = "hh.k1." + "c" * 32
    before = Radar(database)  # the previous release: the library's JSON transcoder writes
    try:
        written_before = _library_mapper(before.ledger)
        before.ledger.mapper = before.ledger.events.mapper = written_before
        _snapshots(before.ledger).mapper = written_before
        for day in range(3):
            before.record(signal("zorgmelding", START + timedelta(days=day), household=pseudonym))
        before.ledger.take_snapshot(household_id(pseudonym))
    finally:
        before.close()
    radar = Radar(database)  # this release, on the same store
    try:
        for day in range(3, 6):
            radar.record(signal("huisverbod", START + timedelta(days=day), household=pseudonym))
        in_memory = radar.ledger.household(pseudonym)
        mapper = radar.ledger.mapper
        assert isinstance(mapper, SubjectEncryptingMapper)
        formats = {
            bytes(mapper.opened(item).state[:1]) == TYPED_FORMAT
            for item in radar.ledger.recorder.select_events(household_id(pseudonym))
        }
        assert formats == {True, False}, "both formats are in the household's history"
        fresh = open_ledger(database)  # another process: no cache, the snapshot and events
        try:
            replayed = fresh.household(pseudonym)
        finally:
            fresh.close()
        assert _state(replayed) == _state(in_memory)
        assert replayed.latest_assessment() == in_memory.latest_assessment()
        assert len(replayed.facts) == 6
    finally:
        radar.close()
