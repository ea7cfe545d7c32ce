"""The household's risk chart as server-side SVG geometry: the score line with its decay, a
marker per shown signal coloured by sector, and bands for alerts and safety conditions. Only
numbers and the purpose's own labels go in: the template draws them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal

from radar.score_series import ScorePoint

WIDTH, HEIGHT = 720.0, 240.0
LEFT, RIGHT, TOP, BOTTOM = 48.0, 12.0, 12.0, 28.0
"""Margins for the axes' labels."""
SECTOR_COLOURS = {
    "police": "#154273",
    "education": "#b35900",
    "veilig_thuis": "#6a1b9a",
    "youth_care": "#1b5e20",
    "mental_health": "#8b0000",
    "healthcare": "#8b0000",
}
OTHER_COLOUR = "#333333"
"""Every colour has a contrast of at least 4.5:1 on white (WCAG 2.1 AA)."""


@dataclass(frozen=True)
class Marker:
    x: float
    y: float
    colour: str
    label: str


@dataclass(frozen=True)
class Band:
    x: float
    width: float
    kind: str  # "alert" or "conditions"
    label: str


@dataclass
class Chart:
    """What the template draws, in SVG user units."""

    path: str
    markers: list[Marker] = field(default_factory=list)
    bands: list[Band] = field(default_factory=list)
    y_ticks: list[tuple[float, str]] = field(default_factory=list)
    x_ticks: list[tuple[float, str, str]] = field(default_factory=list)  # x, label, anchor
    width: float = WIDTH
    height: float = HEIGHT
    plot_bottom: float = HEIGHT - BOTTOM
    plot_left: float = LEFT


@dataclass(frozen=True)
class SignalMark:
    moment: datetime
    sector: str
    label: str


@dataclass(frozen=True)
class Span:
    start: datetime
    end: datetime
    kind: str
    label: str


def day_start(day: date) -> datetime:
    return datetime.combine(day, time(), UTC)


def chart(points: list[ScorePoint], signals: list[SignalMark], spans: list[Span]) -> Chart:
    """The geometry of the series with its markers and bands; an empty series draws nothing."""
    if not points:
        return Chart(path="")
    start, end = points[0].moment, points[-1].moment
    top = max([p.score for p in points] + [Decimal(1)])
    scale = _Scale(start, end, float(top))
    path = " ".join(
        f"{'M' if i == 0 else 'L'}{scale.x(p.moment):.1f},{scale.y(float(p.score)):.1f}"
        for i, p in enumerate(points)
    )
    result = Chart(path=path)
    for mark in signals:
        score = _score_at(points, mark.moment)
        colour = SECTOR_COLOURS.get(mark.sector, OTHER_COLOUR)
        result.markers.append(Marker(scale.x(mark.moment), scale.y(score), colour, mark.label))
    for span in spans:
        left = scale.x(max(span.start, start))
        right = scale.x(min(span.end, end))
        if right > left:
            result.bands.append(Band(left, right - left, span.kind, span.label))
    result.y_ticks = [(scale.y(top * k / 4), f"{float(top) * k / 4:.0f}") for k in range(5)]
    moments = zip((start, start + (end - start) / 2, end), ("start", "middle", "end"), strict=True)
    result.x_ticks = [(scale.x(m), m.date().isoformat(), anchor) for m, anchor in moments]
    return result


def _score_at(points: list[ScorePoint], moment: datetime) -> float:
    """The score drawn at a signal's moment: the reading at or right after it."""
    after = [p for p in points if p.moment >= moment]
    return float((after[0] if after else points[-1]).score)


@dataclass(frozen=True)
class _Scale:
    start: datetime
    end: datetime
    top: float

    def x(self, moment: datetime) -> float:
        span = (self.end - self.start).total_seconds() or 1.0
        share = (moment - self.start).total_seconds() / span
        return LEFT + share * (WIDTH - LEFT - RIGHT)

    def y(self, score: float | Decimal) -> float:
        share = float(score) / self.top
        return TOP + (1 - share) * (HEIGHT - TOP - BOTTOM)
