"""The region dashboard: the worklist's size and age against the lead-time norm, and open
alerts by kind over the weeks they were raised, as bar charts (server-side SVG geometry).
Counts only: no household is named, but it is read through the gate like the worklist."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from services.casework.views import AlertView

NORM_DAYS = 5
"""Veilig Thuis decides on a report's safety within five working days (veiligheidsbeoordeling);
an alert open longer is past the norm (calendar days here: the stricter reading)."""
AGE_BUCKETS = ((0, 2), (2, NORM_DAYS), (NORM_DAYS, 14), (14, 30), (30, None))
WEEKS = 12
KIND_COLOURS = {
    "threshold": "#154273",
    "cross_sector": "#b35900",
    "breach": "#8b0000",
    "check_overdue": "#6a1b9a",
    "repeat": "#1b5e20",
}
OTHER_COLOUR = "#333333"
WIDTH, HEIGHT, LEFT, BOTTOM, TOP = 720.0, 200.0, 40.0, 28.0, 10.0


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    colour: str
    label: str


@dataclass(frozen=True)
class Bars:
    bars: list[Bar]
    labels: list[tuple[float, str]]
    top: int
    width: float = WIDTH
    height: float = HEIGHT
    base: float = HEIGHT - BOTTOM
    left: float = LEFT


def _label(low: int, high: int | None) -> str:
    return f"{low}+" if high is None else f"{low}-{high}"


def age_bars(alerts: list[AlertView]) -> Bars:
    """How long the open alerts have been open, in buckets around the norm."""
    counts = [
        sum(1 for a in alerts if a.days_open >= low and (high is None or a.days_open < high))
        for low, high in AGE_BUCKETS
    ]
    colours = [
        "#1b5e20" if (high or NORM_DAYS + 1) <= NORM_DAYS else "#8b0000" for _, high in AGE_BUCKETS
    ]
    columns = [
        [(count, colour, f"{_label(*bucket)}: {count}")]
        for count, colour, bucket in zip(counts, colours, AGE_BUCKETS, strict=True)
    ]
    return _bars(columns, [_label(*b) for b in AGE_BUCKETS])


def kind_bars(alerts: list[AlertView], now: datetime) -> Bars:
    """Open alerts by the week they were raised (the last WEEKS weeks), stacked by kind."""
    start = now - timedelta(weeks=WEEKS)
    weeks: list[Counter[str]] = [Counter() for _ in range(WEEKS)]
    for alert in alerts:
        if alert.raised_at >= start:
            index = min(WEEKS - 1, int((alert.raised_at - start) / timedelta(weeks=1)))
            weeks[index][alert.kind] += 1
    columns = [
        [
            (n, KIND_COLOURS.get(kind, OTHER_COLOUR), f"{kind}: {n}")
            for kind, n in sorted(week.items())
        ]
        for week in weeks
    ]
    labels = [(start + timedelta(weeks=i)).date().isoformat()[5:] for i in range(WEEKS)]
    return _bars(columns, labels)


def _bars(columns: list[list[tuple[int, str, str]]], labels: list[str]) -> Bars:
    top = max([sum(n for n, _, _ in column) for column in columns] + [1])
    slot = (WIDTH - LEFT) / len(columns)
    scale = (HEIGHT - BOTTOM - TOP) / top
    bars, placed = [], []
    for index, column in enumerate(columns):
        x = LEFT + index * slot + slot * 0.15
        base = HEIGHT - BOTTOM
        for count, colour, label in column:
            height = count * scale
            if height:
                bars.append(Bar(x, base - height, slot * 0.7, height, colour, label))
            base -= height
        placed.append((LEFT + index * slot + slot / 2, labels[index]))
    return Bars(bars, placed, top)
