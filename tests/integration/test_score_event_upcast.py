"""An old ScoreChanged (version 1: the whole explanation, written by the layout of
tests/fixtures/store-v0) reads as version 2: every signal's factors, marked whole, so that
the explanation computed from them on read is the one the old event carried; and a household
scored anew from such a history records only what changed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from eventsourcing.persistence import Tracking
from eventsourcing.utils import get_topic

from radar.household import Household
from radar.risk import Contribution, assess
from services.database import Database
from services.ledger.application import SignalBatch, SignalLedger
from services.ledger.store import open_ledger
from tests.support.radar_fixtures import another_signal_like


@pytest.fixture
def old_ledger(store_v0: tuple[Database, dict[str, Any]]) -> Any:
    database, expected = store_v0
    ledger = open_ledger(database)
    yield ledger, expected
    ledger.close()


def _old_explanation(row: dict[str, Any]) -> list[dict[str, Any]]:
    """The explanation as the old version's worklist row kept it (from the whole event)."""
    return row["contributions"]


def test_an_old_score_event_with_the_whole_explanation_upcasts(
    old_ledger: tuple[SignalLedger, dict[str, Any]],
) -> None:
    ledger, expected = old_ledger
    events = _events(ledger, Household.ScoreChanged)
    assert events and all(e.whole and not e.removed for e in events)
    assert all("decay" not in c and "points" not in c for e in events for c in e.changed)
    rows = expected["read_models"]["worklist"]["household_scores"]
    assert len(rows) == len(expected["households"])
    for pseudonym in expected["households"]:
        last = [e for e in events if e.household == pseudonym][-1]
        assessment = ledger.household(pseudonym).latest_assessment()
        assert assessment is not None and assessment.score == last.score
        shown = [_json(c) for c in assessment.contributions]
        old = next(r for r in rows if str(r["score"]) == str(last.score))
        assert shown == _old_explanation(old)
        assert sum(c.points for c in assessment.contributions) == last.score


def test_a_household_scored_after_old_events_records_what_changed(
    old_ledger: tuple[SignalLedger, dict[str, Any]],
) -> None:
    ledger, expected = old_ledger
    pseudonym = next(iter(expected["households"]))
    household = ledger.household(pseudonym)
    latest = household.latest_assessment()
    assert latest is not None
    signal = another_signal_like(  # near no other signal
        ledger, pseudonym, latest.as_of - timedelta(days=400), latest.as_of + timedelta(hours=1)
    )
    ledger.record_batch(SignalBatch([signal]), Tracking("test:upcast:0", 1))
    after = ledger.household(pseudonym)
    scored = after.latest_assessment()
    assert scored is not None
    assert scored == assess(after.signal_facts(), ledger.model_in_force(), scored.as_of)
    newest = [e for e in _events(ledger, Household.ScoreChanged) if e.household == pseudonym][-1]
    assert not newest.whole
    assert len(newest.changed) < len(scored.contributions)


def _events(ledger: SignalLedger, kind: type) -> list[Any]:
    return [event for _id, event in ledger.notifications.all_readable([get_topic(kind)])]


def _json(contribution: Contribution) -> dict[str, Any]:
    record = contribution.record()
    return {**record, "occurred_at": record["occurred_at"].isoformat()}
