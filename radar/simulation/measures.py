"""What the radar made of a synthetic world: recall, lead time and workload (issue 23).

Pure functions of the world (the truth) and what the pipeline recorded about each simulated
household (its alerts and its scores, in simulated days). An alert counts for recall only when
it was raised before the household's day of serious harm; lead time is the days between the
household's first alert and that day. The threshold curves take the scores the pipeline
recorded at each signal and ask when each household first reached the threshold: the score
rule alone, one alert per household (a household has at most one open risk alert).
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from radar.simulation.world import Course, World

DAYS_PER_WEEK = 7.0


@dataclass(frozen=True)
class Seen:
    """What the pipeline recorded about one simulated household, in simulated days."""

    alerts: tuple[tuple[float, str], ...] = ()  # (day raised, kind), in order
    scores: tuple[tuple[float, float], ...] = ()  # (day scored, score), in order


@dataclass(frozen=True)
class Measures:
    """One run's figures."""

    escalating: int  # escalating households (with their harm day in the horizon)
    recall: float  # share of them alerted before their harm day
    lead_days: tuple[float, ...]  # per alerted escalating household: harm day - first alert
    alerts: int  # all alerts raised in the horizon
    alerts_per_analyst_week: float  # scaled to a whole region's analysts
    escalating_share: float  # share of the alerts that concern escalating households

    @property
    def median_lead(self) -> float:
        return statistics.median(self.lead_days) if self.lead_days else 0.0


def measure(world: World, seen: Mapping[int, Seen]) -> Measures:
    """The figures for the alerts the pipeline raised."""
    firsts = {h: s.alerts[0][0] for h, s in seen.items() if s.alerts}
    counts = {h: len(s.alerts) for h, s in seen.items()}
    return _figures(world, firsts, counts)


def measure_at_threshold(world: World, seen: Mapping[int, Seen], threshold: float) -> Measures:
    """The figures had the score rule alone raised one alert per household at `threshold`."""
    firsts: dict[int, float] = {}
    for household, found in seen.items():
        crossing = next((day for day, score in found.scores if score >= threshold), None)
        if crossing is not None:
            firsts[household] = crossing
    return _figures(world, firsts, dict.fromkeys(firsts, 1))


def _figures(world: World, firsts: Mapping[int, float], counts: Mapping[int, int]) -> Measures:
    escalating = world.escalating()
    leads = []
    for household in escalating:
        first = firsts.get(household.index)
        assert household.harm_day is not None
        if first is not None and first < household.harm_day:
            leads.append(household.harm_day - first)
    total = sum(counts.values())
    of_escalating = sum(
        counts.get(h.index, 0) for h in world.households if h.course == Course.ESCALATING
    )
    weeks = world.parameters.horizon_days / DAYS_PER_WEEK
    return Measures(
        escalating=len(escalating),
        recall=len(leads) / len(escalating) if escalating else 0.0,
        lead_days=tuple(sorted(leads)),
        alerts=total,
        alerts_per_analyst_week=total / weeks / world.parameters.analysts(),
        escalating_share=of_escalating / total if total else 0.0,
    )


@dataclass(frozen=True)
class Spread:
    """A figure over several seeds: mean and standard deviation (0 for one seed)."""

    mean: float
    sd: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread:
        return cls(statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else 0.0)

    def shown(self, digits: int = 2) -> str:
        return f"{self.mean:.{digits}f} ± {self.sd:.{digits}f}"
