"""Model 1's factors of each signal, computed over a whole history: the full recomputation
that model 1's `assess` and model 2 (radar.risk_v2) both build on, and the small functions the
incremental score keeper (radar.scoring) shares with it."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from contracts.vocabulary import Severity
from radar.risk_model import Convergence, Escalation, Repetition, TypeWeight

if TYPE_CHECKING:
    from radar.risk import SignalFact

SECONDS_PER_DAY = 86400.0
_SEVERITY_RANK = {str(s): rank for rank, s in enumerate(Severity)}


class _ChildrenRule(Protocol):
    @property
    def named_factor(self) -> float: ...

    @property
    def in_household_factor(self) -> float: ...

    @property
    def types_concerning_children(self) -> frozenset[str]: ...


class Model1Rules(Protocol):
    """What model 1's factors read of a model: model 1 itself, and model 2, which keeps them
    (radar.risk_v2 multiplies them by its own two factors)."""

    @property
    def convergence(self) -> Convergence: ...

    @property
    def repetition(self) -> Repetition: ...

    @property
    def escalation(self) -> Escalation: ...

    @property
    def children(self) -> _ChildrenRule: ...

    def type_weight(self, signal_type: str) -> TypeWeight: ...

    def severity_multiplier(self, severity: str) -> float: ...


@dataclass(frozen=True)
class Model1Factors:
    """One signal's factors under model 1's rules, and how many sectors signalled near it."""

    weight: float
    half_life_days: float
    decay: float
    convergence: float
    repetition: float
    escalation: float
    children: float
    sectors_nearby: int

    def product(self) -> float:
        return _product(
            self.weight,
            self.decay,
            self.convergence,
            self.repetition,
            self.escalation,
            self.children,
        )


def model_1_factors(
    ordered: Sequence[SignalFact], model: Model1Rules, as_of: datetime
) -> list[Model1Factors]:
    """Each signal's factors at `as_of`, for facts in order (occurred, then signal id): the
    one full recomputation model 1 and model 2 both build on."""
    times = [f.occurred_at for f in ordered]
    concerning = {str(t) for t in model.children.types_concerning_children}
    any_children = any(f.children or f.signal_type in concerning for f in ordered)
    escalation_window = timedelta(days=model.escalation.window_days)
    found = []
    for index, fact in enumerate(ordered):
        kind = model.type_weight(fact.signal_type)
        nearby = _window(ordered, times, fact, model.convergence.window_days)
        sectors = len({f.sector for f in nearby})
        others = len(_window(ordered, times, fact, model.repetition.window_days)) - 1
        earlier = ordered[bisect_left(times, fact.occurred_at - escalation_window) : index]
        if fact.children or fact.signal_type in concerning:
            children = model.children.named_factor
        elif any_children:
            children = model.children.in_household_factor
        else:
            children = 1.0
        found.append(
            Model1Factors(
                weight=kind.weight * model.severity_multiplier(fact.severity),
                half_life_days=kind.half_life_days,
                decay=_decay(fact.occurred_at, as_of, kind.half_life_days),
                convergence=min(
                    1 + model.convergence.bonus_per_extra_sector * (sectors - 1),
                    model.convergence.max_factor,
                ),
                repetition=min(
                    1 + model.repetition.bonus_per_other_signal * others,
                    model.repetition.max_factor,
                ),
                escalation=model.escalation.factor if _escalates(earlier, fact) else 1.0,
                children=children,
                sectors_nearby=sectors,
            )
        )
    return found


def _window(
    ordered: Sequence[SignalFact], times: list[datetime], fact: SignalFact, days: float
) -> Sequence[SignalFact]:
    window = timedelta(days=days)
    low = bisect_left(times, fact.occurred_at - window)
    high = bisect_right(times, fact.occurred_at + window)
    return ordered[low:high]


def _escalates(earlier: Sequence[SignalFact], fact: SignalFact) -> bool:
    """Whether a signal that occurred before this one (within the window) was less severe."""
    rank = _SEVERITY_RANK[fact.severity]
    return any(
        _SEVERITY_RANK[f.severity] < rank and f.occurred_at < fact.occurred_at for f in earlier
    )


def _decay(occurred_at: datetime, moment: datetime, half_life_days: float) -> float:
    age_days = max(0.0, (moment - occurred_at).total_seconds() / SECONDS_PER_DAY)
    return float(0.5 ** (age_days / half_life_days))


def _product(
    weight: float,
    decay: float,
    convergence: float,
    repetition: float,
    escalation: float,
    children: float,
) -> float:
    return weight * decay * convergence * repetition * escalation * children
