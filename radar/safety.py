"""Safety conditions (veiligheidsvoorwaarden) and the monitoring of whether they lead to safety.

An analyst records the conditions agreed with a household, the signal types they exclude (a new
huisverbod, say; by default the incidents a VT analyst expects: DEFAULT_BREACH_TYPES), a
monitoring period and check dates. A new signal of an excluded type during
the period is a breach; a check date that passes without an assessment is a missed check; when
monitoring closes, whether safety was achieved is recorded: the outcome measure the programme
asks for. Dates are Dutch calendar dates.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from contracts.signal_types_v2 import SignalTypeV2
from contracts.vocabulary import SignalType
from radar.free_text import checked_text
from radar.risk import SignalFact

NETHERLANDS = ZoneInfo("Europe/Amsterdam")
DEFAULT_CHECK_MONTHS = (3, 6, 12)
ALWAYS_EXCLUDED = frozenset({str(SignalType.SAFETY_CONDITIONS_BREACHED)})
DEFAULT_BREACH_TYPES = ALWAYS_EXCLUDED | {
    str(SignalType.HUISVERBOD),
    str(SignalType.DOMESTIC_INCIDENT),
    str(SignalType.INCIDENT_WITH_CHILDREN_PRESENT),
}
"""What breaches a plan recorded without listing types: new violence in the home is what the
conditions are meant to prevent. A plan's event carries the types it counts, so plans recorded
before this default (which counted only a breach report) keep their meaning."""
MAX_CONDITIONS = 20
MAX_CONDITION_LENGTH = 500


class SafetyPlanError(ValueError):
    """Conditions or dates that cannot be recorded as given."""


class MonitoringStateError(ValueError):
    """A monitoring step that does not fit the state: conditions already monitored, a check
    already assessed, monitoring already closed."""


def dutch_date(moment: datetime) -> date:
    return moment.astimezone(NETHERLANDS).date()


def add_months(day: date, months: int) -> date:
    """The same day `months` later, or the month's last day when it has no such day."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def default_check_dates(
    starts_on: date, months: Iterable[int] = DEFAULT_CHECK_MONTHS
) -> list[date]:
    """Check dates at 3, 6 and 12 months: the usual rhythm of monitoring."""
    return [add_months(starts_on, m) for m in months]


@dataclass
class SafetyPlan:
    """One set of safety conditions and its monitoring, as the household's case knows it."""

    plan_id: str
    conditions: list[str]
    excluded_signal_types: list[str]
    starts_on: date
    ends_on: date
    check_dates: list[date]
    recorded_by: dict[str, Any]
    assessments: dict[str, dict[str, Any]] = field(default_factory=dict)  # iso date -> record
    reminded: set[str] = field(default_factory=set)  # iso dates a reminder was raised for
    outcome: dict[str, Any] | None = None  # set when monitoring closes
    breaches: list[str] = field(default_factory=list)  # signal ids

    @property
    def is_active(self) -> bool:
        return self.outcome is None

    def breached_by(self, fact: SignalFact) -> bool:
        """Whether a signal breaks the conditions: an excluded type, during the period."""
        return (
            self.is_active
            and fact.signal_type in self.excluded_signal_types
            and self.starts_on <= dutch_date(fact.occurred_at) <= self.ends_on
        )

    def breaching_signals(self, facts: Sequence[SignalFact]) -> list[SignalFact]:
        """The signals among these that break the conditions."""
        return [fact for fact in facts if self.breached_by(fact)]

    def missed_checks(self, today: date) -> list[date]:
        """Check dates before today with neither an assessment nor a reminder yet."""
        if not self.is_active:
            return []
        return [
            d
            for d in self.check_dates
            if d < today
            and d.isoformat() not in self.assessments
            and d.isoformat() not in self.reminded
        ]


def validated_plan_terms(
    conditions: list[str],
    excluded_signal_types: Iterable[str],
    starts_on: date,
    ends_on: date,
    check_dates: Iterable[date],
) -> tuple[list[str], list[str], list[date]]:
    """The conditions, excluded types (a breach report always; DEFAULT_BREACH_TYPES when none
    are listed) and check dates, checked; SafetyPlanError says what is wrong."""
    if not conditions or len(conditions) > MAX_CONDITIONS:
        raise SafetyPlanError(f"give between 1 and {MAX_CONDITIONS} conditions")
    cleaned = [checked_text(c, "a condition", MAX_CONDITION_LENGTH) for c in conditions]
    known = {str(t) for t in SignalTypeV2}  # v1's types and signal.v2's
    excluded = set(excluded_signal_types)
    unknown = excluded - known
    if unknown:
        raise SafetyPlanError(f"unknown signal types: {sorted(unknown)}")
    if ends_on <= starts_on:
        raise SafetyPlanError("the monitoring period must end after it starts")
    dates = sorted(set(check_dates))
    if not dates:
        raise SafetyPlanError("give at least one check date")
    if dates[0] <= starts_on or dates[-1] > ends_on:
        raise SafetyPlanError("check dates must fall after the start and within the period")
    return cleaned, breach_types(excluded), dates


def breach_types(listed: Iterable[str]) -> list[str]:
    """The types a plan counts as breaches: those listed plus a breach report, or the default
    when none are listed (also for a stored plan whose event carries none)."""
    chosen = set(listed)
    return sorted(chosen | ALWAYS_EXCLUDED if chosen else DEFAULT_BREACH_TYPES)
