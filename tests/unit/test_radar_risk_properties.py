"""Properties of the risk score (hypothesis): adding a signal never lowers the score at that
moment; without new signals the score only falls, toward zero; the explanation adds up to the
score; the same history gives the same answer, in any order, twice."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.vocabulary import SIGNAL_TYPES, Severity, SignalType
from radar.risk import SignalFact, assess, score_at
from radar.risk_model import default_model

MODEL = default_model()
EPOCH = datetime(2024, 1, 1, tzinfo=UTC)
CHILDREN = ("p.k1." + "a" * 32, "p.k1." + "b" * 32)
LONGEST_HALF_LIFE = max(t.half_life_days for t in MODEL.signal_types.values())


@st.composite
def facts(draw: st.DrawFn) -> SignalFact:
    kind = draw(st.sampled_from(list(SignalType)))
    occurred = EPOCH + timedelta(minutes=draw(st.integers(0, 2 * 365 * 24 * 60)))
    return SignalFact(
        signal_id=str(draw(st.uuids())),
        sector=str(draw(st.sampled_from(sorted(SIGNAL_TYPES[kind].sectors)))),
        signal_type=str(kind),
        severity=str(draw(st.sampled_from(list(Severity)))),
        occurred_at=occurred,
        received_at=occurred + timedelta(hours=draw(st.integers(0, 48))),
        region=draw(st.sampled_from(["VT09", "VT13", "VT18"])),
        children=tuple(draw(st.lists(st.sampled_from(CHILDREN), unique=True, max_size=2))),
    )


histories = st.lists(facts(), max_size=25, unique_by=lambda f: f.signal_id)
moments = st.integers(0, 3 * 365 * 24).map(lambda hours: EPOCH + timedelta(hours=hours))


@settings(max_examples=120, deadline=None)
@given(histories, facts(), moments)
def test_adding_a_signal_never_lowers_the_score_at_that_moment(
    history: list[SignalFact], new: SignalFact, moment: datetime
) -> None:
    before = assess(history, MODEL, moment)
    after = assess([*history, new], MODEL, moment)
    assert after.score >= before.score
    points_before = {c.signal_id: c.points for c in before.contributions}
    for contribution in after.contributions:
        assert contribution.points >= points_before.get(contribution.signal_id, 0)


@settings(max_examples=120, deadline=None)
@given(histories, moments, st.integers(0, 5 * 365 * 24))
def test_without_new_signals_the_score_only_falls_toward_zero(
    history: list[SignalFact], moment: datetime, hours_later: int
) -> None:
    now = assess(history, MODEL, moment).score
    later = assess(history, MODEL, moment + timedelta(hours=hours_later)).score
    assert later <= now
    much_later = moment + timedelta(days=30 * LONGEST_HALF_LIFE)
    assert assess(history, MODEL, much_later).score == 0


@settings(max_examples=120, deadline=None)
@given(histories, moments, st.integers(0, 2 * 365 * 24))
def test_the_explanation_adds_up_to_the_score_now_and_decayed_later(
    history: list[SignalFact], moment: datetime, hours_later: int
) -> None:
    assessment = assess(history, MODEL, moment)
    assert sum(c.points for c in assessment.contributions) == assessment.score
    assert all(c.points > 0 for c in assessment.contributions)
    for child, score in assessment.child_scores.items():
        own = [f for f in history if child in f.children or not f.children]
        assert score == assess(own, MODEL, moment).score
    later = moment + timedelta(hours=hours_later)
    assert score_at(assessment.contributions, moment, later) == assess(history, MODEL, later).score


@settings(max_examples=100, deadline=None)
@given(histories, moments, st.randoms(use_true_random=False))
def test_the_same_history_gives_the_same_answer_in_any_order(
    history: list[SignalFact], moment: datetime, shuffler: random.Random
) -> None:
    first = assess(history, MODEL, moment)
    shuffled = list(history)
    shuffler.shuffle(shuffled)
    assert assess(shuffled, MODEL, moment) == first
    assert assess(history, MODEL, moment) == first
