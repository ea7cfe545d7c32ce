"""Veilig Thuis's findings in the ledger, on SQLite and PostgreSQL: a signal found unfounded
leaves the score at once (a ScoreChanged whose cause says why) but not the log; it is found
once, by a VT investigating role, with a reason the leak guard passed; the publisher can no
longer correct it. A protected reporter is recorded once per organisation."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from contracts.correction_v1 import CorrectionKind
from radar.alerts import StaffRef
from radar.household import Household, household_id
from radar.household_findings import (
    UNFOUNDED_CAUSE,
    FindingConflictError,
    FindingError,
    ReporterProtected,
    SignalFoundUnfounded,
    UnknownSignalError,
)
from services.database import Database
from services.projections.projector import rebuild
from tests.integration.test_rectification import rectify
from tests.support.radar_fixtures import (
    FAMILY,
    MONITORING_UTRECHT,
    NOW,
    TRIAGE_UTRECHT,
    Radar,
    days_ago,
    signal,
)

REASON = "na onderzoek bleek de melding niet te kloppen"
ASSESSOR = StaffRef("d.smit", "vt-utrecht", "safety_assessment", "VT09")


@pytest.fixture
def radar(database: Database) -> Iterator[Radar]:
    radar = Radar(database)
    yield radar
    radar.close()


def test_an_unfounded_signal_leaves_the_score_at_once_and_stays_in_the_log(radar: Radar) -> None:
    police = signal("zorgmelding", days_ago(30), severity="acute")
    school = signal("school_absence", days_ago(16), severity="moderate")
    radar.record(police, school)
    before = radar.ledger.household(FAMILY).latest_assessment()
    assert before is not None and len(before.contributions) == 2

    radar.ledger.find_unfounded(FAMILY, str(police.event_id), TRIAGE_UTRECHT, REASON, NOW)

    household = radar.ledger.household(FAMILY)
    after = household.latest_assessment()
    assert after is not None
    assert [c.signal_id for c in after.contributions] == [str(school.event_id)]
    assert after.score < before.score
    assert household.is_unfounded(str(police.event_id))
    [found] = radar.events(SignalFoundUnfounded)
    assert (found.signal_id, found.organisation, found.reason) == (
        police.event_id,
        police.organisation,
        REASON,
    )
    assert found.by == TRIAGE_UTRECHT.record()
    assert radar.events(Household.ScoreChanged)[-1].cause == UNFOUNDED_CAUSE
    assert police.event_id in {e.signal_id for e in radar.events(Household.SignalRecorded)}
    # the timeline keeps it, marked; a rebuild and a checkpoint's recovery say the same
    radar.project()
    live = radar.timelines.all_entries()
    assert {e.signal_id: e.unfounded for e in live} == {
        police.event_id: True,
        school.event_id: False,
    }
    rebuild(radar.ledger, radar.timelines, batch_size=3)
    assert radar.timelines.all_entries() == live
    radar.timelines.take_checkpoint()
    radar.timelines.recover(radar.ledger, batch_size=3)
    assert radar.timelines.all_entries() == live
    # the publisher can no longer correct or retract it; a re-sent original is a duplicate
    outcome = radar.record(rectify(police, severity="low"), police)
    assert (outcome.corrected, outcome.duplicates, len(outcome.uncorrectable)) == (0, 1, 1)
    assert radar.record(rectify(police, CorrectionKind.RETRACTION)).corrected == 0
    # a snapshot taken after the finding keeps it
    radar.ledger.take_snapshot(household_id(FAMILY))
    radar.ledger.forget_cached_aggregates()
    restored = radar.ledger.household(FAMILY)
    assert [f.signal_id for f in restored.unfounded] == [str(police.event_id)]
    assert restored.latest_assessment() == household.latest_assessment()


def test_a_finding_is_refused_and_nothing_is_stored_when_it_cannot_hold(radar: Radar) -> None:
    police = signal("zorgmelding", days_ago(30))
    radar.record(police)
    events = radar.ledger.notifications.last_id()
    signal_id = str(police.event_id)
    with pytest.raises(FindingError) as refused:
        radar.ledger.find_unfounded(FAMILY, signal_id, MONITORING_UTRECHT, REASON, NOW)
    assert refused.value.field == "role"
    with pytest.raises(FindingError) as refused:
        radar.ledger.find_unfounded(FAMILY, signal_id, ASSESSOR, "BSN 111222333", NOW)
    assert refused.value.field == "reason"
    with pytest.raises(FindingError):
        radar.ledger.find_unfounded(FAMILY, signal_id, ASSESSOR, "   ", NOW)
    with pytest.raises(UnknownSignalError):
        radar.ledger.find_unfounded(
            FAMILY, str(signal("zorgmelding", NOW).event_id), ASSESSOR, REASON, NOW
        )
    assert radar.ledger.notifications.last_id() == events

    radar.ledger.find_unfounded(FAMILY, signal_id, ASSESSOR, REASON, NOW)
    with pytest.raises(FindingConflictError):
        radar.ledger.find_unfounded(FAMILY, signal_id, ASSESSOR, REASON, NOW)


def test_a_reporter_is_protected_once_per_organisation(radar: Radar) -> None:
    first = signal("school_absence", days_ago(30))
    second = signal("school_absence", days_ago(3))
    radar.record(first, second)
    organisation = radar.ledger.protect_reporter(
        FAMILY, str(first.event_id), TRIAGE_UTRECHT, REASON, NOW
    )
    assert organisation == first.organisation
    assert radar.ledger.household(FAMILY).protected_sources == (organisation,)
    [protected] = radar.events(ReporterProtected)
    assert (protected.signal_id, protected.organisation) == (first.event_id, organisation)
    with pytest.raises(FindingConflictError):  # the same school, from its other signal
        radar.ledger.protect_reporter(FAMILY, str(second.event_id), ASSESSOR, REASON, NOW)
