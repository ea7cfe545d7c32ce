"""A rebuild loads the timeline in bulk (big batches: COPY on PostgreSQL, one executemany on
SQLite; memberships found by (person, household) pair and moved earlier in one statement); it
must answer exactly as the projector that followed the same events one by one: the same rows,
the same memberships and periods, the same timelines, on both databases."""

from __future__ import annotations

import random
import uuid
from contextlib import suppress
from datetime import UTC, datetime, timedelta

import pytest
from eventsourcing.persistence import Tracking

from contracts.correction_v1 import CorrectedValues, CorrectionKind, SignalCorrectionV1
from contracts.signal_v1 import SignalEventV1
from radar.alerts import StaffRef
from radar.household_state import MembershipError
from services.casework.store import WorklistStore
from services.database import Database
from services.ledger.application import SignalBatch, SignalLedger
from services.ledger.steps import UnknownHouseholdError
from services.ledger.store import open_ledger
from services.projections.bulk import COPY_FROM_ROWS
from services.projections.projector import Projector, rebuild
from services.projections.read_model import PositionMovedError
from services.timelines import store as timeline_store
from services.timelines.store import TimelineStore

SOURCE = "kafka:t:0"
EPOCH = datetime(2024, 1, 1, tzinfo=UTC)
ANALYST = StaffRef("a.jansen", "vt-utrecht", "triage", "VT09")
HOUSEHOLDS = [f"hh.k1.{n:032x}" for n in range(1, 31)]
PERSONS = [f"p.k1.{n:032x}" for n in range(1, 41)]
SIGNALS = 400  # several times COPY_FROM_ROWS: the rebuild's batches take the COPY path


def _signal(rng: random.Random, number: int) -> SignalEventV1:
    """A police signal at a random household naming up to three random persons, occurring at a
    random day: signals arrive out of order, so memberships must move earlier."""
    occurred = EPOCH + timedelta(days=rng.randrange(700), seconds=rng.randrange(86400))
    return SignalEventV1(
        event_id=uuid.UUID(int=number),
        organisation="politie-midden",
        sector="police",
        signal_type="zorgmelding",
        severity=rng.choice(["low", "moderate", "high"]),
        occurred_at=occurred,
        reported_at=occurred + timedelta(hours=1),
        received_at=occurred + timedelta(hours=2),
        region="VT09",
        household=rng.choice(HOUSEHOLDS),
        persons=tuple(
            {"pseudonym": p, "role": "child"} for p in rng.sample(PERSONS, rng.randrange(4))
        ),
        pseudonym_key_id="k1",
    )


def _rectification(rng: random.Random, original: SignalEventV1) -> SignalCorrectionV1:
    """A retraction, or a correction of the severity, of an earlier signal."""
    retraction = rng.random() < 0.3
    return SignalCorrectionV1(
        correction_id=uuid.UUID(int=rng.getrandbits(128)),
        corrects=original.event_id,
        kind=CorrectionKind.RETRACTION if retraction else CorrectionKind.CORRECTION,
        values=None if retraction else CorrectedValues(severity="high"),
        reason="entered wrongly",
        organisation=original.organisation,
        sector=original.sector,
        received_at=datetime.now(UTC),
        household=original.household,
    )


def record_history(ledger: SignalLedger, rng: random.Random, later: int = 0) -> None:
    """The signals in Kafka-sized batches, with corrections, retractions and departures; a
    `later` history (1, 2, ...) comes after the first: other signals, later offsets."""
    signals = [_signal(rng, later * SIGNALS + n) for n in range(1, SIGNALS + 1)]
    for offset, start in enumerate(range(0, SIGNALS, 25), start=later * SIGNALS):
        batch: list[SignalEventV1 | SignalCorrectionV1] = list(signals[start : start + 25])
        batch += [_rectification(rng, s) for s in rng.sample(signals[: start + 25], 2)]
        ledger.record_batch(SignalBatch(batch), Tracking(SOURCE, offset))
        with suppress(MembershipError, UnknownHouseholdError):  # named there, or no departure
            ledger.record_departure(
                rng.choice(HOUSEHOLDS),
                rng.choice(PERSONS),
                (EPOCH + timedelta(days=rng.randrange(700))).date(),
                ANALYST,
                now=EPOCH + timedelta(days=800),
            )


def test_bulk_rebuild_equals_projection_event_by_event(
    database: Database, empty_database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a batch's memberships are looked up a few pairs per query here, to cover the chunking
    monkeypatch.setattr(timeline_store, "PAIRS_PER_QUERY", 7)
    ledger = open_ledger(database)
    engine, rebuilt_engine = database.engine(), empty_database.engine()
    try:
        record_history(ledger, random.Random(15))
        live = TimelineStore(engine)
        Projector(ledger, live, batch_size=1).catch_up()
        rebuilt = TimelineStore(rebuilt_engine)
        covered = rebuild(ledger, rebuilt, 1000)

        assert covered > 2 * COPY_FROM_ROWS
        assert rebuilt.position() == live.position()
        assert rebuilt.dump() == live.dump()
        moved = [m for m in live.all_memberships() if m.until is not None]
        assert moved, "some departures were recorded and shown"
        for household in HOUSEHOLDS:
            assert rebuilt.household_records(household, earlier_addresses=True) == (
                live.household_records(household, earlier_addresses=True)
            )
        # rebuilt twice (reset, then the bulk load again): still the same answers
        rebuild(ledger, rebuilt, 1000)
        assert rebuilt.dump() == live.dump()

        # the worklist's score rows, written once per household per batch, likewise
        live_worklist, rebuilt_worklist = WorklistStore(engine), WorklistStore(rebuilt_engine)
        Projector(ledger, live_worklist, batch_size=1).catch_up()
        rebuild(ledger, rebuilt_worklist, 1000)
        scores = live_worklist.dump()["household_scores"]
        assert len(scores) == len({h for h in HOUSEHOLDS if live.timeline(h) or live.members(h)})
        assert live_worklist.dump()["alerts"], "some scores raised alerts"
        assert rebuilt_worklist.dump() == live_worklist.dump()
        for household in HOUSEHOLDS:
            assert rebuilt_worklist.household_score(household) == (
                live_worklist.household_score(household)
            )
    finally:
        ledger.close()
        engine.dispose()
        rebuilt_engine.dispose()


def test_a_twin_projector_behind_the_position_writes_nothing(database: Database) -> None:
    """Two projectors that read the same position: the one that commits second finds the
    position moved before it writes a row (its whole batch is rolled back), for the timeline's
    bulk writes and the worklist's batched score rows alike."""
    ledger = open_ledger(database)
    engine = database.engine()
    try:
        record_history(ledger, random.Random(21))
        for make in (TimelineStore, WorklistStore):
            first, twin = make(engine), make(engine)
            notifications = ledger.notifications.after(0, 1000, first.topics)
            events = ledger.notifications.readable(notifications)
            first.apply_events(events, expected=0, new_position=notifications[-1].id)
            applied = first.dump()
            with pytest.raises(PositionMovedError):
                twin.apply_events(events, expected=0, new_position=notifications[-1].id)
            assert twin.dump() == applied
            assert twin.position() == notifications[-1].id
    finally:
        ledger.close()
        engine.dispose()
