"""Data written by an earlier version still reads: a store written by the layout before the
restructure (tests/fixtures/store-v0, made at commit 7d84e54) replays, with today's code, to
the same timelines, scores and read models, and its stored event topics are still ours. Its
signals, those of the previous release's store (release-stop14) and the v1 records of the
signals topic (signal-v1-records) read as SignalRecorded version 2 would: no form, one role, no
age, (version 3) no reporter, counted as not known in the CBS tables, and (version 4) no OM
decision."""

from __future__ import annotations

import json
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.persistence import Tracking
from eventsourcing.utils import get_topic
from kafka import KafkaAdminClient
from sqlalchemy import select

from contracts.signal_v1 import SignalEventV1
from contracts.upcast_v1_v2 import upcast_signal
from radar.cbs_tables import DIMENSIONS, NOT_KNOWN, note_categories
from radar.household import Household
from radar.risk import assess
from radar.statistics_history import StatisticsHistory
from services.casework.monitoring_store import SafetyStore
from services.casework.store import WorklistStore
from services.database import Database
from services.ledger.application import SignalBatch, SignalLedger
from services.ledger.store import open_ledger
from services.projections.projector import rebuild
from services.schema.migrate import upgrade_database
from services.timelines.store import TimelineStore
from tests.support.aggregating import TopicRecord, aggregating, stored_events

FIXTURES = Path(__file__).parent.parent / "fixtures"


def _plain(value: Any) -> Any:
    """The JSON form the fixture was written in."""
    return json.loads(json.dumps(value, default=_default, sort_keys=True))


def _as_before(dump: dict[str, list[Any]]) -> Any:
    """A timeline dump in the fixture's form: its v1 signals carry none of signal.v2's facts
    (forms of violence, person facts) and none is found unfounded (issue 17), which the
    fixture's code did not have."""
    entries = dump["timeline_signals"]
    assert all(not e.forms_of_violence and not e.facts and not e.unfounded for e in entries)
    v2_fields = ", forms_of_violence=(), facts=(), unfounded=False)"
    plain = _plain(dump)
    plain["timeline_signals"] = [repr(e).replace(v2_fields, ")") for e in entries]
    return plain


def _v1_record_as_v2(record: dict[str, Any]) -> dict[str, Any]:
    """A v1 signal's record as today's code shows it: no form, each person's one role."""
    persons = [p | {"roles": [p["role"]]} for p in record["persons"]]
    return record | {"forms_of_violence": [], "persons": persons}


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, set | tuple):
        return sorted(value)
    return str(value)


@pytest.fixture
def old_store(store_v0: tuple[Database, dict[str, Any]]) -> Any:
    database, expected = store_v0
    ledger = open_ledger(database)
    yield database, ledger, expected
    ledger.close()


def test_a_store_written_before_the_restructure_rebuilds_to_the_same_read_models(
    old_store: tuple[Database, SignalLedger, dict[str, Any]],
) -> None:
    database, ledger, expected = old_store
    engine = database.engine()
    stores = {
        "timelines": TimelineStore(engine),
        "worklist": WorklistStore(engine),
        "monitoring": SafetyStore(engine),
    }
    # written in format 1 (pseudonyms and ids as they are): dropped and rebuilt on open
    assert stores["timelines"].position() == 0
    for name, store in stores.items():
        rebuild(ledger, store, batch_size=13)
        dump = store.dump()
        shown = _as_before(dump) if name == "timelines" else _plain(dump)
        assert shown == expected["read_models"][name], name
    timelines = stores["timelines"]
    # the old store's timeline (rebuilt by a swap) checkpointed and recovered: as it was
    timelines.take_checkpoint()
    assert timelines.recover(ledger, 13) == 0
    assert _as_before(timelines.dump()) == expected["read_models"]["timelines"]
    for pseudonym, seen in expected["households"].items():
        household = ledger.household(pseudonym)
        assessment = household.latest_assessment()
        assert assessment is not None
        assert household.version == seen["version"]
        assert sorted(household.signal_types) == seen["signals"]
        assert household.responsible_region == seen["responsible_region"]
        assert str(assessment.score) == seen["score"]
        assert assessment.model_version == seen["model_version"]
        assert _plain(timelines.household_records(pseudonym)) == [
            _v1_record_as_v2(r) for r in seen["timeline"]
        ]
    with engine.connect() as connection:
        rows = [
            repr(tuple(row))
            for table in TimelineStore.tables.sorted_tables
            for row in connection.execute(select(table))
        ]
    assert not [p for p in expected["households"] if any(p in row for row in rows)]
    engine.dispose()


def test_the_stored_event_topics_still_name_our_event_classes(
    old_store: tuple[Database, SignalLedger, dict[str, Any]],
) -> None:
    _database, ledger, expected = old_store
    stored = ledger.notifications.after(0, limit=10_000)
    assert sorted({n.topic for n in stored}) == expected["topics"]
    # every stored event maps to a class of today's code (and none was erased)
    assert len(ledger.notifications.readable(stored)) == len(stored)


def _assert_signals_read_as_version_2(ledger: SignalLedger) -> int:
    """Every stored SignalRecorded reads with what v1 could say and nothing more (upcast to
    today's version 4: no reporter said either, so the CBS tables count it as not known, nor an
    OM decision); returns how many there are."""
    recorded = [
        event
        for _id, event in ledger.notifications.all_readable([get_topic(Household.SignalRecorded)])
    ]
    sector = next(d for d in DIMENSIONS if d.name == "sector")
    notes = StatisticsHistory().apply_all(recorded).households.values()
    assert {note_categories(sector, n) for h in notes for n in h.signals.values()} <= {(NOT_KNOWN,)}
    for event in recorded:
        assert event.class_version == 4 and event.forms_of_violence == []
        assert event.reported_by is None and event.prosecution is None
        for person in event.persons:
            assert person["roles"] == [person["role"]]
            assert person["age"] is person["unborn_child_of"] is person["local_pseudonym"] is None
    return len(recorded)


def _assert_households_score_as_recorded(ledger: SignalLedger) -> None:
    """Each household's recorded score is what its replayed signals give under the model."""
    model = ledger.model_in_force()
    for household in ledger.households():
        recorded = household.latest_assessment()
        assert recorded is not None
        assert recorded == assess(household.signal_facts(), model, recorded.as_of)


def test_the_old_stores_signals_read_as_version_2_and_score_as_recorded(
    old_store: tuple[Database, SignalLedger, dict[str, Any]], tmp_path: Path
) -> None:
    _database, ledger, _expected = old_store
    assert _assert_signals_read_as_version_2(ledger) >= 110
    _assert_households_score_as_recorded(ledger)
    copy = tmp_path / "release"
    shutil.copytree(FIXTURES / "release-stop14" / "sqlite", copy)
    release = Database(f"sqlite:///{copy / 'radar.db'}", copy / "keys")
    upgrade_database(release)
    released = open_ledger(release)
    try:
        assert _assert_signals_read_as_version_2(released) > 0
        _assert_households_score_as_recorded(released)
    finally:
        released.close()


def test_v1_records_of_the_signals_topic_record_as_their_upcasts_would(
    sqlite_database: Database, empty_database: Database, topic: str, kafka_admin: KafkaAdminClient
) -> None:
    """The records main's v1 ingest wrote (tests/fixtures/signal-v1-records), consumed by the
    aggregator, against their upcasts recorded in another store: the same events and scores."""
    lines = (FIXTURES / "signal-v1-records" / "records.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in lines]
    consumed, upcast = open_ledger(sqlite_database), open_ledger(empty_database)
    try:
        with aggregating(consumed, topic, kafka_admin, max_records=1) as member:
            member.send(
                [
                    TopicRecord(r["key"].encode(), r["value"].encode(), r["headers"]["schema"])
                    for r in records
                ]
            )
            member.catch_up()
            assert member.aggregator.recorded == len(records)
        signals = [SignalEventV1.model_validate_json(r["value"]) for r in records]
        for offset, signal in enumerate(signals):  # one a batch, as the aggregator had them
            upcast.record_batch(SignalBatch([upcast_signal(signal)]), Tracking("test:0", offset))
        assert _assert_signals_read_as_version_2(consumed) == len(records)
        households = {r["key"] for r in records}
        assert len(households) == 4
        for household in households:
            for kind in (Household.SignalRecorded, Household.ScoreChanged):
                assert stored_events(consumed, household, kind) == stored_events(
                    upcast, household, kind
                ), kind.__name__
    finally:
        consumed.close()
        upcast.close()
