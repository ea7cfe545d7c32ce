"""Retention erasing a household while the read models are busy with its events, on real SQLite
and PostgreSQL: whatever a projector or a rebuild read before the erasure never comes back
after it, and a run cut short is finished by the next one.

The interleaving is made exact by letting retention run at the moment the read model has
decoded a page of the log and not yet written it (the notification log's `readable`, the only
place a reader gets events from): what a busy projector on another process would see.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from eventsourcing.persistence import Tracking
from sqlalchemy import insert, text
from sqlalchemy.exc import OperationalError

from privacy.retention import RetentionPolicy
from privacy.storage.erasure_records import erased_places, erasures
from privacy.storage.vault import IdentityVault
from radar.household import household_id
from services.database import Database
from services.feedback.store import FeedbackStore
from services.ledger.application import SignalBatch
from services.ledger.store import open_ledger
from services.projections.positions import PositionedTables
from services.projections.projector import Projector, rebuild
from services.retention.service import EnforcementReport, enforce
from services.timelines import store as timeline_store
from tests.support.inspection import database_bytes
from tests.support.radar_fixtures import FAMILY, OTHER_FAMILY, SOURCE, Radar, signal

NOW = datetime.now(UTC)
YEARS_AGO = NOW - timedelta(days=3 * 365)
OLD_CHILD, NEW_CHILD = "p.k1." + "a" * 32, "p.k1." + "b" * 32


@pytest.fixture
def radar(database: Database) -> Iterator[Radar]:
    radar = Radar(database)
    yield radar
    radar.close()


def _record_without_projecting(radar: Radar) -> None:
    """Two old signals about FAMILY (no alert: the shorter period, long over) and a recent
    one about OTHER_FAMILY, in the event store; no read model has seen them yet."""
    old = [
        signal("zorgmelding", at, severity="low", children=(OLD_CHILD,), received_at=at)
        for at in (YEARS_AGO - timedelta(days=30), YEARS_AGO)
    ]
    recent = signal(
        "domestic_incident", NOW - timedelta(days=10), household=OTHER_FAMILY,
        children=(NEW_CHILD,),
    )  # fmt: skip
    radar.ledger.record_batch(SignalBatch([*old, recent]), Tracking(SOURCE, 0))


def _models(radar: Radar) -> list[PositionedTables]:
    engine = radar.timelines.engine
    return [
        radar.timelines,
        radar.worklist,
        radar.monitoring,
        FeedbackStore(engine, radar.timelines.sealer),
    ]


def _erasing_after_read(
    radar: Radar, monkeypatch: pytest.MonkeyPatch, erase: Callable[[], Any], at_read: int
) -> None:
    """Runs `erase` once, right after the `at_read`-th page of the log was decoded."""
    log = radar.ledger.notifications
    decode = log.readable
    reads = [0]

    def readable(notifications: Any) -> list[tuple[int, Any]]:
        events = decode(notifications)
        reads[0] += 1
        if reads[0] == at_read:
            erase()
        return events

    monkeypatch.setattr(log, "readable", readable)


def _enforce(radar: Radar, vault: IdentityVault) -> Callable[[], EnforcementReport]:
    def run() -> EnforcementReport:
        report = enforce(radar.ledger, _models(radar), vault, RetentionPolicy.load(), lambda: NOW)
        assert dict(report.expired) == {"signals_without_case": 1}
        return report

    return run


def _assert_erased_and_other_kept(radar: Radar, models: Sequence[PositionedTables]) -> None:
    assert [m.name for m in models if m.count_households([FAMILY])] == [], "no row came back"
    assert radar.timelines.count_households([OTHER_FAMILY]) > 0, "the other household is kept"
    held = {entry.household for entry in radar.timelines.occurred_between()}
    assert held == {OTHER_FAMILY}
    assert [Projector(radar.ledger, m, 100).step() for m in models] == [0] * len(models), (
        "every read model moved past the erased events"
    )


@pytest.mark.parametrize("at_read", [1, 2])
def test_a_projector_that_read_a_household_before_its_erasure_does_not_write_it_back(
    radar: Radar, vault: IdentityVault, monkeypatch: pytest.MonkeyPatch, at_read: int
) -> None:
    _record_without_projecting(radar)
    _erasing_after_read(radar, monkeypatch, _enforce(radar, vault), at_read)
    models = _models(radar)
    for model in models:  # the first decoded page of the first read model races the erasure
        Projector(radar.ledger, model, batch_size=3).catch_up()
    _assert_erased_and_other_kept(radar, models)


@pytest.mark.parametrize("at_read", [1, 2])
def test_a_timeline_rebuild_that_loaded_a_household_before_its_erasure_swaps_in_without_it(
    radar: Radar, vault: IdentityVault, monkeypatch: pytest.MonkeyPatch, at_read: int
) -> None:
    """At the first page the erasure comes before the household is loaded; at the second,
    after it was loaded into the fresh tables, which are then swapped in."""
    _record_without_projecting(radar)
    models = _models(radar)
    for model in models[1:]:
        Projector(radar.ledger, model, batch_size=100).catch_up()
    monkeypatch.setattr(timeline_store, "BUILD_BATCH_EVENTS", 2)
    _erasing_after_read(radar, monkeypatch, _enforce(radar, vault), at_read)
    assert radar.timelines.position() == 0, "the live timeline holds nothing yet"
    rebuild(radar.ledger, radar.timelines, batch_size=2)
    _assert_erased_and_other_kept(radar, models)


def test_an_erasure_cut_short_after_the_keys_went_is_finished_by_the_next_run(
    radar: Radar, vault: IdentityVault, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    _record_without_projecting(radar)
    models = _models(radar)
    for model in models:
        Projector(radar.ledger, model, batch_size=100).catch_up()
    assert radar.timelines.count_households([FAMILY]) > 0

    def crash(_households: Sequence[str]) -> int:
        raise OSError("the disk went away")

    with monkeypatch.context() as cut:
        cut.setattr(radar.worklist, "forget_households", crash)
        with pytest.raises(OSError):
            _enforce(radar, vault)()
    assert radar.ledger.erasures.unfinished() == [FAMILY], "the record keeps it, wrapped"
    assert FAMILY.encode() not in database_bytes(database), "never in clear"
    assert radar.worklist.count_households([FAMILY]) > 0, "left behind by the cut"

    ledger = open_ledger(database)  # the next run: a process of its own, as `radar retention`
    try:
        report = enforce(ledger, models, vault, RetentionPolicy.load(), lambda: NOW)
        assert dict(report.expired) == {}, "its events no longer read: only the record knew it"
        assert report.rows_purged > 0
        assert ledger.erasures.unfinished() == []
    finally:
        ledger.close()
    _assert_erased_and_other_kept(radar, models)


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
def test_on_postgresql_an_erasure_waits_for_a_read_model_that_is_past_its_check(
    radar: Radar,
) -> None:
    """A read model's batch holds the records in SHARE mode from its check to its commit, so
    an erasure recorded meanwhile comes after the batch (and its purge removes the batch's
    rows); once the batch has committed, the record goes in and the next check sees it."""
    engine = radar.timelines.engine
    place = (str(household_id(FAMILY)), 1)
    record = insert(erasures).values(subject=place[0], through_version=3, erased_at=NOW)
    with engine.begin() as batch:
        assert erased_places(batch, [place]) == set()
        with pytest.raises(OperationalError, match="lock timeout"), engine.begin() as retention:
            retention.execute(text("SET LOCAL lock_timeout = '200ms'"))
            retention.execute(record)
    with engine.begin() as retention:
        retention.execute(record)
    with engine.begin() as batch:
        assert erased_places(batch, [place]) == {place}
