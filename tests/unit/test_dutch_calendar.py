"""Working days by the Dutch calendar: Easter and the holidays of known years, and properties of
the arithmetic the lead times rest on."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from radar.dutch_calendar import (
    add_working_days,
    easter_sunday,
    is_working_day,
    public_holidays,
    working_day_number,
)

DAYS = st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 12, 31))
COUNTS = st.integers(min_value=0, max_value=400)


@pytest.mark.parametrize(
    "easter",
    [
        date(2000, 4, 23),
        date(2019, 4, 21),
        date(2024, 3, 31),
        date(2025, 4, 20),
        date(2026, 4, 5),
        date(2027, 3, 28),
        date(2038, 4, 25),  # the latest possible
        date(2285, 3, 22),  # the earliest possible
    ],
)
def test_easter_of_known_years(easter: date) -> None:
    assert easter_sunday(easter.year) == easter


def test_the_public_holidays_of_2026() -> None:
    assert sorted(public_holidays(2026)) == [
        date(2026, 1, 1),
        date(2026, 4, 6),  # Easter Monday
        date(2026, 4, 27),  # King's Day
        date(2026, 5, 5),  # Liberation Day
        date(2026, 5, 14),  # Ascension Day
        date(2026, 5, 25),  # Whit Monday
        date(2026, 12, 25),
        date(2026, 12, 26),
    ]
    assert date(2025, 4, 26) in public_holidays(2025), "the 27th of 2025 is a Sunday"


def test_a_report_on_thursday_before_easter_is_due_the_friday_after() -> None:
    # Thu 2 April 2026; Good Friday is a working day, Easter Monday is not
    assert add_working_days(date(2026, 4, 2), 5) == date(2026, 4, 10)
    assert working_day_number(date(2026, 4, 2), date(2026, 4, 7)) == 2


@given(DAYS, COUNTS)
def test_the_nth_working_day_is_a_working_day_numbered_n(start: date, n: int) -> None:
    found = add_working_days(start, n)
    assert working_day_number(start, found) == n
    if n:
        assert is_working_day(found) and found > start
        assert working_day_number(start, found - timedelta(days=1)) == n - 1


@given(DAYS, st.integers(0, 60), st.integers(0, 60))
def test_numbers_add_up_along_the_way(start: date, first: int, second: int) -> None:
    middle = start + timedelta(days=first)
    end = middle + timedelta(days=second)
    assert working_day_number(start, end) == (
        working_day_number(start, middle) + working_day_number(middle, end)
    )


@given(DAYS)
def test_no_weekend_or_holiday_counts_and_no_gap_exceeds_five_days(start: date) -> None:
    week = [start + timedelta(days=d) for d in range(1, 8)]
    assert working_day_number(start, week[-1]) == sum(is_working_day(d) for d in week)
    assert all(not is_working_day(d) for d in week if d.weekday() >= 5)
    assert (add_working_days(start, 1) - start).days <= 5
