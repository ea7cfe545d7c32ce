"""Invariants 3 and 4 on real databases: each signal (and each correction or retraction of one)
is recorded once however often it is delivered, batches are tracked by source position, and the
incrementally projected timeline equals a timeline rebuilt from scratch by replaying the event
store; v1 and signal.v2 signals mixed (v2's forms, roles, ages and unborn children included)."""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections import defaultdict
from contextlib import suppress
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from eventsourcing.persistence import IntegrityError, Tracking
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contracts.correction_v1 import CorrectedValues, CorrectionKind, SignalCorrectionV1
from contracts.regions import VtRegion
from contracts.signal_v1 import SignalEventV1
from contracts.signal_v2 import SignalEventV2
from contracts.upcast_v1_v2 import upcast_signal
from contracts.vocabulary import SIGNAL_TYPES, PersonRole, Severity, SignalType
from contracts.vocabulary_v2 import FormOfViolence, PersonRoleV2
from radar.alerts import StaffRef
from radar.household_state import MembershipError, household_role
from radar.timeline import TimelineEntry
from services.database import Database
from services.ledger.application import SignalBatch, SignalLedger, UnknownHouseholdError
from services.ledger.store import open_ledger
from services.projections.projector import Projector, rebuild
from services.timelines.store import TimelineStore

SOURCE = "kafka:t:0"
EPOCH = datetime(2023, 1, 1, tzinfo=UTC)
ZONES = (UTC, timezone(timedelta(hours=2)), timezone(timedelta(hours=-5, minutes=-30)))
ANALYST = StaffRef("a.jansen", "vt-utrecht", "triage", "VT09")
hex32 = st.text(alphabet="0123456789abcdef", min_size=32, max_size=32)


@st.composite
def signal_events(draw: st.DrawFn, households: list[str], persons: list[str]) -> SignalEventV1:
    kind = draw(st.sampled_from(list(SignalType)))
    sector = draw(st.sampled_from(sorted(SIGNAL_TYPES[kind].sectors)))
    zone = draw(st.sampled_from(ZONES))
    occurred = EPOCH + timedelta(
        seconds=draw(st.integers(0, 3 * 365 * 86400)), microseconds=draw(st.integers(0, 999999))
    )
    reported = occurred + timedelta(seconds=draw(st.integers(0, 30 * 86400)))
    received = reported + timedelta(seconds=draw(st.integers(0, 3600)))
    involved = draw(st.lists(st.sampled_from(persons), max_size=3, unique=True))
    return SignalEventV1(
        event_id=draw(st.uuids()),
        organisation=f"org-{sector}".replace("_", "-"),
        sector=sector,
        signal_type=kind,
        severity=draw(st.sampled_from(list(Severity))),
        occurred_at=occurred.astimezone(zone),
        reported_at=reported.astimezone(zone),
        received_at=received.astimezone(zone),
        region=draw(st.sampled_from(list(VtRegion))),
        household=draw(st.sampled_from(households)),
        persons=tuple(
            {"pseudonym": p, "role": draw(st.sampled_from(list(PersonRole)))} for p in involved
        ),
        pseudonym_key_id="k1",
    )


@st.composite
def v1_or_v2_events(
    draw: st.DrawFn, households: list[str], persons: list[str]
) -> SignalEventV1 | SignalEventV2:
    """A v1 signal, or the same as signal.v2 with forms of violence, each person's roles (the
    v1 role among them) and perhaps an age, and perhaps an unborn child of its first person."""
    event = draw(signal_events(households, persons))
    if not draw(st.booleans(), label="v2?"):
        return event
    document = upcast_signal(event).model_dump(mode="json")
    forms = draw(st.lists(st.sampled_from(FormOfViolence), max_size=3, unique=True))
    document["forms_of_violence"] = [str(f) for f in forms]
    for person in document["persons"]:
        more = draw(st.lists(st.sampled_from(PersonRoleV2), max_size=2, unique=True))
        person["roles"] = list(dict.fromkeys([*person["roles"], *map(str, more)]))
        person["age"] = draw(st.none() | st.integers(0, 100))
    if document["persons"] and draw(st.booleans(), label="unborn child?"):
        document["persons"].append(
            {
                "pseudonym": f"pl.k1.{draw(hex32)}",
                "roles": ["child"],
                "unborn_child_of": document["persons"][0]["pseudonym"],
            }
        )
    return SignalEventV2.model_validate(document)


@st.composite
def rectifications(draw: st.DrawFn, original: SignalEventV1 | SignalEventV2) -> SignalCorrectionV1:
    """A retraction, or a correction of the severity and maybe type and occurred-at."""
    retraction = draw(st.integers(0, 3), label="retract?") == 0
    allowed = sorted(k for k, d in SIGNAL_TYPES.items() if original.sector in d.sectors)
    values = CorrectedValues(
        severity=draw(st.sampled_from(list(Severity))),
        signal_type=draw(st.none() | st.sampled_from(allowed)),
        occurred_at=draw(st.none() | st.just(original.occurred_at - timedelta(days=1))),
    )
    return SignalCorrectionV1(
        correction_id=draw(st.uuids()),
        corrects=original.event_id,
        kind=CorrectionKind.RETRACTION if retraction else CorrectionKind.CORRECTION,
        values=None if retraction else values,
        reason="entered wrongly",
        organisation=original.organisation,
        sector=original.sector,
        received_at=datetime.now(UTC),
        household=original.household,
    )


def _assert_entry_matches(
    entry: TimelineEntry, event: SignalEventV1 | SignalEventV2, corrected: CorrectedValues | None
) -> None:
    values = corrected or CorrectedValues()
    assert entry.household == event.household
    assert entry.signal_id == event.event_id
    assert entry.organisation == event.organisation
    assert entry.sector == str(event.sector)
    assert entry.signal_type == str(values.signal_type or event.signal_type)
    assert entry.severity == str(values.severity or event.severity)
    assert entry.occurred_at == (values.occurred_at or event.occurred_at)
    assert entry.corrected == (corrected is not None)
    assert entry.reported_at == event.reported_at
    assert entry.received_at == event.received_at
    assert entry.region == str(event.region)
    v2 = upcast_signal(event)
    assert entry.persons == tuple(
        (p.pseudonym, household_role(map(str, p.roles))) for p in v2.persons
    )
    assert entry.forms_of_violence == tuple(map(str, v2.forms_of_violence))
    assert [(tuple(map(str, p.roles)), p.age, p.unborn_child_of) for p in v2.persons] == [
        (f.roles, f.age, f.unborn_child_of) for f in entry.person_facts()
    ]


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.data())
def test_incremental_timeline_equals_rebuild(data: st.DataObject) -> None:
    households = [
        f"hh.k1.{digest}"
        for digest in data.draw(st.lists(hex32, min_size=1, max_size=4, unique=True))
    ]
    persons = [f"p.k1.{digest}" for digest in data.draw(st.lists(hex32, max_size=4, unique=True))]
    new_events = v1_or_v2_events(households, persons or ["p.k1." + "0" * 32])

    delivered: list[SignalEventV1 | SignalEventV2 | SignalCorrectionV1] = []
    first_seen: dict[uuid.UUID, SignalEventV1 | SignalEventV2] = {}
    # What each correction should leave: the values shown (merged) and what was retracted.
    corrected: dict[uuid.UUID, CorrectedValues] = {}
    retracted: set[uuid.UUID] = set()
    applied: set[uuid.UUID] = set()
    corrections = uncorrectable = 0
    for _ in range(data.draw(st.integers(1, 25), label="deliveries")):
        choice = data.draw(st.integers(0, 6), label="redeliver, rectify or new?")
        if delivered and choice == 0:
            item = data.draw(st.sampled_from(delivered), label="redelivered")
        elif first_seen and choice == 1:
            target = data.draw(st.sampled_from(sorted(first_seen)), label="rectified")
            item = data.draw(rectifications(first_seen[target]))
        else:
            item = data.draw(new_events.filter(lambda e: e.event_id not in first_seen))
            first_seen[item.event_id] = item
        delivered.append(item)
        if not isinstance(item, SignalCorrectionV1) or item.correction_id in applied:
            continue
        if item.corrects in retracted:
            uncorrectable += 1
            continue
        applied.add(item.correction_id)
        corrections += 1
        if item.kind == CorrectionKind.RETRACTION:
            retracted.add(item.corrects)
        else:
            assert item.values is not None
            earlier = corrected.get(item.corrects, CorrectedValues()).changes()
            corrected[item.corrects] = CorrectedValues(**{**earlier, **item.values.changes()})

    workdir = Path(tempfile.mkdtemp(prefix="radar-prop-"))
    database = Database(f"sqlite:///{workdir / 'radar.db'}")
    rebuilt_database = Database(f"sqlite:///{workdir / 'rebuilt.db'}")
    ledger = open_ledger(database)
    engine, rebuilt_engine = database.engine(), rebuilt_database.engine()
    try:
        store = TimelineStore(engine)
        projector = Projector(ledger, store, batch_size=data.draw(st.integers(1, 5)))
        offset = -1
        recorded = duplicates = rectified = skipped = 0
        remaining = list(delivered)
        while remaining:
            size = data.draw(st.integers(1, len(remaining)), label="batch size")
            batch, remaining = remaining[:size], remaining[size:]
            offset += data.draw(st.integers(1, 3), label="offset step")
            outcome = ledger.record_batch(
                SignalBatch(batch),  # type: ignore[arg-type]  # the ledger records v2 too
                Tracking(SOURCE, offset),
            )
            recorded += outcome.recorded
            duplicates += outcome.duplicates
            rectified += outcome.corrected
            skipped += len(outcome.uncorrectable)
            assert sum(
                (
                    outcome.recorded,
                    outcome.duplicates,
                    outcome.corrected,
                    len(outcome.uncorrectable),
                )
            ) == len(batch)
            if data.draw(st.integers(0, 2), label="departure?") == 0:
                _try_departure(ledger, data, households, persons)
            for _ in range(data.draw(st.integers(0, 2), label="projector steps")):
                projector.step()

        assert recorded == len(first_seen)
        assert (rectified, skipped) == (corrections, uncorrectable)
        assert duplicates == len(delivered) - len(first_seen) - corrections - uncorrectable
        assert ledger.position(SOURCE) == offset

        projector.catch_up()
        rebuilt = TimelineStore(rebuilt_engine)
        rebuild(ledger, rebuilt, 1000)
        live_entries = store.all_entries()
        assert store.dump() == rebuilt.dump()
        assert store.position() == rebuilt.position()
        assert len(live_entries) == len(first_seen) - len(retracted)
        earliest: dict[tuple[str, str], datetime] = {}
        for event in first_seen.values():
            for person in event.persons:
                key = (person.pseudonym, event.household)
                earliest[key] = min(earliest.get(key, event.occurred_at), event.occurred_at)
        assert {(m.person, m.household): m.since for m in store.all_memberships()} == earliest

        expected: dict[str, set[uuid.UUID]] = defaultdict(set)
        for event in first_seen.values():
            if event.event_id not in retracted:
                expected[event.household].add(event.event_id)
        for household in households:
            timeline = store.timeline(household)
            ids = [entry.signal_id for entry in timeline]
            assert len(ids) == len(set(ids))
            assert set(ids) == expected[household]
            occurred = [entry.occurred_at for entry in timeline]
            assert occurred == sorted(occurred)
            for entry in timeline:
                _assert_entry_matches(
                    entry, first_seen[entry.signal_id], corrected.get(entry.signal_id)
                )
    finally:
        ledger.close()
        engine.dispose()
        rebuilt_engine.dispose()
        shutil.rmtree(workdir, ignore_errors=True)


def _try_departure(
    ledger: SignalLedger, data: st.DataObject, households: list[str], persons: list[str]
) -> None:
    """An analyst records a departure, between batches; the domain may refuse it."""
    if not persons:
        return
    with suppress(UnknownHouseholdError, MembershipError):  # refused: nothing recorded
        ledger.record_departure(
            data.draw(st.sampled_from(households), label="left household"),
            data.draw(st.sampled_from(persons), label="leaving person"),
            (EPOCH + timedelta(days=data.draw(st.integers(0, 3 * 365)))).date(),
            ANALYST,
            now=EPOCH + timedelta(days=4 * 365),
        )


# --- the same rules on SQLite and PostgreSQL ----------------------------------------------------

HOUSEHOLDS = [f"hh.k1.{n:032x}" for n in (1, 2, 3)]


def _event(number: int, household: str, day: int) -> SignalEventV1:
    occurred = EPOCH + timedelta(days=day)
    return SignalEventV1(
        event_id=uuid.UUID(int=number),
        organisation="politie-midden",
        sector="police",
        signal_type="zorgmelding",
        severity="moderate",
        occurred_at=occurred,
        reported_at=occurred + timedelta(hours=1),
        received_at=occurred + timedelta(hours=2),
        region="VT09",
        household=household,
        pseudonym_key_id="k1",
    )


def _entry_count(ledger: SignalLedger, store: TimelineStore) -> int:
    Projector(ledger, store, batch_size=2).catch_up()
    return len(store.all_entries())


def test_redelivery_and_duplicates(database: Database) -> None:
    ledger = open_ledger(database)
    engine = database.engine()
    try:
        store = TimelineStore(engine)
        first = [_event(1, HOUSEHOLDS[0], 5), _event(2, HOUSEHOLDS[1], 1)]
        second = [_event(3, HOUSEHOLDS[0], 2), _event(4, HOUSEHOLDS[2], 3)]
        third = [_event(5, HOUSEHOLDS[1], 4)]
        for offset, batch in [(10, first), (11, second), (12, third)]:
            outcome = ledger.record_batch(SignalBatch(batch), Tracking(SOURCE, offset))
            assert (outcome.recorded, outcome.duplicates) == (len(batch), 0)
        assert ledger.position(SOURCE) == 12
        assert _entry_count(ledger, store) == 5
        notification_position = store.position()
        newest = ledger.notifications.last_id()

        # A batch redelivered at a position not beyond the stored one is refused as a whole,
        # even when it carries a signal not seen before.
        unseen = _event(6, HOUSEHOLDS[2], 6)
        for stale_offset in (11, 12):
            with pytest.raises(IntegrityError):
                ledger.record_batch(SignalBatch([*second, unseen]), Tracking(SOURCE, stale_offset))
        assert ledger.position(SOURCE) == 12
        assert _entry_count(ledger, store) == 5
        assert store.position() == notification_position
        assert ledger.notifications.last_id() == newest  # not even a score was recorded

        # Delivered again at a later position: the old signal is a duplicate, the refused new
        # one is recorded now (the refused attempt left nothing behind, not even in caches).
        outcome = ledger.record_batch(SignalBatch([second[0], unseen]), Tracking(SOURCE, 13))
        assert (outcome.recorded, outcome.duplicates) == (1, 1)
        outcome = ledger.record_batch(SignalBatch([third[0], third[0]]), Tracking(SOURCE, 14))
        assert (outcome.recorded, outcome.duplicates) == (0, 2)
        assert ledger.position(SOURCE) == 14
        assert _entry_count(ledger, store) == 6

        ids = [entry.signal_id for entry in store.all_entries()]
        assert sorted(ids) == [uuid.UUID(int=n) for n in range(1, 7)]
        timeline = store.timeline(HOUSEHOLDS[0])
        assert [entry.signal_id for entry in timeline] == [uuid.UUID(int=3), uuid.UUID(int=1)]
        assert [entry.signal_id for entry in store.timeline(HOUSEHOLDS[2])] == [
            uuid.UUID(int=4),
            uuid.UUID(int=6),
        ]
        assert ledger.position("kafka:t:1") is None
    finally:
        ledger.close()
        engine.dispose()


def test_positions_are_tracked_per_source(database: Database) -> None:
    ledger = open_ledger(database)
    try:
        ledger.record_batch(SignalBatch([_event(1, HOUSEHOLDS[0], 1)]), Tracking("kafka:t:0", 7))
        ledger.record_batch(SignalBatch([_event(2, HOUSEHOLDS[0], 2)]), Tracking("kafka:t:1", 0))
        assert ledger.position("kafka:t:0") == 7
        assert ledger.position("kafka:t:1") == 0
        with pytest.raises(IntegrityError):
            ledger.record_batch(
                SignalBatch([_event(3, HOUSEHOLDS[1], 3)]), Tracking("kafka:t:1", 0)
            )
        ledger.record_batch(SignalBatch([_event(3, HOUSEHOLDS[1], 3)]), Tracking("kafka:t:1", 1))
        assert ledger.position("kafka:t:1") == 1
    finally:
        ledger.close()


def test_event_id_reused_for_another_household_does_not_halt_projection(
    sqlite_database: Database,
) -> None:
    ledger = open_ledger(sqlite_database)
    engine = sqlite_database.engine()
    try:
        store = TimelineStore(engine)
        original = _event(1, HOUSEHOLDS[0], 1)
        reused = original.model_copy(update={"household": HOUSEHOLDS[1]})
        ledger.record_batch(SignalBatch([original]), Tracking(SOURCE, 0))
        ledger.record_batch(SignalBatch([reused]), Tracking(SOURCE, 1))
        ledger.record_batch(SignalBatch([_event(2, HOUSEHOLDS[2], 2)]), Tracking(SOURCE, 2))
        Projector(ledger, store, batch_size=10).catch_up()
        assert uuid.UUID(int=2) in {entry.signal_id for entry in store.all_entries()}
    finally:
        ledger.close()
        engine.dispose()
