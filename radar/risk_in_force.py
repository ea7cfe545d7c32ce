"""What the model in force assesses, whichever format it has (model 1's or model 2's), in the
shape the radar records and explains (radar.risk.Assessment); and model 2's band rules as they
raise alerts for new signals (radar.evaluation)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
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
    new: Sequence[SignalFact],
    model: RiskModelV2,
    as_of: datetime,
    partner_incidents: Callable[[datetime], int],
) -> list[str]:
    """The band rules (BandRule values) that the new signals put the household in the high
    band by at `as_of`: an acute form among them, or partner incidents enough within the year
    with one of them new (`partner_incidents(since)` counts them: the score keeper's,
    so the history is not read)."""
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
    if (
        any(f.occurred_at >= since and f.is_partner_incident(model) for f in fresh)
        and partner_incidents(since) >= rule.incidents
    ):
        found.append(str(BandRule.PARTNER_VIOLENCE))
    return found
