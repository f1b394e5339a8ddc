"""Dates and times in words, as the GOV.UK style guide writes them: "5:30pm", "3am", "midday",
"midnight", "8 December 2026" (no leading zeros, 12-hour clock). Templates use them as filters
(``{{ permit.ends_on | date_in_words }}``, ``borough/core/jinja.py``), never ``strftime``."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone


def _local(moment: dt.datetime) -> dt.datetime:
    return timezone.localtime(moment) if timezone.is_aware(moment) else moment


def _day(day: dt.date | dt.datetime | str) -> dt.date:
    if isinstance(day, str):
        day = dt.date.fromisoformat(day[:10]) if len(day) <= 10 else dt.datetime.fromisoformat(day)
    if isinstance(day, dt.datetime):
        return _local(day).date()
    return day


def time_in_words(moment: dt.datetime | dt.time | None) -> str:
    """ "3am", "5:30pm", "midday", "midnight" (in London time for an aware datetime)."""
    if moment is None:
        return ""
    if isinstance(moment, dt.datetime):
        moment = _local(moment).time()
    if (moment.hour, moment.minute) == (0, 0):
        return "midnight"
    if (moment.hour, moment.minute) == (12, 0):
        return "midday"
    hour = moment.hour % 12 or 12
    suffix = "am" if moment.hour < 12 else "pm"
    return f"{hour}{suffix}" if moment.minute == 0 else f"{hour}:{moment.minute:02d}{suffix}"


def date_in_words(day: dt.date | dt.datetime | str | None) -> str:
    """ "8 December 2026" (an ISO date string is read as one; None is "")."""
    if day in (None, ""):
        return ""
    day = _day(day)
    return f"{day.day} {day:%B %Y}"


def short_date_in_words(day: dt.date | dt.datetime | str | None) -> str:
    """ "8 Dec 2026": for tables, where the style guide allows a month's first three letters."""
    if day in (None, ""):
        return ""
    day = _day(day)
    return f"{day.day} {day:%b %Y}"


def when_in_words(moment: dt.datetime | None) -> str:
    """ "3am on 8 December 2026"."""
    if moment is None:
        return ""
    return f"{time_in_words(moment)} on {date_in_words(moment)}"


def date_and_time_in_words(moment: dt.datetime | None) -> str:
    """ "8 December 2026 at 9:05am": the date first, for lists of events read by date."""
    if moment is None:
        return ""
    return f"{date_in_words(moment)} at {time_in_words(moment)}"
