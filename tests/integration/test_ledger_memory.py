"""The aggregator keeps its households in memory and brings them up to date set-wise: a write by
another process meanwhile is never overwritten, doubled or missed (a case's safety conditions
set in the query process decide the aggregator's next breach); a known household is not read
again per batch; erased histories are not carried on from memory."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from eventsourcing.application import project_aggregate
from eventsourcing.persistence import IntegrityError, Tracking

from radar.case import case_id
from radar.household import Household, household_id
from services.database import Database
from services.ledger.application import SignalBatch, SignalLedger
from services.ledger.store import open_ledger
from tests.support.radar_fixtures import FAMILY, OTHER_FAMILY, TRIAGE_UTRECHT, signal

NOW = datetime.now(UTC)
SOURCE = "kafka:signals:0"


@pytest.fixture
def two_ledgers(database: Database) -> Iterator[tuple[SignalLedger, SignalLedger]]:
    """Two processes on one store: an aggregator and (say) the query API or a second one."""
    first, second = open_ledger(database), open_ledger(database)
    yield first, second
    first.close()
    second.close()


def _record(ledger: SignalLedger, offset: int, *signals: Any) -> Any:
    return ledger.record_batch(SignalBatch(list(signals)), Tracking(SOURCE, offset))


def _signal_ids(ledger: SignalLedger, household: str) -> list[str]:
    found = ledger.household(household)
    return sorted(found.signal_types)


def test_a_write_elsewhere_is_caught_up_before_the_next_batch_and_both_are_kept(
    two_ledgers: tuple[SignalLedger, SignalLedger],
) -> None:
    aggregator, other = two_ledgers
    first = signal("domestic_incident", NOW - timedelta(days=3))
    _record(aggregator, 0, first)
    # Another process (the query API) writes the household the aggregator holds in memory.
    other.record_move(FAMILY, "GM0599", (NOW - timedelta(days=2)).date(), TRIAGE_UTRECHT)
    second = signal("school_absence", NOW - timedelta(days=1))
    outcome = _record(aggregator, 1, second)  # applied on the stored state, not the stale copy
    assert (outcome.recorded, outcome.duplicates) == (1, 0)
    assert aggregator.position(SOURCE) == 1
    household = other.household(FAMILY)
    assert sorted(household.signal_types) == sorted([str(first.event_id), str(second.event_id)])
    assert [m.municipality for m in household.moves] == ["GM0599"]  # the move is kept


def test_a_second_aggregator_taking_over_records_each_signal_once(
    two_ledgers: tuple[SignalLedger, SignalLedger],
) -> None:
    """A rebalance: the first aggregator recorded offsets 0-1, the second took the partition
    over and recorded 2, then the partition came back to the first with offset 2 redelivered."""
    first, second = two_ledgers
    signals = [signal("domestic_incident", NOW - timedelta(days=d)) for d in (5, 4, 3, 2)]
    _record(first, 0, signals[0])
    _record(first, 1, signals[1])
    _record(second, 2, signals[2])
    first.forget_cached_aggregates()  # what the consumer does when partitions are revoked
    with pytest.raises(IntegrityError):
        _record(first, 2, signals[2])  # offset 2 is stored: refused as a whole
    outcome = _record(first, 3, signals[2], signals[3])
    assert (outcome.recorded, outcome.duplicates) == (1, 1)
    assert _signal_ids(second, FAMILY) == sorted(str(s.event_id) for s in signals)


def test_known_households_are_not_read_again_and_new_ones_are_kept(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = open_ledger(database)
    try:
        _record(ledger, 0, signal("domestic_incident", NOW - timedelta(days=4)))
        reads: list[Any] = []  # the aggregates read one by one (the store itself answers)
        select = ledger.recorder.select_events

        def counted(*args: Any, **kwargs: Any) -> Any:
            reads.append(kwargs.get("originator_id", args[0] if args else None))
            return select(*args, **kwargs)

        monkeypatch.setattr(ledger.recorder, "select_events", counted)
        for offset, days in enumerate((3, 2, 1), start=1):
            _record(ledger, offset, signal("school_absence", NOW - timedelta(days=days)))
        mine = {household_id(FAMILY), case_id(FAMILY)}
        assert [i for i in reads if i in mine] == []  # no fast-forward, batch after batch
        assert len(ledger.household(FAMILY).signal_types) == 4
    finally:
        ledger.close()


def test_households_read_set_wise_match_those_read_one_by_one(
    database: Database,
) -> None:
    """A fresh aggregator (nothing cached) reads a batch's households at once; what it then
    records is what the one-by-one read would have given, snapshots included."""
    writer = open_ledger(database)
    families = [FAMILY, OTHER_FAMILY]
    offset = 0
    for day in range(105, 0, -1):  # past the snapshot interval of 100 events
        family = families[day % 2] if day > 50 else FAMILY
        writer.record_batch(
            SignalBatch([signal("domestic_incident", NOW - timedelta(days=day), household=family)]),
            Tracking(SOURCE, offset),
        )
        offset += 1
    expected = {f: _state(writer.household(f)) for f in families}
    writer.close()
    fresh = open_ledger(database)
    try:
        batch = [signal("school_absence", NOW, household=f) for f in families]
        assert _record(fresh, offset, *batch).recorded == 2
        for family, before in expected.items():
            after = _state(fresh.household(family))
            assert after["signals"] == before["signals"] + 1
            assert after["persons"] == before["persons"]
            assert after["region"] == before["region"]
    finally:
        fresh.close()


def _state(household: Household) -> dict[str, Any]:
    return {
        "signals": len(household.signal_types),
        "persons": dict(household.persons),
        "region": household.responsible_region,
    }


def test_a_snapshot_taken_from_memory_is_the_household_the_events_rebuild(
    database: Database,
) -> None:
    ledger = open_ledger(database)
    try:
        for offset in range(60):  # two or three events a signal: past version 100
            day = NOW - timedelta(days=90 - offset)
            _record(ledger, offset, signal("domestic_incident", day, severity="moderate"))
        hid = household_id(FAMILY)
        assert ledger.snapshots is not None
        snapshot: Any
        (snapshot,) = ledger.snapshots.get(hid, desc=True, limit=1)
        replayed = project_aggregate(None, ledger.events.get(hid, lte=snapshot.originator_version))
        assert 100 <= snapshot.originator_version <= 103  # taken in the batch that passed 100
        assert snapshot.state == Household.Snapshot.take(replayed).state
    finally:
        ledger.close()
