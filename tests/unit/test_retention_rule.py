"""What makes a household case data, and what counts as activity: only steps a person at
Veilig Thuis took. An alert the radar raised by itself is neither (issue 24, item 1)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from privacy.retention import RetentionKind, RetentionPolicy
from radar.alerts import TriageOutcome
from radar.case import HouseholdCase
from radar.evaluation import after_new_signals
from radar.household import Household
from radar.retention import is_case_data, last_activity, retention_ends
from radar.risk_model import default_model
from tests.support.radar_fixtures import FAMILY, TRIAGE_UTRECHT, signal

RECEIVED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _untouched_alert() -> tuple[Household, HouseholdCase]:
    """A police zorgmelding and a school absence about one child: a cross-sector alert."""
    household = Household(FAMILY)
    story = [
        signal("zorgmelding", RECEIVED - timedelta(days=14), received_at=RECEIVED),
        signal("school_absence", RECEIVED - timedelta(days=2), severity="moderate",
               received_at=RECEIVED),
    ]  # fmt: skip
    for published in story:
        household.record(published)
    case = after_new_signals(household, None, default_model(), [str(s.event_id) for s in story])
    assert case is not None and [a.kind for a in case.open_alerts()] == ["cross_sector"]
    return household, case


def _replayed(case: HouseholdCase) -> Any:
    copy = None
    for event in case.collect_events():
        copy = event.mutate(copy)
    return copy


def test_an_alert_nobody_touched_is_no_case_and_no_activity() -> None:
    household, case = _untouched_alert()
    assert not case.taken_up and not is_case_data(case) and not is_case_data(None)
    assert last_activity(household, case) == RECEIVED, "raising the alert is no activity"
    policy = RetentionPolicy.load()
    assert policy.kind_of(is_case_data(case)) == RetentionKind.SIGNALS_WITHOUT_CASE
    assert retention_ends(household, case, policy) == RECEIVED + timedelta(days=730)


def test_an_acknowledged_alert_makes_case_data_from_the_moment_of_the_step() -> None:
    household, case = _untouched_alert()
    [alert] = case.open_alerts()
    case.acknowledge(alert.alert_id, TRIAGE_UTRECHT)
    acknowledged_at = case.modified_on
    assert case.taken_up and case.taken_up_at == acknowledged_at and is_case_data(case)
    assert last_activity(household, case) == max(RECEIVED, acknowledged_at)
    replayed = _replayed(case)
    assert replayed.taken_up_at == acknowledged_at, "replay gives the same moment"


def test_every_step_a_person_records_takes_the_case_up() -> None:
    for step in ("triage", "conditions"):
        _household, case = _untouched_alert()
        [alert] = case.open_alerts()
        if step == "triage":
            case.acknowledge(alert.alert_id, TRIAGE_UTRECHT)
            case.triage(alert.alert_id, TRIAGE_UTRECHT, TriageOutcome("advice"), "Gesprek.")
        else:
            start = RECEIVED.date()
            case.record_conditions(TRIAGE_UTRECHT, ["Geen geweld thuis"], ["huisverbod"],
                                   start, start + timedelta(days=90),
                                   [start + timedelta(days=30)])  # fmt: skip
        assert case.taken_up_at == case.modified_on, step
