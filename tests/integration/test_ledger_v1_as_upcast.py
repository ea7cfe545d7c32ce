"""A v1 signal and its upcast to v2 (contracts.upcast_v1_v2) are the same signal to the radar
(hypothesis, real SQLite stores): recording a v1 history, or the same history upcast, stores the
same SignalRecorded events, field by field (what every read model projects), the same scores
and household state (the timeline's facts). The aggregator records v1 records as they are (no
upcast on the hot path); this is why it may."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from eventsourcing.persistence import Tracking
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contracts.pseudonyms import PseudonymLink
from contracts.signal_v1 import SignalEventV1
from contracts.upcast_v1_v2 import upcast_signal
from radar.household import Household
from services.database import Database
from services.ledger.application import SignalBatch
from services.ledger.store import open_ledger
from tests.support.aggregating import stored_events
from tests.support.contract_strategies import v1_signals
from tests.support.radar_fixtures import SOURCE

_HOUSEHOLDS = ("a" * 32, "b" * 32)


@st.composite
def histories(draw: st.DrawFn) -> list[SignalEventV1]:
    """Signals about two households, some under a rotated key (k2, linked to the k1 pseudonym
    of the household the radar first knew)."""
    history = []
    for drawn in draw(st.lists(v1_signals(), min_size=1, max_size=8)):
        digest = draw(st.sampled_from(_HOUSEHOLDS))
        key = drawn.pseudonym_key_id
        household = f"hh.{key}.{digest}"
        links = [link for link in drawn.known_as if link.pseudonym != drawn.household]
        if key == "k2" and draw(st.booleans()):
            links.append(
                PseudonymLink(kind="household", pseudonym=household, known_as=f"hh.k1.{digest}")
            )
        elif key == "k2":
            household = f"hh.k1.{digest}"  # a k2 signal naming the household as first known
        history.append(
            SignalEventV1.model_validate(
                drawn.model_dump() | {"household": household, "known_as": links}
            )
        )
    return history


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(histories(), st.data())
def test_a_v1_history_and_its_upcast_record_the_same(
    history: list[SignalEventV1], data: st.DataObject
) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="radar-upcast-"))
    as_v1 = open_ledger(Database(f"sqlite:///{workdir / 'v1.db'}"))
    as_v2 = open_ledger(Database(f"sqlite:///{workdir / 'v2.db'}"))
    try:
        remaining, offset = list(history), 0
        while remaining:  # the same batches for both
            size = data.draw(st.integers(1, len(remaining)), label="batch size")
            as_v1.record_batch(SignalBatch(remaining[:size]), Tracking(SOURCE, offset))
            upcasts = [upcast_signal(s) for s in remaining[:size]]
            as_v2.record_batch(SignalBatch(upcasts), Tracking(SOURCE, offset))
            remaining, offset = remaining[size:], offset + 1
        for pseudonym in {s.first_known_household() for s in history}:
            recorded = stored_events(as_v1, pseudonym, Household.SignalRecorded)
            assert recorded == stored_events(as_v2, pseudonym, Household.SignalRecorded)
            assert all(e["forms_of_violence"] == [] for e in recorded)
            assert all(
                p["roles"] == [p["role"]] and p["age"] is None
                for e in recorded
                for p in e["persons"]
            )
            scores = stored_events(as_v1, pseudonym, Household.ScoreChanged)
            assert scores and scores == stored_events(as_v2, pseudonym, Household.ScoreChanged)
            first, second = as_v1.household(pseudonym), as_v2.household(pseudonym)
            assert first.signal_facts() == second.signal_facts()
            assert (first.persons, first.first_seen, first.pseudonym_links) == (
                second.persons,
                second.first_seen,
                second.pseudonym_links,
            )
            assert first.latest_assessment() == second.latest_assessment()
    finally:
        as_v1.close()
        as_v2.close()
        shutil.rmtree(workdir, ignore_errors=True)
