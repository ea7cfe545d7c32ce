"""Risk model v2 as a pure function of a household's signal.v2 history, a model and a moment:
the score with its explanation, the band, and the repeat alerts the MARAC rule calls for.

The arithmetic is model 1's (radar/risk.py), signal by signal and in the same order, times two
factors of its own: the signal's form of violence and partner violence repeated (see
radar/risk_models/v2.toml). So:

- the explanation adds up to the score exactly (each contribution rounded to 0.01 first);
- every factor is at least 1 and only grows as signals are added: a new signal never lowers
  the score, nor the band;
- a v1 history, upcast (contracts/upcast_v1_v2.py), names no form of violence, no partner and
  no age, so both new factors are 1 and no rule raises its band: under a model that keeps model
  1's numbers for v1's types (`RiskModelV2.keeps_v1`, true of v2.toml) its score, explanation
  and child scores equal model 1's to the cent, and its band is high exactly where model 1
  raises a threshold alert. Only the MARAC rule applies to it as well: an incident of v1's
  incident types within a year of a high-risk alert calls for a repeat alert (by design: the
  rule needs no v2 fact).

Once adopted the household is scored incrementally with the same arithmetic (radar.scoring,
radar.scoring_v2); radar.evaluation raises the alerts its band and the MARAC rule call for.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from contracts.signal_v2 import SignalEventV2
from contracts.vocabulary_v2 import FormOfViolence, PersonRoleV2
from radar.model_1_factors import model_1_factors
from radar.risk import ZERO, PersonFact, SignalFact, in_cents, shown
from radar.risk_model_v2 import RiskModelV2

_CHILD = str(PersonRoleV2.CHILD)
_ELDER_ABUSE = str(FormOfViolence.ELDER_ABUSE)


@dataclass(frozen=True)
class SignalFactV2:
    """What risk model v2 knows of one recorded signal: model 1's facts, its forms of violence
    and its persons' roles and ages."""

    signal_id: str
    sector: str
    signal_type: str
    severity: str
    occurred_at: datetime
    received_at: datetime
    region: str
    forms: tuple[str, ...] = ()
    persons: tuple[PersonFact, ...] = ()

    @classmethod
    def from_event(cls, event: SignalEventV2) -> SignalFactV2:
        """The facts of a v2 signal (of a v1 one after contracts.upcast_v1_v2)."""
        return cls(
            signal_id=str(event.event_id),
            sector=str(event.sector),
            signal_type=str(event.signal_type),
            severity=str(event.severity),
            occurred_at=event.occurred_at,
            received_at=event.received_at,
            region=str(event.region),
            forms=tuple(str(f) for f in event.forms_of_violence),
            persons=tuple(
                PersonFact(p.pseudonym, tuple(str(r) for r in p.roles), p.age)
                for p in event.persons
            ),
        )

    @classmethod
    def from_fact(cls, fact: SignalFact) -> SignalFactV2:
        """A recorded signal's facts (radar.risk.SignalFact): its persons, or, when it said no
        more than v1 could, its children (their role child, no age: nothing else of its
        persons weighs in model 2)."""
        persons = fact.persons or tuple(PersonFact(c, (_CHILD,)) for c in fact.children)
        return cls(
            fact.signal_id,
            fact.sector,
            fact.signal_type,
            fact.severity,
            fact.occurred_at,
            fact.received_at,
            fact.region,
            fact.forms,
            persons,
        )

    def children(self, model: RiskModelV2) -> tuple[str, ...]:
        """The children it names: the role child, or younger than an adult (sorted, once)."""
        adult = model.children.adult_from_age
        return tuple(
            sorted(
                {
                    p.pseudonym
                    for p in self.persons
                    if _CHILD in p.roles or (p.age is not None and p.age < adult)
                }
            )
        )

    def counted_forms(self, model: RiskModelV2) -> tuple[str, ...]:
        """Its forms of violence as the model counts them: elder abuse only when it names a
        person of elder_abuse.min_age or older."""
        elder = any(p.age is not None and p.age >= model.elder_abuse.min_age for p in self.persons)
        return tuple(f for f in self.forms if f != _ELDER_ABUSE or elder)

    def form_factor(self, model: RiskModelV2) -> float:
        """The largest factor of its counted forms (1: none): static, the signal's own."""
        return max((model.form(f).factor for f in self.counted_forms(model)), default=1.0)

    def is_partner_incident(self, model: RiskModelV2) -> bool:
        rule = model.partner_violence
        partner = any(r in rule.roles for p in self.persons for r in p.roles)
        return partner and (
            self.signal_type in rule.types or any(f in rule.forms for f in self.forms)
        )

    def is_incident(self, model: RiskModelV2) -> bool:
        """An incident for the MARAC repeat rule: any form named, or an incident type."""
        return bool(self.forms) or self.signal_type in model.repeat_after_high_risk.incident_types

    def model_1_fact(self, model: RiskModelV2) -> SignalFact:
        """Model 1's view of it (what model 1's windows and escalation read)."""
        return SignalFact(
            self.signal_id,
            self.sector,
            self.signal_type,
            self.severity,
            self.occurred_at,
            self.received_at,
            self.region,
            self.children(model),
        )


@dataclass(frozen=True)
class ContributionV2:
    """How many points one signal adds, and why: model 1's factors, then the form of violence
    (the forms counted and the largest factor) and partner violence repeated."""

    signal_id: str
    signal_type: str
    sector: str
    severity: str
    occurred_at: datetime
    weight: float  # type weight x severity multiplier
    half_life_days: float
    decay: float
    convergence: float
    repetition: float
    escalation: float
    children: float
    sectors_nearby: int
    forms: tuple[str, ...]  # the forms of violence counted
    form: float
    partner: float
    points: Decimal


class Band(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class BandRule(StrEnum):
    """Why a household is in its band."""

    SCORE = "score"  # the score reached the band's threshold
    ACUTE_FORM = "acute_form"  # a form of violence acute by nature, within acute.window_days
    PARTNER_VIOLENCE = "partner_violence"  # the incidents of partner violence within a year


@dataclass(frozen=True)
class BandReason:
    rule: BandRule
    band: Band
    signal_ids: tuple[str, ...]  # the signals that raise it (none for the score)


@dataclass(frozen=True)
class RepeatDue:
    """The MARAC rule: this incident occurred within a year after a high-risk alert."""

    signal_id: str
    after_alert_at: datetime


@dataclass(frozen=True)
class AssessmentV2:
    """A household's score, band and explanation at a moment under a v2 model version."""

    score: Decimal
    band: Band
    reasons: tuple[BandReason, ...]  # every rule that puts it in (at least) a band above low
    as_of: datetime
    model_version: int
    contributions: tuple[ContributionV2, ...]  # those worth at least 0.01, most points first
    children_present: bool
    repeats: tuple[RepeatDue, ...] = ()
    child_scores: dict[str, Decimal] = field(default_factory=dict)


def assess_v2(
    facts: Sequence[SignalFactV2],
    model: RiskModelV2,
    as_of: datetime,
    high_risk_alerts: Iterable[datetime] = (),
) -> AssessmentV2:
    """The household's assessment at `as_of`; `high_risk_alerts` are the moments the household's
    high-risk alerts were raised (the case holds them), for the MARAC repeat rule."""
    contributions, any_children = _contributions(facts, model, as_of)
    score = sum((c.points for c in contributions), ZERO)
    reasons = _reasons(facts, model, as_of, score)
    children = sorted({child for fact in facts for child in fact.children(model)})
    child_scores = {}
    for child in children:
        own = [f for f in facts if child in f.children(model) or not f.children(model)]
        child_scores[child] = sum((c.points for c in _contributions(own, model, as_of)[0]), ZERO)
    alerts = sorted(high_risk_alerts)
    repeats = tuple(
        RepeatDue(f.signal_id, moment)
        for f in sorted(facts, key=lambda f: (f.occurred_at, f.signal_id))
        if (moment := repeat_due(f, alerts, model)) is not None
    )
    return AssessmentV2(
        score=score,
        band=max((r.band for r in reasons), key=list(Band).index, default=Band.LOW),
        reasons=reasons,
        as_of=as_of,
        model_version=model.version,
        contributions=contributions,
        children_present=any_children,
        repeats=repeats,
        child_scores=child_scores,
    )


def model_2_fact(fact: SignalFact, model: RiskModelV2) -> SignalFact:
    """A recorded signal as model 2's incremental scopes hold it (radar.scoring): its
    children are model 2's (the role child, or younger than an adult)."""
    if not fact.persons:
        return fact
    return replace(fact, children=SignalFactV2.from_fact(fact).children(model))


def repeat_due(
    fact: SignalFactV2, high_risk_alerts: Iterable[datetime], model: RiskModelV2
) -> datetime | None:
    """The latest high-risk alert this incident occurred within a year after (the MARAC rule:
    a repeat alert, whatever the score), or None."""
    if not fact.is_incident(model):
        return None
    window = timedelta(days=model.repeat_after_high_risk.window_days)
    earlier = [a for a in high_risk_alerts if a < fact.occurred_at <= a + window]
    return max(earlier, default=None)


def _contributions(
    facts: Sequence[SignalFactV2], model: RiskModelV2, as_of: datetime
) -> tuple[tuple[ContributionV2, ...], bool]:
    """Each signal's points: model 1's factors (radar.risk.model_1_factors) times the two
    factors of model 2."""
    ordered = sorted(facts, key=lambda f: (f.occurred_at, f.signal_id))
    base = [f.model_1_fact(model) for f in ordered]
    concerning = {str(t) for t in model.children.types_concerning_children}
    any_children = any(b.children or b.signal_type in concerning for b in base)
    partner_times = [f.occurred_at for f in ordered if f.is_partner_incident(model)]
    partner_window = timedelta(days=model.partner_violence.window_days)
    contributions = []
    for fact, plain in zip(ordered, model_1_factors(base, model, as_of), strict=True):
        forms = fact.counted_forms(model)
        form = fact.form_factor(model)
        partner = 1.0
        if fact.is_partner_incident(model):
            within = _count(partner_times, fact.occurred_at - partner_window, fact.occurred_at)
            if within >= model.partner_violence.incidents:
                partner = model.partner_violence.factor
        points = in_cents(plain.product() * form * partner)
        contributions.append(
            ContributionV2(
                signal_id=fact.signal_id,
                signal_type=fact.signal_type,
                sector=fact.sector,
                severity=fact.severity,
                occurred_at=fact.occurred_at,
                weight=plain.weight,
                half_life_days=plain.half_life_days,
                decay=plain.decay,
                convergence=plain.convergence,
                repetition=plain.repetition,
                escalation=plain.escalation,
                children=plain.children,
                sectors_nearby=plain.sectors_nearby,
                forms=forms,
                form=form,
                partner=partner,
                points=points,
            )
        )
    return shown(contributions), any_children


def _reasons(
    facts: Sequence[SignalFactV2], model: RiskModelV2, as_of: datetime, score: Decimal
) -> tuple[BandReason, ...]:
    """Every rule that lifts the household above the low band, the score's first."""
    reasons = []
    if score >= Decimal(str(model.thresholds.alert_score)):
        reasons.append(BandReason(BandRule.SCORE, Band.HIGH, ()))
    elif score >= Decimal(str(model.bands.medium)):
        reasons.append(BandReason(BandRule.SCORE, Band.MEDIUM, ()))
    acute_since = as_of - timedelta(days=model.acute.window_days)
    acute = sorted(
        f.signal_id
        for f in facts
        if f.occurred_at >= acute_since and any(model.form(g).acute for g in f.counted_forms(model))
    )
    if acute:
        reasons.append(BandReason(BandRule.ACUTE_FORM, Band.HIGH, tuple(acute)))
    partner_since = as_of - timedelta(days=model.partner_violence.window_days)
    partner = sorted(
        f.signal_id
        for f in facts
        if f.is_partner_incident(model) and f.occurred_at >= partner_since
    )
    if len(partner) >= model.partner_violence.incidents:
        reasons.append(BandReason(BandRule.PARTNER_VIOLENCE, Band.HIGH, tuple(partner)))
    return tuple(reasons)


def _count(ordered_times: list[datetime], low: datetime, high: datetime) -> int:
    """How many of the sorted moments lie within [low, high]."""
    return bisect_right(ordered_times, high) - bisect_left(ordered_times, low)
