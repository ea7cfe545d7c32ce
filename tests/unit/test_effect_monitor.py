"""Properties of the effect monitor (hypothesis): every figure equals its count made by hand
from the history it was given, the figures as of a moment are those of the history up to that
moment, and each figure carries its definition."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from statistics import median
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from radar.case import HouseholdCase, case_id
from radar.effect_monitor import DEFINITIONS, NATIONAL, effect_monitor
from radar.household import Household, household_id
from radar.periods import Period
from radar.statistics_history import StatisticsHistory

START = datetime(2026, 1, 1, tzinfo=UTC)
PERIOD = Period.parse("2026H2")
HOUSEHOLDS = [f"hh.k1.{c * 32}" for c in "abcdef"]
CHILDREN = [f"p.k1.{c * 32}" for c in "123"]
REGIONS = ["VT09", "VT13"]
TYPES = ["vt_report", "domestic_incident", "vt_advice_request"]


@dataclass(frozen=True)
class Step:
    """One thing that happened: a signal received, or monitoring closed, on a day."""

    day: int
    household: str
    signal_type: str | None  # None: a closure
    region: str
    children: tuple[str, ...]
    achieved: bool

    @property
    def moment(self) -> datetime:
        return START + timedelta(days=self.day, hours=8)


steps = st.builds(
    Step,
    day=st.integers(0, 700),
    household=st.sampled_from(HOUSEHOLDS),
    signal_type=st.sampled_from([*TYPES, None]),
    region=st.sampled_from(REGIONS),
    children=st.lists(st.sampled_from(CHILDREN), unique=True, max_size=2).map(tuple),
    achieved=st.booleans(),
)


def build(event_class: Any, **fields: Any) -> Any:
    """A stored event made directly (the library's event classes take their fields)."""
    return event_class(**fields)


def events(history: list[Step]) -> list[Any]:
    """The stored events such a history leaves, in the order they were recorded."""
    found: list[Any] = []
    opened: set[str] = set()
    for number, step in enumerate(sorted(history, key=lambda s: s.day)):
        common: dict[str, Any] = {"originator_version": number + 2, "timestamp": step.moment}
        if step.signal_type is None:
            if step.household not in opened:
                opened.add(step.household)
                found.append(
                    build(
                        HouseholdCase.Opened,
                        originator_id=case_id(step.household),
                        originator_version=1,
                        timestamp=step.moment,
                        originator_topic="radar.case:HouseholdCase",
                        household=step.household,
                    )
                )
            found.append(
                build(
                    HouseholdCase.MonitoringClosed,
                    originator_id=case_id(step.household),
                    plan_id="p",
                    by={},
                    safety_achieved=step.achieved,
                    note="",
                    **common,
                )
            )
            continue
        found.append(
            build(
                Household.SignalRecorded,
                originator_id=household_id(step.household),
                household=step.household,
                signal_id=uuid.uuid4(),
                organisation="vt-utrecht",
                sector="veilig_thuis",
                signal_type=step.signal_type,
                severity="high",
                forms_of_violence=[],
                occurred_at=step.moment,
                reported_at=step.moment,
                received_at=step.moment,
                region=step.region,
                persons=[
                    {"pseudonym": c, "role": "child", "roles": ["child"], "age": None}
                    for c in step.children
                ],
                pseudonym_key_id="k1",
                **common,
            )
        )
    return found


def by_hand(history: list[Step], as_of: datetime) -> dict[str, dict[str, Any]]:
    """The figures counted from the steps themselves, one region at a time."""
    known = sorted((s for s in history if s.moment <= as_of), key=lambda s: s.day)
    counted: dict[str, dict[str, Any]] = {}
    for region in [*REGIONS, NATIONAL]:

        def here(step: Step, region: str = region) -> bool:
            return region == NATIONAL or step.region == region

        signals = [s for s in known if s.signal_type and s.moment in PERIOD and here(s)]
        days = []
        for household in HOUSEHOLDS:
            own = [s for s in known if s.household == household and s.signal_type]
            first = next((s for s in own if s.signal_type == "vt_report"), None)
            if first and first.moment in PERIOD and here(first):
                days.append(first.day - own[0].day)
        closed = []
        for household in HOUSEHOLDS:
            last = [s for s in known if s.household == household and not s.signal_type]
            last = [s for s in last if s.moment in PERIOD]
            if last:
                signals_before = [
                    s
                    for s in known
                    if s.household == household and s.signal_type and s.day <= last[-1].day
                ]
                at = signals_before[-1].region if signals_before else "unknown"
                if region == NATIONAL or at == region:
                    closed.append(last[-1])
        repeats = [
            c
            for c in closed
            if any(
                s.household == c.household
                and s.signal_type == "vt_report"
                and c.day < s.day <= c.day + 365
                for s in known
            )
        ]
        counted[region] = {
            "households_in_view": len({s.household for s in signals}),
            "children_in_view": len({c for s in signals for c in s.children}),
            "first_vt_reports": len(days),
            "days_to_first_vt_report_median": round(median(days), 1) if days else None,
            "monitoring_closed": len(closed),
            "safety_achieved_share": (
                round(sum(c.achieved for c in closed) / len(closed), 4) if closed else None
            ),
            "repeat_reports_within_12_months": len(repeats),
        }
    return counted


@settings(max_examples=200, deadline=None)
@given(st.lists(steps, max_size=30, unique_by=lambda s: s.day), st.integers(180, 1200))
def test_every_figure_equals_its_count_by_hand_as_of_any_moment(
    history: list[Step], as_of_day: int
) -> None:
    as_of = START + timedelta(days=as_of_day)
    recorded = [e for e in events(history) if e.timestamp <= as_of]
    monitor = effect_monitor(StatisticsHistory().apply_all(recorded), PERIOD, as_of)
    expected = by_hand(history, as_of)
    for region, figures in expected.items():
        shown = monitor.get(region)
        for name, value in figures.items():
            got = None if shown is None else shown[name].value
            if shown is None and value in (0, None):
                continue
            assert got == value, f"{region} {name}: {got} != {value}"


def test_each_figure_carries_its_definition() -> None:
    monitor = effect_monitor(StatisticsHistory(), PERIOD, START)
    assert set(monitor[NATIONAL]) == set(DEFINITIONS)
    assert all(f.definition == DEFINITIONS[n] for n, f in monitor[NATIONAL].items())
