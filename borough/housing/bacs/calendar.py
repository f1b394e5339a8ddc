"""Bacs working days and the 3-day cycle.

Bacs works Monday to Friday except England and Wales bank holidays (the ``holidays`` package's
``UK(subdiv="ENG")``, substitute days included). A council can close extra days (a one-off bank
holiday announced late, a bureau shutdown) with a list of dates, for example from its profile:
``BacsCalendar(extra_closed_days=[date(2027, 6, 4)])`` or the ``BOROUGH_BACS_EXTRA_CLOSED_DAYS``
setting (ISO date strings), which ``default_calendar()`` reads.

The cycle: day 1 *input* (the file is submitted), day 2 *processing*, day 3 *entry* (the money
moves, and instructions are lodged), each the next working day after the one before.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import NamedTuple

import holidays

#: The bank-holiday calendar Bacs follows.
HOLIDAY_COUNTRY = "UK"
HOLIDAY_SUBDIVISION = "ENG"
#: Advance notice before a first collection or a change, in working days (A1: 10 by default).
DEFAULT_ADVANCE_NOTICE_WORKING_DAYS = 10


class BacsDates(NamedTuple):
    input: dt.date
    processing: dt.date
    entry: dt.date


def _as_date(value: dt.date | str) -> dt.date:
    if isinstance(value, dt.datetime):
        raise TypeError("Give a date, not a datetime: Bacs days are calendar dates")
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(value)


class BacsCalendar:
    """Working days for Bacs: weekdays that are not bank holidays in England and Wales, nor
    one of the council's extra closed days."""

    def __init__(self, extra_closed_days: Iterable[dt.date | str] = ()) -> None:
        self.extra_closed_days = frozenset(_as_date(day) for day in extra_closed_days)
        self._bank_holidays = holidays.country_holidays(HOLIDAY_COUNTRY, subdiv=HOLIDAY_SUBDIVISION)

    def closed_reason(self, day: dt.date) -> str | None:
        """Why ``day`` is not a working day (``None`` if it is one)."""
        if day.weekday() >= 5:
            return "weekend"
        if day in self.extra_closed_days:
            return "closed by the council's calendar"
        return self._bank_holidays.get(day)

    def is_working_day(self, day: dt.date) -> bool:
        return self.closed_reason(day) is None

    def next_working_day(self, day: dt.date) -> dt.date:
        """``day`` itself if it is a working day, otherwise the next one."""
        while not self.is_working_day(day):
            day += dt.timedelta(days=1)
        return day

    def add_working_days(self, day: dt.date, n: int) -> dt.date:
        """The ``n``-th working day after ``day`` (before it, if ``n`` is negative).

        ``n == 0`` gives ``day`` rolled forward to a working day.
        """
        if n == 0:
            return self.next_working_day(day)
        step = dt.timedelta(days=1 if n > 0 else -1)
        remaining = abs(n)
        while remaining:
            day += step
            if self.is_working_day(day):
                remaining -= 1
        return day

    def bacs_dates(self, input_day: dt.date) -> BacsDates:
        """Input, processing and entry days for a file submitted on ``input_day``.

        Raises ``ValueError`` if ``input_day`` is not a working day: Bacs takes no input then.
        """
        reason = self.closed_reason(input_day)
        if reason is not None:
            raise ValueError(f"{input_day.isoformat()} is not a Bacs working day ({reason})")
        processing = self.add_working_days(input_day, 1)
        return BacsDates(input_day, processing, self.add_working_days(processing, 1))

    def latest_input_for_entry(self, entry_day: dt.date) -> dt.date:
        """The input day whose entry day is ``entry_day`` (which must be a working day)."""
        reason = self.closed_reason(entry_day)
        if reason is not None:
            raise ValueError(f"{entry_day.isoformat()} is not a Bacs working day ({reason})")
        return self.add_working_days(entry_day, -2)

    def earliest_collection(
        self,
        mandate_created: dt.date,
        advance_notice_working_days: int = DEFAULT_ADVANCE_NOTICE_WORKING_DAYS,
    ) -> dt.date:
        """The earliest entry day for a first collection under a mandate created on
        ``mandate_created``.

        The rule councils follow (A1): at least ``advance_notice_working_days`` working days
        between the instruction being created (and the advance notice sent) and the first
        collection. The 0N instruction lodges on its own day 3, well inside that period, so
        this is also late enough for the instruction to be in place.
        """
        if advance_notice_working_days < 0:
            raise ValueError("The advance notice cannot be negative")
        # Lodging the 0N takes a full cycle (input + 2 working days) even with no notice.
        lodged = self.add_working_days(mandate_created, 2)
        noticed = self.add_working_days(mandate_created, advance_notice_working_days)
        return max(lodged, noticed)


def default_calendar() -> BacsCalendar:
    """The calendar with the extra closed days from the ``BOROUGH_BACS_EXTRA_CLOSED_DAYS``
    setting (a list of ISO dates), when Django settings are configured."""
    extra: Iterable[str] = ()
    try:
        from django.conf import settings

        if settings.configured:
            extra = getattr(settings, "BOROUGH_BACS_EXTRA_CLOSED_DAYS", ()) or ()
    except ImportError:  # pragma: no cover - Django is a dependency, but the module is pure
        pass
    return BacsCalendar(extra_closed_days=extra)


def is_working_day(day: dt.date, calendar: BacsCalendar | None = None) -> bool:
    return (calendar or default_calendar()).is_working_day(day)


def add_working_days(day: dt.date, n: int, calendar: BacsCalendar | None = None) -> dt.date:
    return (calendar or default_calendar()).add_working_days(day, n)


def bacs_dates(input_day: dt.date, calendar: BacsCalendar | None = None) -> BacsDates:
    return (calendar or default_calendar()).bacs_dates(input_day)


def earliest_collection(
    mandate_created: dt.date,
    advance_notice_working_days: int = DEFAULT_ADVANCE_NOTICE_WORKING_DAYS,
    calendar: BacsCalendar | None = None,
) -> dt.date:
    return (calendar or default_calendar()).earliest_collection(
        mandate_created, advance_notice_working_days
    )
