"""The timeline read model stores no pseudonym and no signal id as it is (issue 24 item 5), on
SQLite and PostgreSQL: rows deleted at retention live on in the WAL, replicas and backups, so
what they hold must be digests and values sealed under the household's key. The views still
answer with the pseudonyms and ids; a household whose key was destroyed no longer shows; and a
read model written in the old format (format 1, everything as it is) is rebuilt on open."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.persistence import Tracking
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    MetaData,
    String,
    Table,
    insert,
    inspect,
)

from contracts.signal_v1 import SignalEventV1
from privacy.actors import AnalystRole
from services.database import Database
from services.ledger.application import SignalBatch
from services.ledger.store import open_ledger
from services.projections.positions import positions
from services.projections.projector import Projector
from services.timelines.store import TIMELINE_PROJECTION
from services.timelines.tables import metadata as timeline_tables
from tests.support.inspection import identifiers_found, tables_bytes, timeline_store
from tests.support.radar_fixtures import Harness, radar_query_harness, signal
from tests.support.schema_versions import upgraded_from_before_schema_versions

TABLES = ("timeline_signals", "person_memberships")


def pseudonym(kind: str) -> str:
    return f"{kind}.k1.{uuid.uuid4().hex}"


def ago(days: float) -> datetime:
    return datetime.now(UTC) - timedelta(days=days)


@pytest.fixture
def harness(tmp_path: Path, database: Database) -> Iterator[Harness]:
    yield from radar_query_harness(tmp_path, database)


def _rows_bytes(database: Database) -> bytes:
    """Every value of every row of the timeline tables, as bytes."""
    engine = database.engine()
    try:
        return b"\n".join(tables_bytes(engine, TABLES))
    finally:
        engine.dispose()


def _identifiers(*values: str) -> set[str]:
    """The values, and the random part of each pseudonym alone (found even re-encoded)."""
    return {*values, *(v.rsplit(".", 1)[-1] for v in values)}


def _ids(view: Any) -> list[str]:
    return [s["signal_id"] for s in view["signals"]]


def test_the_tables_hold_no_pseudonym_or_signal_id_and_the_views_still_show_them(
    harness: Harness, database: Database
) -> None:
    home, elsewhere = pseudonym("hh"), pseudonym("hh")
    mother, child, father = pseudonym("p"), pseudonym("p"), pseudonym("p")
    at_home = [
        signal("zorgmelding", ago(100), household=home, children=(child,), adults=(mother,)),
        signal("school_absence", ago(80), household=home, children=(child,), adults=(mother,)),
    ]
    harness.radar.record(*at_home)
    left = harness.post(
        f"/v1/households/{home}/members/{child}/departure",
        {"purpose": "triage", "left_on": ago(60).date().isoformat()},
    )
    assert left.status_code == 200, left.text
    at_father = signal(
        "domestic_incident",
        ago(40),
        household=elsewhere,
        region="VT13",
        adults=(father,),
        children=(child,),
    )
    harness.radar.record(at_father)

    stored = _rows_bytes(database)
    secrets = _identifiers(home, elsewhere, mother, child, father)
    secrets |= {str(s.event_id) for s in (*at_home, at_father)}
    secrets |= {s.event_id.hex for s in (*at_home, at_father)}
    assert stored and identifiers_found(stored, secrets) == []

    timeline = harness.get(f"/v1/households/{home}/timeline", params={"purpose": "triage"})
    assert timeline.status_code == 200, timeline.text
    assert _ids(timeline.json()) == [str(s.event_id) for s in at_home]
    assert {p["pseudonym"] for p in timeline.json()["signals"][0]["persons"]} == {mother, child}
    person = harness.get(
        f"/v1/persons/{child}/timeline", params={"purpose": "triage"}, as_={"region": "VT13"}
    )
    assert person.status_code == 200, person.text
    body = person.json()
    assert [(s["signal_id"], s["household"]) for s in body["signals"]] == [
        *((str(s.event_id), home) for s in at_home),
        (str(at_father.event_id), elsewhere),
    ]
    assert [(m["household"], m["region"], m["until"] is None) for m in body["memberships"]] == [
        (home, "VT09", False),  # the departure found the row by its digests
        (elsewhere, "VT13", True),
    ]


def test_a_household_whose_key_was_destroyed_no_longer_shows_anywhere(harness: Harness) -> None:
    home, elsewhere, child = pseudonym("hh"), pseudonym("hh"), pseudonym("p")
    mine = signal("zorgmelding", ago(30), household=home, children=(child,))
    theirs = signal("zorgmelding", ago(20), household=elsewhere, children=(child,))
    harness.radar.record(mine, theirs)
    store = harness.radar.timelines
    assert [m.household for m in store.memberships(child)] == [home, elsewhere]

    store.sealer.forget_households([elsewhere])  # retention destroys the row key first

    assert store.timeline(elsewhere) == []
    assert [e.signal_id for e in store.person_signals(child)] == [mine.event_id]
    assert [m.household for m in store.memberships(child)] == [home]
    assert set(store.latest_regions()) == {home}
    assert [e.household for e in store.all_entries()] == [home]
    view = harness.get(
        f"/v1/persons/{child}/timeline", AnalystRole.TRIAGE, params={"purpose": "triage"}
    )
    assert _ids(view.json()) == [str(mine.event_id)]


def _format_1_tables(database: Database, events: list[SignalEventV1], position: int) -> None:
    """The timeline tables as the code before digests wrote them, at `position`."""
    old = MetaData()
    signals = Table(
        "timeline_signals",
        old,
        Column("household", String(64), primary_key=True),
        Column("signal_id", String(36), primary_key=True),
        Column("position", BigInteger, nullable=False, index=True),
        Column("organisation", String(64), nullable=False),
        Column("sector", String(32), nullable=False),
        Column("signal_type", String(64), nullable=False),
        Column("severity", String(16), nullable=False),
        Column("occurred_at", DateTime(timezone=True), nullable=False),
        Column("reported_at", DateTime(timezone=True), nullable=False),
        Column("received_at", DateTime(timezone=True), nullable=False),
        Column("region", String(8), nullable=False),
        Column("persons", JSON, nullable=False),
        Column("corrected", Boolean, nullable=False),
    )
    memberships = Table(
        "person_memberships",
        old,
        Column("person", String(64), primary_key=True),
        Column("household", String(64), primary_key=True, index=True),
        Column("since", DateTime(timezone=True), nullable=False),
        Column("until", DateTime(timezone=True), nullable=True),
    )
    engine = database.engine()
    timeline_tables.drop_all(engine)  # the new tables, empty: the old ones take their place
    old.create_all(engine)
    joined: set[tuple[str, str]] = set()
    with engine.begin() as connection:
        for n, event in enumerate(events, start=1):
            connection.execute(
                insert(signals).values(
                    household=event.household,
                    signal_id=str(event.event_id),
                    position=n,
                    organisation=event.organisation,
                    sector=event.sector,
                    signal_type=event.signal_type,
                    severity=event.severity,
                    occurred_at=event.occurred_at,
                    reported_at=event.reported_at,
                    received_at=event.received_at,
                    region=event.region,
                    persons=[[p.pseudonym, str(p.role)] for p in event.persons],
                    corrected=False,
                )
            )
            for person in event.persons:
                if (person.pseudonym, event.household) in joined:
                    continue  # the earliest signal (they are in occurred-at order) made it
                joined.add((person.pseudonym, event.household))
                connection.execute(
                    insert(memberships).values(
                        person=person.pseudonym,
                        household=event.household,
                        since=event.occurred_at,
                        until=None,
                    )
                )
        connection.execute(insert(positions).values(name=TIMELINE_PROJECTION, position=position))
    engine.dispose()


def test_a_read_model_written_before_digests_is_rebuilt_on_open_and_answers_the_same(
    database: Database,
) -> None:
    household, child = pseudonym("hh"), pseudonym("p")
    events = [
        signal("zorgmelding", ago(50), household=household, children=(child,), adults=()),
        signal("school_absence", ago(10), household=household, children=(child,), adults=()),
    ]
    ledger = open_ledger(database)
    try:
        ledger.record_batch(SignalBatch(events), Tracking("kafka:old:0", 0))
        _format_1_tables(database, events, ledger.notifications.last_id())
        upgraded_from_before_schema_versions(database)

        store = timeline_store(database)
        assert store.position() == 0, "an outdated read model is rebuilt from the event store"
        columns = {c["name"] for c in inspect(store.engine).get_columns("timeline_signals")}
        assert "persons" not in columns and "sealed" in columns
        assert identifiers_found(_rows_bytes(database), _identifiers(household, child)) == []

        Projector(ledger, store, batch_size=1).catch_up()
    finally:
        ledger.close()
    assert [e.signal_id for e in store.timeline(household)] == [e.event_id for e in events]
    assert [e.signal_id for e in store.person_signals(child)] == [e.event_id for e in events]
    assert store.household_region(household) == "VT09"
    assert [(m.person, m.household) for m in store.memberships(child)] == [(child, household)]
    assert identifiers_found(_rows_bytes(database), _identifiers(household, child)) == []
    again = timeline_store(database)  # format 2 is recorded: the next open keeps the rows
    assert again.position() == store.position() > 0
    store.engine.dispose()
    again.engine.dispose()
