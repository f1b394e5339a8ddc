"""When a controlled parking zone is controlled, read from its hours as the signs word them
("Mon-Fri 8.30am-6.30pm", "Mon-Fri 10am-12 noon", "Mon-Sun 8.30am-10pm"), so a visitor
session booked outside them can be warned about: outside those hours anyone may park in the
zone's bays and a session is not needed. Hours Borough cannot read give no warning."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from django.utils import timezone

DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
_TIME = r"(\d{1,2})(?:[.:](\d{2}))?\s*(am|pm|noon)?"
_PATTERN = re.compile(
    rf"^\s*(?P<first>[a-z]{{3}})[a-z]*\s*(?:[-–]|to)\s*(?P<last>[a-z]{{3}})[a-z]*\s+"
    rf"(?P<start>{_TIME})\s*(?:[-–]|to)\s*(?P<end>{_TIME})\s*$",
    re.IGNORECASE,
)
#: How finely a session is walked through to find the part outside the controlled hours.
STEP = dt.timedelta(minutes=15)


@dataclass(frozen=True)
class ControlledHours:
    days: frozenset[int]  # Monday 0 ... Sunday 6
    start: dt.time
    end: dt.time

    def controls(self, moment: dt.datetime) -> bool:
        local = timezone.localtime(moment)
        return local.weekday() in self.days and self.start <= local.time() < self.end


def read_time(text: str) -> dt.time | None:
    """ "9:30am", "2pm", "14:30", "12 noon", "midday", "midnight" as a time of day; None if it
    is not one."""
    word = text.strip().lower()
    if word in ("midday", "noon"):
        return dt.time(12)
    if word == "midnight":
        return dt.time(0)
    match = re.fullmatch(_TIME, text.strip(), re.IGNORECASE)
    if not match:
        return None
    hour, minute, suffix = int(match[1]), int(match[2] or 0), (match[3] or "").lower()
    if suffix == "noon":
        hour = 12
    elif suffix == "pm" and hour < 12:
        hour += 12
    elif suffix == "am" and hour == 12:
        hour = 0
    if hour > 23 or minute > 59:
        return None
    return dt.time(hour, minute)


def read_hours(text: str) -> ControlledHours | None:
    """The zone's controlled days and times, or None if the wording is not one Borough reads."""
    match = _PATTERN.match(text or "")
    if not match:
        return None
    first, last = match["first"].lower(), match["last"].lower()
    if first not in DAYS or last not in DAYS:
        return None
    start, end = read_time(match["start"]), read_time(match["end"])
    if start is None or end is None or end <= start:
        return None
    a, b = DAYS.index(first), DAYS.index(last)
    days = range(a, b + 1) if a <= b else [*range(a, 7), *range(0, b + 1)]
    return ControlledHours(frozenset(days), start, end)


def outside_controlled_hours(zone_hours: str, starts_at: dt.datetime, ends_at: dt.datetime):
    """ "all" if no part of the session is in the zone's controlled hours, "some" if part of it
    is outside them, None if all of it is inside them (or the hours cannot be read)."""
    hours = read_hours(zone_hours)
    if hours is None:
        return None
    inside = outside = False
    moment = starts_at
    while moment < ends_at:
        if hours.controls(moment):
            inside = True
        else:
            outside = True
        moment += STEP
    if not outside:
        return None
    return "some" if inside else "all"
