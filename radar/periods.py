"""Reporting periods (a year, half-year, quarter or month) on the Dutch calendar, for the
statistics: a moment belongs to the period in which it falls in Dutch time, as the
organisations that count it read their own calendars."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time

from radar.safety import NETHERLANDS

_FORMS = re.compile(r"^(\d{4})(?:H([12])|Q([1-4])|-(0[1-9]|1[0-2]))?$")


class PeriodError(ValueError):
    """Not a period the radar counts over; the message says which forms are."""


@dataclass(frozen=True, order=True)
class Period:
    """The days [first, after) of a reporting period, and its name (2026H2, 2026Q3, 2026-07,
    2026)."""

    first: date
    after: date
    name: str

    @classmethod
    def parse(cls, text: str) -> Period:
        found = _FORMS.match(text.strip())
        if found is None:
            raise PeriodError(
                f"{text!r} is not a period: write a year (2026), a half-year (2026H2), "
                "a quarter (2026Q3) or a month (2026-07)"
            )
        year = int(found[1])
        if found[2]:
            start_month, months = 6 * (int(found[2]) - 1) + 1, 6
        elif found[3]:
            start_month, months = 3 * (int(found[3]) - 1) + 1, 3
        elif found[4]:
            start_month, months = int(found[4]), 1
        else:
            start_month, months = 1, 12
        end_month = start_month + months
        after = date(year + (end_month - 1) // 12, (end_month - 1) % 12 + 1, 1)
        return cls(date(year, start_month, 1), after, found[0])

    def start(self) -> datetime:
        return datetime.combine(self.first, time(), NETHERLANDS)

    def end(self) -> datetime:
        return datetime.combine(self.after, time(), NETHERLANDS)

    def __contains__(self, moment: object) -> bool:
        return isinstance(moment, datetime) and self.start() <= moment < self.end()

    def __str__(self) -> str:
        return self.name
