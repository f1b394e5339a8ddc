"""The rent year's weeks: week 1 starts on the first Monday in April; charges fall on Mondays;
some weeks are rent-free (the profile's ``rent_free_weeks``); a year with 53 Mondays charges or
frees the 53rd (``week_53``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

MONDAY = 0


def first_monday_in_april(year: int) -> dt.date:
    day = dt.date(year, 4, 1)
    return day + dt.timedelta(days=(MONDAY - day.weekday()) % 7)


@dataclass(frozen=True)
class RentWeek:
    rent_year: int  # the calendar year the rent year starts in (2026 for 2026/27)
    number: int  # 1 … 52, or 53
    monday: dt.date
    free: bool

    @property
    def label(self) -> str:
        return f"{self.rent_year}/{(self.rent_year + 1) % 100:02d} week {self.number}"


def weeks_in_rent_year(rent_year: int) -> int:
    days = (first_monday_in_april(rent_year + 1) - first_monday_in_april(rent_year)).days
    return days // 7


def rent_week(monday: dt.date, *, rent_free_weeks=(), week_53: str = "charge") -> RentWeek:
    """The rent week that ``monday`` starts. Raises ``ValueError`` if it is not a Monday."""
    if monday.weekday() != MONDAY:
        raise ValueError(f"{monday} is not a Monday: rent weeks start on Mondays")
    year = monday.year if monday >= first_monday_in_april(monday.year) else monday.year - 1
    number = (monday - first_monday_in_april(year)).days // 7 + 1
    free = number in set(rent_free_weeks) or (number == 53 and week_53 == "free")
    return RentWeek(year, number, monday, free)


def charged_weeks(rent_year: int, *, rent_free_weeks=(), week_53: str = "charge") -> int:
    """How many weeks of the rent year carry a charge."""
    start = first_monday_in_april(rent_year)
    return sum(
        not rent_week(
            start + dt.timedelta(weeks=k), rent_free_weeks=rent_free_weeks, week_53=week_53
        ).free
        for k in range(weeks_in_rent_year(rent_year))
    )


def monday_of(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())
