"""School days by the Dutch school calendar: what "before the next school day" means for a
Handle with Care notice (radar.case_hwc).

A school day is Monday to Friday, not a public holiday (radar.dutch_calendar) and not in the
school holidays of the school's holiday region (noord, midden, zuid). The holidays and the
region of each municipality are data beside this module (radar/school_holidays.toml, with its
source and what a person must check every year). A date the data does not cover is refused
(UnknownSchoolYearError), never guessed: a notice for the wrong day is worse than a person
looking it up.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any

from contracts.regions import VtRegion
from radar.dutch_calendar import DAY, SATURDAY, public_holidays
from radar.regions import registry
from radar.safety import NETHERLANDS

HOLIDAYS_FILE = Path(__file__).with_name("school_holidays.toml")
LESSONS_START = time(8, 30)
"""About when lessons start: the notice must be with the school by then (issue 17)."""


class HolidayRegion(StrEnum):
    """The three regions the ministry spreads the school holidays over."""

    NOORD = "noord"
    MIDDEN = "midden"
    ZUID = "zuid"


class UnknownSchoolYearError(ValueError):
    """The date lies outside the school years the radar's calendar knows."""


@dataclass(frozen=True)
class SchoolCalendar:
    """The known school years: their holidays per region and the first and last day known."""

    first_known: date
    last_known: dict[HolidayRegion, date]  # the first day after each region's last summer
    holidays: dict[HolidayRegion, frozenset[date]]
    by_vt_region: dict[str, HolidayRegion]
    by_municipality: dict[str, HolidayRegion]

    def holiday_region(self, municipality: str) -> HolidayRegion:
        """The holiday region of a municipality (CBS code or name): its own entry, else its
        Veilig Thuis region's (UnknownMunicipalityError for a municipality not registered)."""
        found = registry().municipality(municipality)
        return self.by_municipality.get(found.code) or self.by_vt_region[str(found.region)]

    def vt_region_default(self, region: str) -> HolidayRegion | None:
        """The holiday region of every municipality of a VT region, when they all share one
        (None when the region spans two: the municipality decides)."""
        municipalities = registry().municipalities_of(VtRegion(region))
        found = {self.holiday_region(m.code) for m in municipalities}
        return found.pop() if len(found) == 1 else None

    def is_school_day(self, day: date, region: HolidayRegion) -> bool:
        self._check_known(day, region)
        return (
            day.weekday() < SATURDAY
            and day not in public_holidays(day.year)
            and day not in self.holidays[region]
        )

    def next_school_day(self, day: date, region: HolidayRegion) -> date:
        """The first school day on or after `day` in the region."""
        found = day
        while not self.is_school_day(found, region):
            found += DAY
        return found

    def school_day_for(self, moment: datetime, region: HolidayRegion) -> tuple[date, datetime]:
        """The school day a notice made at `moment` is for, and its deadline (08:30 that day,
        Europe/Amsterdam): today when it is a school day and lessons have not started, else
        the next school day."""
        local = moment.astimezone(NETHERLANDS)
        day = local.date()
        if local.time() >= LESSONS_START:
            day += DAY
        found = self.next_school_day(day, region)
        return found, datetime.combine(found, LESSONS_START, NETHERLANDS)

    def _check_known(self, day: date, region: HolidayRegion) -> None:
        if not self.first_known <= day <= self.last_known[region]:
            raise UnknownSchoolYearError(
                f"the school calendar knows {self.first_known} to {self.last_known[region]} "
                f"for region {region}: add the school year (radar/school_holidays.toml)"
            )


def _days(first: date, last: date) -> set[date]:
    return {first + timedelta(days=n) for n in range((last - first).days + 1)}


def load(path: Path = HOLIDAYS_FILE) -> SchoolCalendar:
    """Reads the holiday data; each region is known up to the day after its last summer."""
    with path.open("rb") as handle:
        data: dict[str, Any] = tomllib.load(handle)
    holidays: dict[HolidayRegion, set[date]] = {r: set() for r in HolidayRegion}
    summer_end: dict[HolidayRegion, date] = {}
    for year in data["years"]:
        for holiday in year["holidays"]:
            for region in HolidayRegion:
                first, last = holiday[str(region)]
                holidays[region] |= _days(first, last)
                if holiday["name"] == "zomervakantie":
                    summer_end[region] = max(last, summer_end.get(region, last))
    return SchoolCalendar(
        first_known=data["first_known"],
        last_known={r: end + DAY for r, end in summer_end.items()},
        holidays={r: frozenset(days) for r, days in holidays.items()},
        by_vt_region={k: HolidayRegion(v) for k, v in data["regions"].items()},
        by_municipality={k: HolidayRegion(v) for k, v in data["municipalities"].items()},
    )


@cache
def school_calendar() -> SchoolCalendar:
    """The calendar shipped with the radar."""
    return load()
