"""Dates and times in words, as the GOV.UK style guide writes them: "5:30pm", "3am", "midday",
"midnight", "8 December 2026"."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone


def time_in_words(moment: dt.datetime | dt.time) -> str:
    """ "3am", "5:30pm", "midday", "midnight" (in London time for an aware datetime)."""
    if isinstance(moment, dt.datetime):
        moment = (timezone.localtime(moment) if timezone.is_aware(moment) else moment).time()
    if (moment.hour, moment.minute) == (0, 0):
        return "midnight"
    if (moment.hour, moment.minute) == (12, 0):
        return "midday"
    hour = moment.hour % 12 or 12
    suffix = "am" if moment.hour < 12 else "pm"
    return f"{hour}{suffix}" if moment.minute == 0 else f"{hour}:{moment.minute:02d}{suffix}"


def date_in_words(day: dt.date | dt.datetime) -> str:
    """ "8 December 2026"."""
    if isinstance(day, dt.datetime):
        day = (timezone.localtime(day) if timezone.is_aware(day) else day).date()
    return f"{day.day} {day:%B %Y}"


def when_in_words(moment: dt.datetime) -> str:
    """ "3am on 8 December 2026"."""
    return f"{time_in_words(moment)} on {date_in_words(moment)}"
