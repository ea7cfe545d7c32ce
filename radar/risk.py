"""The risk score: a pure function of a household's signals, a model version and a moment.

Every signal contributes points (see radar/risk_models/v1.toml for the formula in words); the
score is the sum of the contributions, each rounded to 0.01 first, so an explanation always adds
up to its score exactly. All factors are at least 1 and only grow when signals are added, which
is why a new signal can never lower a score, and decay is the only thing that depends on the
moment, which is why a score left alone falls toward zero.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Protocol, TypeVar

from radar.model_1_factors import _decay, _product, model_1_factors
from radar.risk_model import RiskModel

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class PersonFact:
    """What the risk model knows of a person a signal names (never more than signal.v2 says)."""

    pseudonym: str
    roles: tuple[str, ...]
    age: int | None = None


@dataclass(frozen=True)
class SignalFact:
    """What the risk model knows of one recorded signal. `forms` and `persons` are signal.v2's
    facts (radar.risk_v2 reads them); a signal that said nothing beyond v1 (its persons' one
    role each, no age, no form) keeps them empty, and model 2 reads its children alone."""

    signal_id: str
    sector: str
    signal_type: str
    severity: str
    occurred_at: datetime
    received_at: datetime
    region: str
    children: tuple[str, ...] = ()  # pseudonyms of the children it names
    forms: tuple[str, ...] = ()  # the forms of violence it names
    persons: tuple[PersonFact, ...] = ()  # each person's roles and age, when v2 said more

    def record(self) -> dict[str, Any]:
        """As plain data, for aggregate state and snapshots."""
        return {
            "signal_id": self.signal_id,
            "sector": self.sector,
            "signal_type": self.signal_type,
            "severity": self.severity,
            "occurred_at": self.occurred_at,
            "received_at": self.received_at,
            "region": self.region,
            "children": list(self.children),
        }

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> SignalFact:
        return cls(
            signal_id=str(record["signal_id"]),
            sector=record["sector"],
            signal_type=record["signal_type"],
            severity=record["severity"],
            occurred_at=record["occurred_at"],
            received_at=record["received_at"],
            region=record["region"],
            children=tuple(record["children"]),
        )


@dataclass(frozen=True)
class Contribution:
    """How many points one signal adds, and why: every factor of the product is kept."""

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
    sectors_nearby: int  # distinct sectors within the convergence window, itself included
    points: Decimal
    form: float = 1.0  # model 2: the largest factor of its forms of violence (1: none, model 1)
    partner: float = 1.0  # model 2: partner violence repeated (1: not, or model 1)

    def record(self) -> dict[str, Any]:
        """As plain data, for events and read models (model 2's factors only when not 1, so
        model 1's records keep their shape)."""
        values: dict[str, Any] = {name: getattr(self, name) for name in _CONTRIBUTION_FIELDS}
        values["points"] = str(self.points)
        _model_2_factors(values, self.form, self.partner)
        return values

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Contribution:
        values = dict(record)
        values["points"] = Decimal(str(values["points"]))
        return cls(**values)

    def at(self, moment: datetime) -> Contribution:
        """The same contribution decayed to a later moment; the other factors do not change."""
        return self.factors().at(moment)

    def factors(self) -> Factors:
        """What does not depend on the moment: what a ScoreChanged event records."""
        values = {name: getattr(self, name) for name in _FACTORS_FIELDS}
        return Factors(**values)


@dataclass(frozen=True)
class Factors:
    """One signal's contribution without its decay: it changes only when a signal near it
    changes, not with the moment, so the household keeps these and decays them on read."""

    signal_id: str
    signal_type: str
    sector: str
    severity: str
    occurred_at: datetime
    weight: float
    half_life_days: float
    convergence: float
    repetition: float
    escalation: float
    children: float
    sectors_nearby: int
    # model 2's (radar.risk_v2): 1 under model 1, and in every record made before model 2
    form: float = 1.0
    partner: float = 1.0

    def at(self, moment: datetime) -> Contribution:
        """The contribution at `moment`: the same arithmetic as the full assessment."""
        decay = _decay(self.occurred_at, moment, self.half_life_days)
        values: dict[str, Any] = {name: getattr(self, name) for name in _FACTORS_FIELDS}
        return Contribution(**values, decay=decay, points=in_cents(self.product(decay)))

    def product(self, decay: float) -> float:
        """The unrounded points at this decay: model 1's product, then model 2's two factors
        (radar.risk_v2's order; x 1.0 x 1.0 leaves model 1's float as it is)."""
        return (
            _product(
                self.weight,
                decay,
                self.convergence,
                self.repetition,
                self.escalation,
                self.children,
            )
            * self.form
            * self.partner
        )

    def record(self) -> dict[str, Any]:
        """As plain data (model 2's factors only when not 1: model 1's records keep their
        shape, and a record without them reads as 1)."""
        values = {name: getattr(self, name) for name in _FACTORS_FIELDS_V1}
        _model_2_factors(values, self.form, self.partner)
        return values

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Factors:
        values = {name: record[name] for name in _FACTORS_FIELDS_V1}
        return cls(**values, form=record.get("form", 1.0), partner=record.get("partner", 1.0))


def _model_2_factors(values: dict[str, Any], form: float, partner: float) -> None:
    if form != 1.0:
        values["form"] = form
    if partner != 1.0:
        values["partner"] = partner


# field names looked up once (dataclasses.fields() per call was 10 % of the aggregator's time)
_FACTORS_FIELDS = tuple(f.name for f in fields(Factors))
_FACTORS_FIELDS_V1 = tuple(n for n in _FACTORS_FIELDS if n not in ("form", "partner"))
_CONTRIBUTION_FIELDS = tuple(
    f.name for f in fields(Contribution) if f.name not in ("form", "partner")
)


@dataclass(frozen=True)
class Assessment:
    """A household's score at a moment under one model version, with its explanation."""

    score: Decimal
    as_of: datetime
    model_version: int
    contributions: tuple[Contribution, ...]  # those worth at least 0.01, most points first
    children_present: bool
    child_scores: dict[str, Decimal] = field(default_factory=dict)

    def sectors(self) -> list[str]:
        return sorted({c.sector for c in self.contributions})


def assess(facts: Sequence[SignalFact], model: RiskModel, as_of: datetime) -> Assessment:
    """The household's score at `as_of`, with one score per child named in its signals.

    A child's score counts the signals that name the child and the signals that name no child
    (those concern the whole household).
    """
    household = _assess(facts, model, as_of)
    children = sorted({child for fact in facts for child in fact.children})
    child_scores = {
        child: _assess(
            [f for f in facts if child in f.children or not f.children], model, as_of
        ).score
        for child in children
    }
    return Assessment(
        score=household.score,
        as_of=as_of,
        model_version=model.version,
        contributions=household.contributions,
        children_present=household.children_present,
        child_scores=child_scores,
    )


def score_at(contributions: Iterable[Contribution], as_of: datetime, moment: datetime) -> Decimal:
    """The score an explanation recorded at `as_of` decays to by `moment` (read side).

    Equal to assessing the same signals at `moment`: contributions left out of the explanation
    were below 0.01 and only get smaller.
    """
    later = max(moment, as_of)
    return sum((c.at(later).points for c in contributions), ZERO)


def sectors_near(facts: Sequence[SignalFact], fact: SignalFact, window_days: float) -> set[str]:
    """The sectors of the signals within the window around one signal, its own included."""
    window = timedelta(days=window_days)
    return {f.sector for f in facts if abs(f.occurred_at - fact.occurred_at) <= window}


def children_present(facts: Iterable[SignalFact], model: RiskModel) -> bool:
    """Whether any signal names a child or concerns children by its type."""
    concerning = {str(t) for t in model.children.types_concerning_children}
    return any(f.children or f.signal_type in concerning for f in facts)


@dataclass(frozen=True)
class _Scored:
    score: Decimal
    contributions: tuple[Contribution, ...]
    children_present: bool


def _assess(facts: Sequence[SignalFact], model: RiskModel, as_of: datetime) -> _Scored:
    ordered = sorted(facts, key=lambda f: (f.occurred_at, f.signal_id))
    contributions = [
        Contribution(
            signal_id=fact.signal_id,
            signal_type=fact.signal_type,
            sector=fact.sector,
            severity=fact.severity,
            occurred_at=fact.occurred_at,
            weight=factors.weight,
            half_life_days=factors.half_life_days,
            decay=factors.decay,
            convergence=factors.convergence,
            repetition=factors.repetition,
            escalation=factors.escalation,
            children=factors.children,
            sectors_nearby=factors.sectors_nearby,
            points=in_cents(factors.product()),
        )
        for fact, factors in zip(ordered, model_1_factors(ordered, model, as_of), strict=True)
    ]
    any_children = children_present(ordered, model)
    lines = shown(contributions)
    return _Scored(sum((c.points for c in lines), ZERO), lines, any_children)


def shown_contributions(factors: Iterable[Factors], moment: datetime) -> tuple[Contribution, ...]:
    """The explanation at `moment` from each signal's factors, as `assess` shows it."""
    return shown(f.at(moment) for f in factors)


class _Shown(Protocol):
    @property
    def points(self) -> Decimal: ...

    @property
    def occurred_at(self) -> datetime: ...

    @property
    def signal_id(self) -> str: ...


ShownT = TypeVar("ShownT", bound=_Shown)


def shown(contributions: Iterable[ShownT]) -> tuple[ShownT, ...]:
    """Those worth at least 0.01, most points first (model 1's and model 2's lines alike)."""
    return tuple(
        sorted(
            (c for c in contributions if c.points > 0),
            key=lambda c: (-c.points, c.occurred_at, c.signal_id),
        )
    )


def in_cents(product: float) -> Decimal:
    """Points as shown and summed: the product rounded half up to 0.01."""
    return Decimal(product).quantize(CENT, rounding=ROUND_HALF_UP)
