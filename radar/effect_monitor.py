"""The programme's effect monitor: per region and period, whether households come into view
sooner, whether safety conditions lead to safety, whether violence recurs after closure, and
how many households and children the radar sees. Each figure carries its definition, which
is printed next to it wherever the figure is shown: a number without its definition gets
read as whatever the reader hopes.

All moments are the radar's: a signal counts when the radar received it (`received_at`), a
closure when it was recorded. The figures are computed from a StatisticsHistory, so a replay
of the store up to T gives the figures as they stood at T.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import median

from contracts.vocabulary import SignalType
from radar.periods import Period
from radar.safety import NETHERLANDS
from radar.statistics_history import Closure, HouseholdHistory, StatisticsHistory

VT_REPORT = str(SignalType.VT_REPORT)
NATIONAL = "national"
"""The row of all regions together: each household counted once, in the region of its event."""

DEFINITIONS: dict[str, str] = {
    "households_in_view": (
        "Distinct households with at least one signal (not retracted) that the radar received "
        "in the period from this region."
    ),
    "children_in_view": ("Distinct children (persons named with the role child) in those signals."),
    "first_vt_reports": (
        "Households whose first report to Veilig Thuis (signal type vt_report; the earliest "
        "one the radar received, ever) was received in the period, in this region."
    ),
    "days_to_first_vt_report_median": (
        "For those households: the median number of days from the first signal the radar "
        "received about the household (any type, any region) to its first Veilig Thuis "
        "report; 0 when that report was the first signal. None when there are none."
    ),
    "seen_before_vt_report_share": (
        "For those households: the share (0 to 1) where the radar held a signal before the "
        "first Veilig Thuis report, that is, where the household was in view sooner."
    ),
    "monitoring_closed": (
        "Households whose monitoring of safety conditions was closed in the period, counted in "
        "the region responsible for the household at the closure (the last closure in the "
        "period counts when there were more)."
    ),
    "safety_achieved_share": (
        "Of those households: the share (0 to 1) where the analyst recorded at the closure "
        "that the conditions led to safety. None when no monitoring closed."
    ),
    "repeat_reports_within_12_months": (
        "Of those households: how many had a new Veilig Thuis report (vt_report) received "
        "after the closure and within 12 months of it, as far as the radar knew at the moment "
        "of the figures."
    ),
    "repeat_window_complete": (
        "Of those households: how many closures lie 12 months or more before the moment of the "
        "figures, so that their whole 12-month window has been seen; the others can still "
        "gain a repeat report."
    ),
}


@dataclass(frozen=True)
class Figure:
    value: int | float | None
    definition: str


def _year_after(moment: datetime) -> datetime:
    local = moment.astimezone(NETHERLANDS)
    try:
        return local.replace(year=local.year + 1)
    except ValueError:  # 29 February: a year later is 28 February
        return local.replace(year=local.year + 1, day=28)


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _first_reports(history: StatisticsHistory, period: Period) -> dict[str, dict[str, float]]:
    """region -> household -> days from its first signal to its first VT report in period."""
    found: dict[str, dict[str, float]] = {}
    for household in history.households.values():
        notes = household.notes()
        report = next((n for n in notes if n.signal_type == VT_REPORT), None)
        if report is None or report.received_at not in period:
            continue
        days = (report.received_at - notes[0].received_at) / timedelta(days=1)
        found.setdefault(report.region, {})[household.pseudonym] = days
    return found


def _closures(
    history: StatisticsHistory, period: Period
) -> dict[str, list[tuple[HouseholdHistory, Closure]]]:
    """region -> (household, its last closure in the period)."""
    found: dict[str, list[tuple[HouseholdHistory, Closure]]] = {}
    for household in history.households.values():
        within = [c for c in household.closures if c.closed_at in period]
        if within:
            last = within[-1]
            found.setdefault(last.region or "unknown", []).append((household, last))
    return found


def _repeated(household: HouseholdHistory, closure: Closure) -> bool:
    until = _year_after(closure.closed_at)
    return any(
        n.signal_type == VT_REPORT and closure.closed_at < n.received_at <= until
        for n in household.signals.values()
    )


def effect_monitor(
    history: StatisticsHistory, period: Period, as_of: datetime
) -> dict[str, dict[str, Figure]]:
    """region (and NATIONAL) -> figure name -> its value and definition."""
    in_view: dict[str, tuple[set[str], set[str]]] = {}
    for household in history.households.values():
        for note in household.signals.values():
            if note.received_at in period:
                for region in (note.region, NATIONAL):
                    seen, children = in_view.setdefault(region, (set(), set()))
                    seen.add(household.pseudonym)
                    children.update(note.children)
    reports = _first_reports(history, period)
    reports[NATIONAL] = {h: d for by in list(reports.values()) for h, d in by.items()}
    closures = _closures(history, period)
    closures[NATIONAL] = [pair for pairs in list(closures.values()) for pair in pairs]
    regions = sorted(set(in_view) | set(reports) | set(closures) | {NATIONAL})
    return {
        region: _figures(
            in_view.get(region, (set(), set())),
            reports.get(region, {}),
            closures.get(region, []),
            as_of,
        )
        for region in regions
    }


def _figures(
    in_view: tuple[set[str], set[str]],
    reports: dict[str, float],
    closures: list[tuple[HouseholdHistory, Closure]],
    as_of: datetime,
) -> dict[str, Figure]:
    days = list(reports.values())
    values: dict[str, int | float | None] = {
        "households_in_view": len(in_view[0]),
        "children_in_view": len(in_view[1]),
        "first_vt_reports": len(days),
        "days_to_first_vt_report_median": round(median(days), 1) if days else None,
        "seen_before_vt_report_share": _share(sum(1 for d in days if d > 0), len(days)),
        "monitoring_closed": len(closures),
        "safety_achieved_share": _share(
            sum(1 for _h, c in closures if c.safety_achieved), len(closures)
        ),
        "repeat_reports_within_12_months": sum(1 for h, c in closures if _repeated(h, c)),
        "repeat_window_complete": sum(1 for _h, c in closures if _year_after(c.closed_at) <= as_of),
    }
    return {name: Figure(values[name], DEFINITIONS[name]) for name in DEFINITIONS}
