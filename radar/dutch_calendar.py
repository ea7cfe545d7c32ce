"""Working days by the Dutch calendar: the days the sector's lead times count.

A working day is Monday to Friday, except the generally recognised public holidays of the
Algemene termijnenwet (art. 3), the law that says how Dutch legal periods count: New Year's
Day, Easter Monday, King's Day (27 April, or 26 April when the 27th is a Sunday), Liberation
Day (5 May, every year: the law lists it without the five-yearly condition some collective
agreements add), Ascension Day, Whit Monday and Christmas Day and Boxing Day. Easter Sunday and
Whit Sunday are Sundays anyway; Good Friday is not in the law. The days moving with Easter come
from the Gregorian computus (the anonymous algorithm of Meeus/Jones/Butcher), tested against
known years, so no calendar package or data file is needed.

Counting: the report day is day 0; day n is the n-th working day after it. A decision "within 5
working days" is one on or before day 5, whatever weekday the report came in.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache

DAY = timedelta(days=1)
SATURDAY = 5  # date.weekday(): Monday is 0


def easter_sunday(year: int) -> date:
    """Easter Sunday of a Gregorian year (Meeus/Jones/Butcher)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    leap = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * leap) // 451
    month, day = divmod(h + leap - 7 * m + 114, 31)
    return date(year, month, day + 1)


@cache
def public_holidays(year: int) -> frozenset[date]:
    """The year's public holidays of the Algemene termijnenwet that can fall on a weekday."""
    easter = easter_sunday(year)
    kings_day = date(year, 4, 27)
    if kings_day.weekday() == 6:  # a Sunday: celebrated on Saturday the 26th
        kings_day = date(year, 4, 26)
    return frozenset(
        {
            date(year, 1, 1),
            easter + DAY,  # Easter Monday
            kings_day,
            date(year, 5, 5),
            easter + 39 * DAY,  # Ascension Day
            easter + 50 * DAY,  # Whit Monday
            date(year, 12, 25),
            date(year, 12, 26),
        }
    )


def is_working_day(day: date) -> bool:
    return day.weekday() < SATURDAY and day not in public_holidays(day.year)


def add_working_days(start: date, days: int) -> date:
    """The `days`-th working day after `start` (start itself for 0)."""
    if days < 0:
        raise ValueError("count forward only")
    found = start
    while days:
        found += DAY
        if is_working_day(found):
            days -= 1
    return found


def working_day_number(start: date, day: date) -> int:
    """Which working day after `start` `day` is: how many working days lie in (start, day]
    (0 on the start day, or before it, and on the days before the first working day)."""
    count, current = 0, start
    while current < day:
        current += DAY
        count += is_working_day(current)
    return count
