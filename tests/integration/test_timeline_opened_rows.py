"""The timeline keeps the rows it opened for the next query (services/timelines/opened.py), on
SQLite and PostgreSQL: a timeline read again is the same, a correction or a retraction shows
in the very next read, and a household whose row key retention destroyed shows no more,
though its rows were opened (and kept) moments before."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from contracts.correction_v1 import CorrectedValues, CorrectionKind, SignalCorrectionV1
from contracts.signal_v1 import SignalEventV1
from services.database import Database
from tests.support.radar_fixtures import FAMILY, NOW, Radar, days_ago, signal


@pytest.fixture
def radar(database: Database) -> Iterator[Radar]:
    radar = Radar(database)
    yield radar
    radar.close()


def _rectify(original: SignalEventV1, kind: CorrectionKind, **values: str) -> SignalCorrectionV1:
    return SignalCorrectionV1(
        correction_id=uuid.uuid4(),
        corrects=original.event_id,
        kind=kind,
        values=CorrectedValues(**values) if kind == CorrectionKind.CORRECTION else None,  # type: ignore[arg-type]
        reason="entered against the wrong incident report",
        organisation=original.organisation,
        sector=original.sector,
        received_at=NOW,
        household=original.first_known_household(),
    )


def test_a_timeline_read_again_shows_each_change_at_once(radar: Radar) -> None:
    police = signal("zorgmelding", days_ago(30), severity="acute")
    school = signal("school_absence", days_ago(16), severity="moderate")
    radar.record(police, school)
    store = radar.timelines
    first = store.timeline(FAMILY)
    assert store.timeline(FAMILY) == first  # from the opened rows: the same answer
    assert [e.signal_id for e in first] == [police.event_id, school.event_id]

    radar.record(_rectify(police, CorrectionKind.CORRECTION, severity="low"))
    corrected = {e.signal_id: e for e in store.timeline(FAMILY)}
    assert (corrected[police.event_id].severity, corrected[police.event_id].corrected) == (
        "low",
        True,
    )

    radar.record(_rectify(school, CorrectionKind.RETRACTION))
    assert [e.signal_id for e in store.timeline(FAMILY)] == [police.event_id]


def test_rows_opened_before_the_key_was_destroyed_show_no_more(radar: Radar) -> None:
    radar.record(signal("zorgmelding", days_ago(30)), signal("school_absence", days_ago(16)))
    store = radar.timelines
    assert len(store.timeline(FAMILY)) == 2  # opened, and kept

    store.sealer.forget_households([FAMILY])  # retention destroys the row key first

    assert store.timeline(FAMILY) == []
    assert store.household_records(FAMILY) == []
