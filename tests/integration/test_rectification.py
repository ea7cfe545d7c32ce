"""Rectification (AVG art. 16) in the ledger and the read models, on SQLite and PostgreSQL: a
correction or retraction is an event beside the untouched original, is applied once however
often it is delivered, rescores the household (alerts already raised stay, a retraction raises
none), shows in the timeline, and an audit replay before it still shows what was known then."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from contracts.correction_v1 import CorrectedValues, CorrectionKind, SignalCorrectionV1
from contracts.signal_v1 import SignalEventV1
from radar.household import Household
from radar.risk import assess, score_at
from services import bootstrap
from services.audit import service
from services.audit.snapshot import Selection
from services.database import Database
from services.projections.projector import Projector, rebuild
from services.settings import Settings
from services.timelines.store import TimelineStore
from tests.support.radar_fixtures import FAMILY, NOW, OTHER_FAMILY, Radar, days_ago, signal

REASON = "entered against the wrong incident report"


def rectify(
    original: SignalEventV1,
    kind: CorrectionKind = CorrectionKind.CORRECTION,
    correction_id: uuid.UUID | None = None,
    **values: Any,
) -> SignalCorrectionV1:
    """A correction (or retraction) of a signal as the ingest service publishes it."""
    return SignalCorrectionV1(
        correction_id=correction_id or uuid.uuid4(),
        corrects=original.event_id,
        kind=kind,
        values=CorrectedValues(**values) if kind == CorrectionKind.CORRECTION else None,
        reason=REASON,
        organisation=original.organisation,
        sector=original.sector,
        received_at=NOW,  # the fixtures' present
        household=original.first_known_household(),
    )


@pytest.fixture
def radar(database: Database) -> Iterator[Radar]:
    radar = Radar(database)
    yield radar
    radar.close()


def _timeline(radar: Radar, household: str = FAMILY) -> list[Any]:
    store = TimelineStore(radar.worklist.engine, radar.worklist.sealer)
    Projector(radar.ledger, store, batch_size=3).catch_up()
    return store.timeline(household)


def _score(radar: Radar) -> Decimal:
    assessment = radar.ledger.household(FAMILY).latest_assessment()
    assert assessment is not None
    return assessment.score


def test_a_lowered_severity_lowers_the_score_and_the_timeline_shows_the_correction(
    radar: Radar,
) -> None:
    police = signal("zorgmelding", days_ago(30), severity="acute")
    radar.record(police, signal("school_absence", days_ago(16), severity="moderate"))
    [alert] = radar.open_alerts("VT09")
    household = radar.ledger.household(FAMILY)
    before = household.latest_assessment()
    assert before is not None

    outcome = radar.record(rectify(police, severity="low"))
    assert (outcome.recorded, outcome.duplicates, outcome.corrected) == (0, 0, 1)

    household = radar.ledger.household(FAMILY)
    after = household.latest_assessment()
    assert after is not None
    assert after.score < score_at(before.contributions, before.as_of, after.as_of)
    assert after == assess(household.signal_facts(), radar.ledger.model_in_force(), after.as_of)
    assert {c.severity for c in after.contributions if c.signal_id == str(police.event_id)} == {
        "low"
    }
    # The original stays in the log as it was recorded; the correction is an event of its own.
    [recorded] = [
        e for e in radar.events(Household.SignalRecorded) if e.signal_id == police.event_id
    ]
    assert recorded.severity == "acute"
    [corrected] = radar.events(Household.SignalCorrected)
    assert (corrected.signal_id, corrected.severity) == (police.event_id, "low")
    # People act on alerts: the one raised stays, and a lowering correction raises no other.
    assert [a.alert_id for a in radar.open_alerts("VT09")] == [alert.alert_id]
    assert radar.worklist.household_score(FAMILY)["score"] == str(after.score)

    entries = {e.signal_id: e for e in _timeline(radar)}
    assert (entries[police.event_id].severity, entries[police.event_id].corrected) == ("low", True)
    assert entries[police.event_id].record()["corrected"] is True
    assert [e.corrected for e in entries.values()].count(True) == 1


def test_a_correction_may_change_type_and_moment_and_a_raised_score_can_alert(
    radar: Radar,
) -> None:
    police = signal("zorgmelding", days_ago(40), severity="low", children=())
    radar.record(police)
    assert radar.open_alerts("VT09") == []
    moment = days_ago(2)
    radar.record(
        rectify(police, signal_type="huisverbod", severity="acute", occurred_at=moment),
        rectify(police, severity="acute"),  # a second correction builds on the first
    )
    [entry] = _timeline(radar)
    assert (entry.signal_type, entry.severity, entry.occurred_at) == ("huisverbod", "acute", moment)
    household = radar.ledger.household(FAMILY)
    assert household.signal_types[str(police.event_id)] == "huisverbod"
    assert len(household.corrections) == 2
    [alert] = radar.open_alerts("VT09")
    assert alert.kind == "threshold"


def test_a_retraction_takes_the_signal_out_of_score_and_timeline_but_not_out_of_the_log(
    radar: Radar,
) -> None:
    first = signal("domestic_incident", days_ago(200))
    second = signal("domestic_incident", days_ago(60))
    radar.record(first)
    radar.record(second)
    [alert] = radar.open_alerts("VT09")
    alerts_before = radar.events(Household.ScoreChanged)

    outcome = radar.record(rectify(second, CorrectionKind.RETRACTION))
    assert outcome.corrected == 1
    household = radar.ledger.household(FAMILY)
    after = household.latest_assessment()
    assert after is not None
    assert [c.signal_id for c in after.contributions] == [str(first.event_id)]
    assert [e.signal_id for e in _timeline(radar)] == [first.event_id]
    assert len(radar.events(Household.ScoreChanged)) == len(alerts_before) + 1
    assert [a.alert_id for a in radar.open_alerts("VT09")] == [alert.alert_id]
    assert {e.signal_id for e in radar.events(Household.SignalRecorded)} == {
        first.event_id,
        second.event_id,
    }

    # The retracted signal delivered again is a duplicate, not news; retracting everything
    # leaves a score of nought.
    assert radar.record(second).duplicates == 1
    radar.record(rectify(first, CorrectionKind.RETRACTION))
    assert _score(radar) == Decimal("0.00")
    assert _timeline(radar) == []
    assert [a.alert_id for a in radar.open_alerts("VT09")] == [alert.alert_id]


def test_corrections_apply_once_and_unknown_ones_do_not_stop_the_batch(radar: Radar) -> None:
    police = signal("zorgmelding", days_ago(30))
    radar.record(police)
    correction = rectify(police, severity="moderate")
    assert radar.record(correction).corrected == 1
    events = radar.ledger.notifications.last_id()
    again = radar.record(correction)  # redelivered at a later offset
    assert (again.corrected, again.duplicates) == (0, 1)
    assert radar.ledger.notifications.last_id() == events

    retraction = rectify(police, CorrectionKind.RETRACTION)
    unknown_signal = rectify(signal("zorgmelding", days_ago(3)), severity="low")
    unknown_household = rectify(
        signal("zorgmelding", days_ago(3), household=OTHER_FAMILY), severity="low"
    )
    after_retraction = rectify(police, severity="high")
    fresh = signal("school_absence", days_ago(1))
    outcome = radar.record(
        unknown_signal, retraction, unknown_household, after_retraction, fresh, retraction
    )
    assert (outcome.recorded, outcome.corrected, outcome.duplicates) == (1, 1, 1)
    assert set(outcome.uncorrectable) == {
        unknown_signal.correction_id,
        unknown_household.correction_id,
        after_retraction.correction_id,
    }
    with pytest.raises(LookupError):
        radar.ledger.household(OTHER_FAMILY)  # no household is opened by a correction
    assert [e.signal_id for e in _timeline(radar)] == [fresh.event_id]


def test_read_models_equal_a_rebuild_after_corrections(radar: Radar) -> None:
    signals = [
        signal("zorgmelding", days_ago(50)),
        signal("school_absence", days_ago(20), severity="moderate"),
        signal("kindcheck_concern", days_ago(10)),
    ]
    radar.record(*signals)
    radar.record(
        rectify(signals[0], severity="low", occurred_at=days_ago(49)),
        rectify(signals[1], CorrectionKind.RETRACTION),
        signal("domestic_incident", days_ago(5)),
    )
    radar.record(rectify(signals[2], signal_type="client_disclosure"))
    live = TimelineStore(radar.worklist.engine, radar.worklist.sealer)
    Projector(radar.ledger, live, batch_size=2).catch_up()
    radar.project()
    projected = (live.all_entries(), radar.worklist.dump(), radar.monitoring.dump())
    assert [e.corrected for e in projected[0]].count(True) == 2
    for model in (live, radar.worklist, radar.monitoring):
        rebuild(radar.ledger, model, batch_size=3)
    assert (live.all_entries(), radar.worklist.dump(), radar.monitoring.dump()) == projected


def _replayed(settings: Settings, moment: datetime) -> tuple[dict[str, Any], dict[str, Any]]:
    """The family's replayed timeline signals by id, and its replayed score row."""
    report = service.replay_report(
        settings, bootstrap.read_models, moment, Selection(household=FAMILY)
    )
    [household] = report["households"] or [{"signals": []}]
    signals = {s["signal_id"]: s for s in household["signals"]}
    [score] = report["read_models"]["radar_household_scores"]
    return signals, score


def test_replay_before_a_correction_shows_what_was_known_then(
    radar: Radar, settings: Settings
) -> None:
    police = signal("zorgmelding", days_ago(30), severity="acute")
    school = signal("school_absence", days_ago(16), severity="moderate")
    radar.record(police, school)
    before = _moment()
    radar.record(rectify(police, severity="low"))
    between = _moment()
    radar.record(rectify(school, CorrectionKind.RETRACTION))
    after = _moment()

    signals, score_before = _replayed(settings, before)
    assert set(signals) == {str(police.event_id), str(school.event_id)}
    assert signals[str(police.event_id)]["severity"] == "acute"
    assert "corrected" not in signals[str(police.event_id)]

    signals, score_between = _replayed(settings, between)
    assert set(signals) == {str(police.event_id), str(school.event_id)}
    assert signals[str(police.event_id)]["severity"] == "low"
    assert signals[str(police.event_id)]["corrected"] is True
    assert Decimal(score_between["score"]) < Decimal(score_before["score"])

    signals, score_after = _replayed(settings, after)
    assert set(signals) == {str(police.event_id)}
    assert Decimal(score_after["score"]) < Decimal(score_between["score"])
    assert [c["signal_id"] for c in score_after["contributions"]] == [str(police.event_id)]


def _moment() -> datetime:
    """A moment strictly between what was recorded before and what is recorded next."""
    time.sleep(0.02)
    moment = datetime.now(UTC)
    time.sleep(0.02)
    return moment
