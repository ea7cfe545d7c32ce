"""The school calendar: the next school day is never a weekend, public holiday or school
holiday of the region, and it is the first such day; dates the data does not cover are refused."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from radar.dutch_calendar import public_holidays
from radar.safety import NETHERLANDS
from radar.school_calendar import HolidayRegion, UnknownSchoolYearError, school_calendar

CALENDAR = school_calendar()
FIRST = CALENDAR.first_known
LAST = min(CALENDAR.last_known.values())
days = st.dates(min_value=FIRST, max_value=LAST - timedelta(days=1))
regions = st.sampled_from(list(HolidayRegion))


def _free(day: date, region: HolidayRegion) -> bool:
    return (
        day.weekday() >= 5 or day in public_holidays(day.year) or day in CALENDAR.holidays[region]
    )


@given(days, regions)
def test_the_next_school_day_is_a_school_day_and_the_first_one(
    day: date, region: HolidayRegion
) -> None:
    found = CALENDAR.next_school_day(day, region)
    assert found >= day
    assert not _free(found, region)
    skipped = [day + timedelta(days=n) for n in range((found - day).days)]
    assert all(_free(d, region) for d in skipped)


def test_a_friday_night_incident_is_for_monday_morning() -> None:
    friday_night = datetime(2026, 11, 27, 23, 10, tzinfo=NETHERLANDS)
    day, deadline = CALENDAR.school_day_for(friday_night, HolidayRegion.MIDDEN)
    assert day == date(2026, 11, 30)
    assert deadline == datetime(2026, 11, 30, 8, 30, tzinfo=NETHERLANDS)


def test_before_lessons_start_the_notice_is_for_the_same_day() -> None:
    early = datetime(2026, 11, 24, 6, 0, tzinfo=NETHERLANDS)
    assert CALENDAR.school_day_for(early, HolidayRegion.NOORD)[0] == date(2026, 11, 24)


def test_in_the_summer_holiday_the_notice_is_for_the_first_school_day_of_the_region() -> None:
    summer = datetime(2027, 7, 20, 14, 0, tzinfo=NETHERLANDS)
    assert CALENDAR.school_day_for(summer, HolidayRegion.NOORD)[0] == date(2027, 8, 23)
    assert CALENDAR.school_day_for(summer, HolidayRegion.MIDDEN)[0] == date(2027, 8, 16)
    assert CALENDAR.school_day_for(summer, HolidayRegion.ZUID)[0] == date(2027, 8, 30)


def test_christmas_and_new_year_are_no_school_days() -> None:
    assert CALENDAR.next_school_day(date(2026, 12, 24), HolidayRegion.ZUID) == date(2027, 1, 4)


@pytest.mark.parametrize("day", [date(2025, 7, 31), date(2028, 9, 30), date(2031, 1, 6)])
def test_a_date_outside_the_known_school_years_is_refused(day: date) -> None:
    with pytest.raises(UnknownSchoolYearError, match=r"school_holidays\.toml"):
        CALENDAR.next_school_day(day, HolidayRegion.ZUID)


@pytest.mark.parametrize(
    ("municipality", "region"),
    [
        ("Groningen", HolidayRegion.NOORD),
        ("Amsterdam", HolidayRegion.NOORD),
        ("Hattem", HolidayRegion.NOORD),
        ("Apeldoorn", HolidayRegion.MIDDEN),
        ("Utrecht", HolidayRegion.MIDDEN),
        ("Zeewolde", HolidayRegion.MIDDEN),
        ("Ede", HolidayRegion.MIDDEN),
        ("Arnhem", HolidayRegion.ZUID),
        ("Nijmegen", HolidayRegion.ZUID),
        ("Maastricht", HolidayRegion.ZUID),
    ],
)
def test_a_municipality_is_in_its_holiday_region(municipality: str, region: str) -> None:
    assert CALENDAR.holiday_region(municipality) == region


def test_a_vt_region_has_a_default_only_when_its_municipalities_agree() -> None:
    assert CALENDAR.vt_region_default("VT13") == HolidayRegion.NOORD
    assert CALENDAR.vt_region_default("VT07") is None
