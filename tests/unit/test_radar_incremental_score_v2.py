"""Incremental scoring under risk model 2 equals radar.risk_v2.assess_v2 to the cent
(hypothesis): a household fed signal.v2 signals (forms of violence, partners, ages) in any order
of arrival, in batches, with corrections and retractions, reloaded, scored under model 2 (or a
variant of it: other partner-violence rules and windows) records after every batch the score,
the children's scores and the explanation (form factor and partner repetition per signal) that
the full assessment gives for its signals at that moment."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.correction_v1 import CorrectedValues, CorrectionKind, SignalCorrectionV1
from contracts.regions import VtRegion
from contracts.signal_types_v2 import SIGNAL_TYPES_V2, SignalTypeV2
from contracts.signal_v2 import SignalEventV2
from contracts.vocabulary import Sector, Severity
from contracts.vocabulary_v2 import FormOfViolence, PersonRoleV2
from radar.household import Household
from radar.risk_model_v2 import RiskModelV2, default_model_v2
from radar.risk_v2 import SignalFactV2, assess_v2
from tests.unit.test_radar_incremental_score import (
    EPOCH,
    HOUSEHOLD,
    PERSONS,
    _rectification,
    play,
)

MODEL = default_model_v2()
_V1_SECTORS = {str(s) for s in Sector}
_PARTNER_TYPES = sorted(str(t) for t in MODEL.partner_violence.types)
_ROLES = [
    ("partner", "victim"),
    ("partner", "suspected_perpetrator"),
    ("ex_partner",),
    ("child",),
    ("parent_or_carer",),
    ("other_adult", "victim"),
]


@st.composite
def models(draw: st.DrawFn) -> RiskModelV2:
    """The shipped model 2, or one with other partner-violence rules and windows."""
    if draw(st.booleans()):
        return MODEL
    days = st.sampled_from([1.0, 30.0, 365.0])
    return MODEL.model_copy(
        update={
            "partner_violence": MODEL.partner_violence.model_copy(
                update={
                    "incidents": draw(st.integers(2, 4)),
                    "window_days": draw(days),
                    "factor": draw(st.sampled_from([1.0, 1.5, 3.0])),
                }
            ),
            "repetition": MODEL.repetition.model_copy(update={"window_days": draw(days)}),
            "convergence": MODEL.convergence.model_copy(update={"window_days": draw(days)}),
        }
    )


@st.composite
def signals(draw: st.DrawFn) -> SignalEventV2:
    """Signals of one household's few persons: partners, children, ages about 18 and 65."""
    if draw(st.booleans()):
        kind = SignalTypeV2(draw(st.sampled_from(_PARTNER_TYPES)))
    else:
        kind = draw(st.sampled_from(list(SignalTypeV2)))
    sector = draw(st.sampled_from(sorted(SIGNAL_TYPES_V2[kind].sectors)))
    occurred = EPOCH + timedelta(seconds=draw(st.integers(0, 2 * 365 * 86400)))
    received = occurred + timedelta(seconds=draw(st.integers(0, 60 * 86400)))
    involved = draw(st.lists(st.sampled_from(PERSONS), max_size=3, unique=True))
    persons = []
    for pseudonym in involved:
        roles = draw(st.sampled_from(_ROLES))
        age = draw(st.sampled_from([None, None, 10, 17, 18, 34, 64, 65, 80]))
        persons.append({"pseudonym": pseudonym, "roles": [PersonRoleV2(r) for r in roles]})
        if age is not None:
            persons[-1]["age"] = age
    forms = draw(st.lists(st.sampled_from(list(FormOfViolence)), max_size=2, unique=True))
    return SignalEventV2(
        event_id=draw(st.uuids()),
        organisation=f"org-{sector}".replace("_", "-"),
        sector=sector,
        signal_type=kind,
        severity=draw(st.sampled_from(list(Severity))),
        forms_of_violence=tuple(forms),
        occurred_at=occurred,
        reported_at=occurred,
        received_at=received,
        region=draw(st.sampled_from([VtRegion("VT09"), VtRegion("VT13")])),
        household=HOUSEHOLD,
        persons=tuple(persons),  # type: ignore[arg-type]
        pseudonym_key_id="k1",
    )


steps = st.one_of(
    st.tuples(st.just("signals"), st.lists(signals(), min_size=1, max_size=4)),
    st.tuples(st.just("correct"), st.integers(0, 200), st.data()),
    st.tuples(st.just("retract"), st.integers(0, 200)),
    st.tuples(st.just("reload")),
)


def _assert_same_as_full(household: Household, model: RiskModelV2) -> None:
    recorded = household.latest_assessment()
    assert recorded is not None
    facts = [SignalFactV2.from_fact(f) for f in household.signal_facts()]
    full = assess_v2(facts, model, recorded.as_of)
    assert recorded.model_version == model.version
    assert (recorded.score, recorded.child_scores) == (full.score, full.child_scores)
    assert recorded.children_present == full.children_present
    assert [(c.signal_id, c.points, c.form, c.partner) for c in recorded.contributions] == [
        (c.signal_id, c.points, c.form, c.partner) for c in full.contributions
    ]
    assert sum(c.points for c in recorded.contributions) == recorded.score
    later = recorded.as_of + timedelta(days=40)
    assert household.score_decayed_to(later) == assess_v2(facts, model, later).score


def _correction(original: SignalEventV2, data: Any, received: datetime) -> SignalCorrectionV1:
    """New severity and moment (the type stays: a v1 correction names v1 types only)."""
    moved = data.draw(st.integers(-30 * 86400, 30 * 86400), label="moved")
    values = CorrectedValues(
        severity=data.draw(st.sampled_from(list(Severity)), label="severity"),
        occurred_at=min(received, original.occurred_at + timedelta(seconds=moved)),
    )
    return _rectification(original, CorrectionKind.CORRECTION, values, received, data)


@settings(max_examples=50, deadline=None)
@given(models(), st.lists(steps, min_size=1, max_size=10), st.data())
def test_incremental_model_2_equals_the_full_assessment(
    model: RiskModelV2, plan: list[Any], data: Any
) -> None:
    play(
        plan,
        model,
        data,
        correction=_correction,
        same_as_full=_assert_same_as_full,
        correctable=lambda signal: signal.sector in _V1_SECTORS,  # signal.v1's corrections
    )


def test_factors_recorded_before_model_2_read_as_form_and_partner_1() -> None:
    """A ScoreChanged record and a snapshot's positional Factors of model 1 (no form, no
    partner) read with both factors 1, and model 1's records keep their shape."""
    from radar.risk import Factors
    from services.ledger.transcodings import FactorsAsList

    record = {
        "signal_id": "s1",
        "signal_type": "huisverbod",
        "sector": "police",
        "severity": "high",
        "occurred_at": EPOCH,
        "weight": 12.0,
        "half_life_days": 365.0,
        "convergence": 1.0,
        "repetition": 1.0,
        "escalation": 1.0,
        "children": 1.5,
        "sectors_nearby": 1,
    }
    factors = Factors.from_record(record)
    assert (factors.form, factors.partner) == (1.0, 1.0)
    assert factors.record() == record
    positional = [v.isoformat() if k == "occurred_at" else v for k, v in record.items()]
    assert FactorsAsList().decode(positional) == factors
    heavier = Factors(**{**record, "form": 1.5, "partner": 1.5})
    assert FactorsAsList().decode(FactorsAsList().encode(heavier)) == heavier
    assert Factors.from_record(heavier.record()) == heavier
    assert heavier.at(EPOCH).points == Decimal("40.50")
