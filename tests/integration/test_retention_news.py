"""A household that gets a new signal while retention erases it, on real SQLite and PostgreSQL:
the new signal is never lost, and nothing of the erased history comes back with it.

Two processes are at work: retention, and an aggregator (a second ledger on the same
database) that has the household cached, its data key remembered for a few seconds. The
interleavings are made exact by running one at the moment the other reaches a step: the
erasure record written (retention), or the batch's events about to be inserted (aggregator).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from eventsourcing.persistence import Tracking

from privacy.retention import RetentionPolicy
from privacy.storage.vault import IdentityVault
from radar.household import household_id
from services.database import Database
from services.ledger.application import SignalBatch
from services.ledger.store import EncryptedSignalLedger, open_ledger
from services.retention.service import EnforcementReport, enforce
from tests.support.radar_fixtures import FAMILY, SOURCE, signal

NOW = datetime.now(UTC)
YEARS_AGO = NOW - timedelta(days=3 * 365)


@dataclass
class Scene:
    """FAMILY's old signals recorded by the aggregator's ledger (FAMILY cached there), and
    retention's ledger, on one database."""

    database: Database
    aggregator: EncryptedSignalLedger
    retention: EncryptedSignalLedger
    vault: IdentityVault

    def enforce(self, at: datetime = NOW) -> EnforcementReport:
        return enforce(self.retention, [], self.vault, RetentionPolicy.load(), lambda: at)


@pytest.fixture
def scene(database: Database, vault: IdentityVault) -> Iterator[Scene]:
    aggregator, retention = open_ledger(database), open_ledger(database)
    old = signal("zorgmelding", YEARS_AGO, severity="low", received_at=YEARS_AGO)
    aggregator.record_batch(SignalBatch([old]), Tracking(SOURCE, 0))
    yield Scene(database, aggregator, retention, vault)
    aggregator.close()
    retention.close()


def _new_signal(offset: int, ledger: EncryptedSignalLedger) -> str:
    news = signal("domestic_incident", NOW - timedelta(days=1), received_at=NOW)
    ledger.record_batch(SignalBatch([news]), Tracking(SOURCE, offset))
    return str(news.event_id)


def _signals_read_afresh(database: Database) -> set[str]:
    """The signals about FAMILY a process started now reads from the store."""
    fresh = open_ledger(database)
    try:
        return set(fresh.household(FAMILY).signal_types)
    finally:
        fresh.close()


def test_a_signal_recorded_after_the_household_was_found_expired_keeps_the_household_whole(
    scene: Scene, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The aggregator records a signal between retention's scan (the household expired) and
    the destruction of its keys: retention keeps the household, the signal stays readable."""
    aggregator, retention = scene.aggregator, scene.retention
    before = _signals_read_afresh(scene.database)
    begin = retention.erasures.begin
    new: list[str] = []

    def begin_then_a_signal_arrives(started: Any) -> None:
        begin(started)
        new.append(_new_signal(1, aggregator))  # under the key remembered from the old ones

    monkeypatch.setattr(retention.erasures, "begin", begin_then_a_signal_arrives)
    report = scene.enforce()
    assert dict(report.expired) == {}, "no household was erased"
    assert report.events_erased == 0
    assert _signals_read_afresh(scene.database) == before | set(new), "old and new signals readable"
    assert retention.erasures.through_of([str(household_id(FAMILY))]) == {}, "record dropped"
    monkeypatch.undo()
    later = scene.enforce(at=NOW + timedelta(days=1))
    assert dict(later.expired) == {}, "its period starts again from the new signal"


def test_a_batch_sealed_under_a_key_destroyed_before_its_commit_is_written_again_readable(
    scene: Scene, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Retention erases the household after the aggregator sealed a batch about it and
    before the batch commits: the store refuses that batch, and the aggregator writes it
    again on the state after the erasure, under a new key."""
    aggregator = scene.aggregator
    insert = aggregator.recorder.insert_events
    reports: list[EnforcementReport] = []

    def erased_just_before(stored_events: Any, **kwargs: Any) -> Any:
        if not reports:
            reports.append(scene.enforce())
        return insert(stored_events, **kwargs)

    monkeypatch.setattr(aggregator.recorder, "insert_events", erased_just_before)
    new = _new_signal(1, aggregator)
    assert dict(reports[0].expired) == {"signals_without_case": 1}, "the old history erased"
    assert _signals_read_afresh(scene.database) == {new}, "the new signal readable, nothing older"
    assert aggregator.position(SOURCE) == 1


def test_an_aggregator_that_cached_a_household_before_its_erasure_carries_nothing_of_it_on(
    scene: Scene,
) -> None:
    """The household is erased, then another process records a signal about it (a new key);
    the aggregator, which had the household cached with its old key remembered, records the
    next one on the state after the erasure, not on its cached copy of the erased history."""
    assert dict(scene.enforce().expired) == {"signals_without_case": 1}
    elsewhere = open_ledger(scene.database)
    try:
        first = _new_signal(1, elsewhere)
    finally:
        elsewhere.close()
    second = _new_signal(2, scene.aggregator)
    assert _signals_read_afresh(scene.database) == {first, second}
    household = scene.aggregator.household(FAMILY)
    assert set(household.signal_types) == {first, second}
    assert set(household.explained) <= {first, second}, "no erased signal's factors"
