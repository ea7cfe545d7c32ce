"""The risk score over time, as the household page draws it: the moments at which to read the
score so that both its decay between signals and its jump at each signal show.

The score is a pure function of signals, model and moment (radar/risk.py), so the series is
only a choice of moments: evenly spaced ones for the decay curve, and each signal's moment
with the instant before it, so a new signal is a vertical step rather than a slope.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

CURVE_POINTS = 60
"""Evenly spaced readings: enough for a smooth decay at the width of a page."""
JUST_BEFORE = timedelta(seconds=1)


@dataclass(frozen=True)
class ScorePoint:
    moment: datetime
    score: Decimal


def series_moments(
    start: datetime, end: datetime, steps: Iterable[datetime], points: int = CURVE_POINTS
) -> list[datetime]:
    """Sorted moments from `start` to `end`: `points` evenly spaced, and each step's moment
    inside the window with the instant just before it."""
    if end <= start:
        return [end]
    span = end - start
    moments = {start + span * (i / (points - 1)) for i in range(points)}
    for step in steps:
        if start < step <= end:
            moments.update({step - JUST_BEFORE, step})
    return sorted(moments)


def score_series(
    score_at: Callable[[datetime], Decimal],
    start: datetime,
    end: datetime,
    steps: Iterable[datetime],
) -> list[ScorePoint]:
    """The score read at each of `series_moments`."""
    return [ScorePoint(m, score_at(m)) for m in series_moments(start, end, steps)]
