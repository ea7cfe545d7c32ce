"""The same answer twice (hypothesis, on real SQLite stores): however signals (and corrections
and retractions of them) are split into batches, each household ends with the score its history
and the model give; the recorded score is what recomputing it from the history gives; and the
radar's read models (with the memberships that departures end) equal a rebuild, and those
that write a batch's rows together equal themselves fed one event at a time."""

from __future__ import annotations

import shutil
import tempfile
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contracts.correction_v1 import CorrectedValues, CorrectionKind, SignalCorrectionV1
from contracts.signal_v1 import SignalEventV1
from contracts.vocabulary import SignalType
from radar.risk import assess
from services.casework.monitoring_store import SafetyStore
from services.casework.store import WorklistStore
from services.database import Database
from services.feedback.store import FeedbackStore
from services.handle_with_care.store import HandleWithCareStore
from services.projections.projector import rebuild
from services.timelines.store import TimelineStore
from tests.support.radar_fixtures import CHILD, FAMILY, OTHER_FAMILY, Radar, signal

START = datetime(2025, 1, 1, tzinfo=UTC)
REPORTABLE = [t for t in SignalType if t != SignalType.SAFETY_CONDITIONS_SET]


@st.composite
def signals(draw: st.DrawFn) -> SignalEventV1:
    occurred = START + timedelta(hours=draw(st.integers(0, 400 * 24)))
    return signal(
        str(draw(st.sampled_from(REPORTABLE))),
        occurred,
        household=draw(st.sampled_from([FAMILY, OTHER_FAMILY])),
        region=draw(st.sampled_from(["VT09", "VT13"])),
        severity=draw(st.sampled_from(["low", "moderate", "high", "acute"])),
        children=draw(st.sampled_from([(), (CHILD,)])),
        received_at=occurred + timedelta(hours=draw(st.integers(1, 24 * 30))),
    )


def _rectification(original: SignalEventV1, retract: bool, severity: str) -> SignalCorrectionV1:
    return SignalCorrectionV1.model_validate(
        {
            "correction_id": uuid.uuid5(original.event_id, "rectified"),
            "corrects": original.event_id,
            "kind": CorrectionKind.RETRACTION if retract else CorrectionKind.CORRECTION,
            "values": None if retract else CorrectedValues.model_validate({"severity": severity}),
            "reason": "entered wrongly",
            "organisation": original.organisation,
            "sector": original.sector,
            "received_at": original.received_at + timedelta(days=1),
            "household": original.household,
        }
    )


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.lists(signals(), min_size=1, max_size=12), st.data())
def test_batching_does_not_change_the_scores_and_read_models_equal_a_rebuild(
    signals_delivered: list[SignalEventV1], data: st.DataObject
) -> None:
    rectified = data.draw(
        st.lists(st.sampled_from(signals_delivered), max_size=3, unique_by=lambda s: s.event_id),
        label="rectified",
    )
    delivered: list[SignalEventV1 | SignalCorrectionV1] = [
        *signals_delivered,
        *(
            _rectification(
                s,
                data.draw(st.booleans(), label="retract?"),
                data.draw(st.sampled_from(["low", "acute"]), label="severity"),
            )
            for s in rectified
        ),
    ]
    workdir = Path(tempfile.mkdtemp(prefix="radar-replay-"))
    batched = Radar(Database(f"sqlite:///{workdir / 'batched.db'}"))
    one_by_one = Radar(Database(f"sqlite:///{workdir / 'single.db'}"))
    try:
        remaining = list(delivered)
        while remaining:
            size = data.draw(st.integers(1, len(remaining)), label="batch size")
            batched.record(*remaining[:size])
            remaining = remaining[size:]
        for item in delivered:
            one_by_one.record(item)

        model = batched.ledger.model_in_force()
        for pseudonym in {s.household for s in signals_delivered}:
            first = batched.ledger.household(pseudonym)
            second = one_by_one.ledger.household(pseudonym)
            recorded = first.latest_assessment()
            assert recorded is not None
            assert recorded == second.latest_assessment()
            assert recorded == assess(first.signal_facts(), model, recorded.as_of)

        rebuilt = Database(f"sqlite:///{workdir / 'rebuilt.db'}").engine()
        try:
            for live, fresh in (
                (batched.worklist, WorklistStore(rebuilt)),
                (batched.monitoring, SafetyStore(rebuilt)),
                (batched.timelines, TimelineStore(rebuilt)),
            ):
                rebuild(batched.ledger, fresh, batch_size=data.draw(st.integers(1, 9)))
                assert fresh.dump() == live.dump()
            # the read models that write a batch's rows together (one statement per table)
            # hold the same rows as when every event comes alone
            one_each = Database(f"sqlite:///{workdir / 'one_each.db'}").engine()
            try:
                for read_model in (FeedbackStore, HandleWithCareStore):
                    together, alone = read_model(rebuilt), read_model(one_each)
                    rebuild(batched.ledger, together, batch_size=data.draw(st.integers(2, 12)))
                    rebuild(batched.ledger, alone, batch_size=1)
                    assert together.dump() == alone.dump()
            finally:
                one_each.dispose()
        finally:
            rebuilt.dispose()
    finally:
        batched.close()
        one_by_one.close()
        shutil.rmtree(workdir, ignore_errors=True)
