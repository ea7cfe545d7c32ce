"""Stories a Veilig Thuis analyst would recognise, told to the ledger on SQLite and PostgreSQL:
signals from three sectors meeting within weeks, a family moving region, safety conditions
broken by a new restraining order, an alert worked from raised to closed, a check date missed.
Afterwards the read models must equal a rebuild from the store."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from eventsourcing.domain import Snapshot
from eventsourcing.utils import get_topic

from contracts.correction_v1 import CorrectedValues, CorrectionKind, SignalCorrectionV1
from radar.alerts import AlertStateError, TriageOutcome
from radar.case import HouseholdCase
from radar.household import Household
from radar.household_score import MEMORY_ONLY
from radar.safety import MonitoringStateError
from services.casework.monitoring_store import SafetyStore
from services.casework.reminders import remind_due_checks
from services.casework.store import WorklistStore
from services.database import Database
from services.projections.projector import rebuild
from tests.support.radar_fixtures import (
    FAMILY,
    MONITORING_UTRECHT,
    NOW,
    OTHER_FAMILY,
    TRIAGE_AMSTERDAM,
    TRIAGE_UTRECHT,
    Radar,
    days_ago,
    signal,
)


@pytest.fixture
def radar(database: Database) -> Iterator[Radar]:
    radar = Radar(database)
    yield radar
    radar.close()


def test_police_school_and_ggz_within_weeks_raise_one_cross_sector_alert_in_utrecht(
    radar: Radar,
) -> None:
    # Week 1: the police make a zorgmelding after a row at home; the children were there.
    radar.record(signal("zorgmelding", days_ago(30)))
    assert radar.open_alerts("VT09") == [], "one police concern alone is not an alert"

    # Two weeks later the school reports the eldest is absent without explanation.
    radar.record(signal("school_absence", days_ago(16), severity="moderate"))
    [alert] = radar.open_alerts("VT09")
    assert alert.kind == "cross_sector"
    assert alert.household == FAMILY
    assert set(alert.sectors) == {"police", "education"}

    # Then the mother's GGZ practitioner doubts the children's safety (kindcheck).
    radar.record(signal("kindcheck_concern", days_ago(5), severity="moderate"))
    [same] = radar.open_alerts("VT09")
    assert same.alert_id == alert.alert_id, "the open alert is updated, not duplicated"
    assert {c.sector for c in same.contributions} == {"police", "education", "mental_health"}
    assert same.score > alert.score_at_raise
    assert sum(c.points for c in same.contributions) == same.score
    assert all(c.convergence == 2.0 for c in same.contributions), "three sectors in 8 weeks"
    assert radar.open_alerts("VT13") == [], "only the family's own region gets it"


def test_a_family_that_moves_takes_its_history_and_gets_the_alert_in_the_new_region(
    radar: Radar,
) -> None:
    # In Utrecht: two police call-outs in a year; the second one crosses the alert score.
    radar.record(signal("domestic_incident", days_ago(200)))
    radar.record(signal("domestic_incident", days_ago(60)))
    [utrecht] = radar.open_alerts("VT09")
    assert utrecht.kind == "threshold"

    # Utrecht looks into it and closes the alert after a conversation with the family.
    for step in ("acknowledge", "triage", "close"):
        _step(radar, FAMILY, utrecht.alert_id, step)
    assert radar.open_alerts("VT09") == []

    # The family moves to Rotterdam; the next news is a huisverbod there.
    radar.record(signal("huisverbod", days_ago(3), region="VT18"))
    household = radar.ledger.household(FAMILY)
    assert household.responsible_region == "VT18"
    [rotterdam] = radar.open_alerts("VT18")
    assert radar.open_alerts("VT09") == []
    regions_behind = {c.signal_type for c in rotterdam.contributions}
    assert regions_behind == {"huisverbod", "domestic_incident"}, "the history came along"

    # A late report of an old incident in Utrecht does not move the family back.
    radar.record(signal("domestic_incident", days_ago(100), received_at=days_ago(1)))
    assert radar.ledger.household(FAMILY).responsible_region == "VT18"


def test_a_move_recorded_by_an_analyst_moves_the_open_alert_to_the_new_region(
    radar: Radar,
) -> None:
    radar.record(signal("huisverbod", days_ago(20), household=OTHER_FAMILY))
    [alert] = radar.open_alerts("VT09")
    region = radar.ledger.record_move(
        OTHER_FAMILY, "Amsterdam", (NOW - timedelta(days=2)).date(), TRIAGE_UTRECHT
    )
    assert region == "VT13"
    assert radar.open_alerts("VT09") == []
    [moved] = radar.open_alerts("VT13")
    assert moved.alert_id == alert.alert_id
    # The new region works it from here.
    radar.ledger.acknowledge_alert(OTHER_FAMILY, alert.alert_id, TRIAGE_AMSTERDAM)
    radar.project()
    assert radar.worklist.alert(alert.alert_id)["steps"][0]["by"]["region"] == "VT13"


def test_conditions_set_then_a_new_huisverbod_raises_a_breach_alert_at_once(radar: Radar) -> None:
    radar.record(signal("domestic_incident", days_ago(40)), signal("huisverbod", days_ago(39)))
    [risk] = radar.open_alerts("VT09")
    starts = (NOW - timedelta(days=30)).date()
    plan_id = radar.ledger.record_conditions(
        FAMILY,
        MONITORING_UTRECHT,
        ["Father does not return home without the local team's consent", "No violence at home"],
        ["huisverbod", "domestic_incident"],
        starts,
        starts + timedelta(days=365),
        [starts + timedelta(days=90), starts + timedelta(days=180)],
    )
    # A report of the old incident arriving now is not a breach: it predates the conditions.
    radar.record(signal("domestic_incident", days_ago(41), received_at=days_ago(2)))
    assert [a.kind for a in radar.open_alerts("VT09")] == ["threshold"]

    radar.record(signal("huisverbod", days_ago(1)))
    alerts = {a.kind: a for a in radar.open_alerts("VT09")}
    assert set(alerts) == {"threshold", "breach"}, "a breach is raised even with an alert open"
    assert alerts["breach"].plan_id == plan_id
    assert alerts["threshold"].alert_id == risk.alert_id
    [plan] = [p for p in radar.monitoring.region_plans("VT09")]
    assert len(plan["breaches"]) == 1


def test_an_alert_is_worked_from_raised_to_closed_by_named_analysts(radar: Radar) -> None:
    radar.record(signal("huisverbod", days_ago(2)))
    [alert] = radar.open_alerts("VT09")
    with pytest.raises(AlertStateError, match="acknowledge it first"):
        radar.ledger.triage_alert(FAMILY, alert.alert_id, TRIAGE_UTRECHT, TriageOutcome.ADVICE, "x")
    radar.ledger.acknowledge_alert(FAMILY, alert.alert_id, TRIAGE_UTRECHT)
    with pytest.raises(AlertStateError, match="already acknowledged"):
        radar.ledger.acknowledge_alert(FAMILY, alert.alert_id, TRIAGE_UTRECHT)
    with pytest.raises(ValueError, match="BSN or address"):
        radar.ledger.triage_alert(
            FAMILY, alert.alert_id, TRIAGE_UTRECHT, TriageOutcome.ADVICE, "see 3511 AB 12"
        )
    radar.ledger.triage_alert(
        FAMILY,
        alert.alert_id,
        TRIAGE_UTRECHT,
        TriageOutcome.SAFETY_ASSESSMENT,
        "Restraining order with children present: assess safety with the family.",
    )
    radar.ledger.close_alert(FAMILY, alert.alert_id, MONITORING_UTRECHT, "Handed to monitoring.")
    with pytest.raises(AlertStateError, match="closed"):
        radar.ledger.close_alert(FAMILY, alert.alert_id, TRIAGE_UTRECHT, "again")
    radar.project()
    stored = radar.worklist.alert(alert.alert_id)
    assert stored["status"] == "closed"
    assert [(s["status"], s["by"]["subject"]) for s in stored["steps"]] == [
        ("acknowledged", "a.jansen"),
        ("triaged", "a.jansen"),
        ("closed", "c.bakker"),
    ]
    assert stored["steps"][1]["outcome"] == "safety_assessment"
    assert radar.open_alerts("VT09") == []


def test_a_missed_check_date_raises_one_reminder_and_closing_records_the_outcome(
    radar: Radar,
) -> None:
    radar.record(signal("zorgmelding", days_ago(200)))
    starts = date(2025, 6, 1)
    plan_id = radar.ledger.record_conditions(
        FAMILY,
        MONITORING_UTRECHT,
        ["The children go to school every day"],
        [],
        starts,
        date(2026, 6, 1),
        [date(2025, 9, 1), date(2025, 12, 1), date(2026, 6, 1)],
    )
    with pytest.raises(MonitoringStateError):
        radar.ledger.record_conditions(
            FAMILY, MONITORING_UTRECHT, ["x"], [], starts, date(2026, 6, 1), [date(2026, 1, 1)]
        )
    radar.ledger.assess_check(
        FAMILY, plan_id, date(2025, 9, 1), MONITORING_UTRECHT, True, "Kept; school confirms."
    )
    radar.project()
    assert remind_due_checks(radar.ledger, radar.monitoring, NOW) == 1  # 1 December missed
    radar.project()
    assert remind_due_checks(radar.ledger, radar.monitoring, NOW) == 0, "reminded once"
    [reminder] = radar.open_alerts("VT09")
    assert (reminder.kind, reminder.check_date) == ("check_overdue", "2025-12-01")

    radar.ledger.close_monitoring(
        FAMILY, plan_id, MONITORING_UTRECHT, True, "Twelve months without new signals."
    )
    radar.project()
    assert radar.monitoring.outcomes("VT09") == {"safety_achieved": 1, "not_achieved": 0}
    assert radar.monitoring.due_checks(date(2027, 1, 1)) == []


def test_read_models_equal_their_rebuild_from_the_store(radar: Radar, database: Database) -> None:
    radar.record(signal("zorgmelding", days_ago(30)), signal("huisverbod", days_ago(29)))
    radar.record(signal("school_absence", days_ago(10), household=OTHER_FAMILY))
    [alert] = radar.open_alerts("VT09")
    radar.ledger.acknowledge_alert(FAMILY, alert.alert_id, TRIAGE_UTRECHT)
    radar.ledger.record_conditions(
        FAMILY,
        MONITORING_UTRECHT,
        ["No violence"],
        ["huisverbod"],
        days_ago(5).date(),
        days_ago(5).date() + timedelta(days=365),
        [days_ago(5).date() + timedelta(days=90)],
    )
    radar.record(signal("huisverbod", days_ago(1)))
    radar.ledger.record_move(FAMILY, "GM0599", days_ago(0).date(), TRIAGE_UTRECHT)  # Rotterdam
    radar.project()

    engine = database.engine()
    for live, fresh in (
        (radar.worklist, WorklistStore(engine)),
        (radar.monitoring, SafetyStore(engine)),
    ):
        before = live.dump()
        rebuild(radar.ledger, fresh, batch_size=3)
        assert fresh.dump() == before
    engine.dispose()

    scores = [e for e in radar.events(Household.ScoreChanged) if e.household == FAMILY]
    assert [e.model_version for e in scores] == [1, 1]
    latest = radar.ledger.household(FAMILY).latest_assessment()
    assert latest is not None and latest.score == scores[-1].score
    assert scores[-1].score == sum(c.points for c in latest.contributions)
    assert len(radar.events(HouseholdCase.AlertRaised)) == 2  # the risk alert and the breach


def _step(radar: Radar, household: str, alert: str, step: str) -> None:
    if step == "acknowledge":
        radar.ledger.acknowledge_alert(household, alert, TRIAGE_UTRECHT)
    elif step == "triage":
        radar.ledger.triage_alert(
            household, alert, TRIAGE_UTRECHT, TriageOutcome.NO_ACTION, "Talked with the family."
        )
    else:
        radar.ledger.close_alert(household, alert, TRIAGE_UTRECHT, "No further steps.")


def test_a_household_snapshot_from_before_the_facts_were_kept_is_replayed_in_full(
    radar: Radar, database: Database
) -> None:
    radar.record(signal("domestic_incident", days_ago(60)), signal("zorgmelding", days_ago(50)))
    household = radar.ledger.household(FAMILY)
    walking_skeleton = (
        "_created_on",
        "_modified_on",
        "pseudonym",
        "signal_types",
        "persons",
        "region",
    )
    old = Snapshot(
        originator_id=household.id,
        originator_version=household.version,
        timestamp=Snapshot.create_timestamp(),
        topic=get_topic(Household),
        state={k: v for k, v in vars(household).items() if k in walking_skeleton},
    )
    assert radar.ledger.snapshots is not None
    radar.ledger.snapshots.put([old])

    fresh = Radar(database)  # an empty aggregate cache: the household comes from the snapshot
    try:
        assert fresh.ledger.household(FAMILY).facts == household.facts
        fresh.record(signal("huisverbod", days_ago(1)))
        latest = fresh.ledger.household(FAMILY).latest_assessment()
        assert latest is not None and len(latest.contributions) == 3
    finally:
        fresh.close()


def test_a_household_snapshot_taken_now_reads_back_to_the_same_typed_state(
    radar: Radar, database: Database
) -> None:
    police = signal("domestic_incident", days_ago(60))
    radar.record(police, signal("zorgmelding", days_ago(50), adults=(), severity="moderate"))
    radar.record(
        SignalCorrectionV1(
            correction_id=uuid.uuid4(),
            corrects=police.event_id,
            kind=CorrectionKind.CORRECTION,
            values=CorrectedValues(severity="moderate"),
            reason="entered against the wrong incident report",
            organisation=police.organisation,
            sector=police.sector,
            received_at=NOW,
            household=FAMILY,
        )
    )
    radar.ledger.record_move(FAMILY, "Amsterdam", days_ago(2).date(), TRIAGE_UTRECHT)
    household = radar.ledger.household(FAMILY)
    assert household.moves and household.corrections and household.latest_score is not None
    radar.ledger.take_snapshot(household.id)  # through the ledger's own transcoder

    fresh = Radar(database)  # an empty aggregate cache: the household comes from the snapshot
    try:
        assert fresh.ledger.snapshots is not None
        assert len(list(fresh.ledger.snapshots.get(household.id))) == 1
        restored = fresh.ledger.household(FAMILY)
        assert not restored.replay_required
        kept = {k: v for k, v in vars(household).items() if k not in MEMORY_ONLY}
        assert vars(restored) == kept and restored.explained
    finally:
        fresh.close()
