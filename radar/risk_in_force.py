"""What the model in force assesses, whichever format it has (model 1's or model 2's), in the
shape the radar records and explains (radar.risk.Assessment); and model 2's band rules as they
raise alerts for new signals (radar.evaluation)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from datetime import datetime, timedelta

from radar.risk import Assessment, Contribution, SignalFact, assess
from radar.risk_model_v2 import AnyRiskModel, RiskModelV2
from radar.risk_v2 import BandRule, SignalFactV2, assess_v2


def assess_any(facts: Sequence[SignalFact], model: AnyRiskModel, as_of: datetime) -> Assessment:
    """The household's score as recorded and explained (radar.risk.Assessment) under either
    model: model 1's `assess`, or model 2's `assess_v2` with each line's form factor and
    partner repetition beside model 1's factors (the band and repeats are not part of it)."""
    if not isinstance(model, RiskModelV2):
        return assess(facts, model, as_of)
    found = assess_v2([SignalFactV2.from_fact(f) for f in facts], model, as_of)
    return Assessment(
        score=found.score,
        as_of=as_of,
        model_version=model.version,
        contributions=tuple(
            Contribution(**{name: getattr(c, name) for name in _LINE_FIELDS})
            for c in found.contributions
        ),
        children_present=found.children_present,
        child_scores=found.child_scores,
    )


_LINE_FIELDS = tuple(f.name for f in fields(Contribution))


def high_band_reasons(
    facts: Sequence[SignalFact], new: Sequence[SignalFact], model: RiskModelV2, as_of: datetime
) -> list[str]:
    """The band rules (BandRule values) that the new signals put the household in the high
    band by at `as_of`: an acute form among them, or partner incidents enough within the year
    with one of them new. Reads the history only when a new signal is a partner incident."""
    found = []
    fresh = [SignalFactV2.from_fact(f) for f in new]
    acute_since = as_of - timedelta(days=model.acute.window_days)
    if any(
        f.occurred_at >= acute_since and any(model.form(g).acute for g in f.counted_forms(model))
        for f in fresh
    ):
        found.append(str(BandRule.ACUTE_FORM))
    rule = model.partner_violence
    since = as_of - timedelta(days=rule.window_days)
    if any(f.occurred_at >= since and f.is_partner_incident(model) for f in fresh):
        within = sum(
            1
            for f in facts
            if f.persons
            and f.occurred_at >= since
            and SignalFactV2.from_fact(f).is_partner_incident(model)
        )
        if within >= rule.incidents:
            found.append(str(BandRule.PARTNER_VIOLENCE))
    return found
