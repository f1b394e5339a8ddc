import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from borough.parking.controlled_hours import outside_controlled_hours, read_hours

LONDON = ZoneInfo("Europe/London")


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 12, day, hour, minute, tzinfo=LONDON)  # 7 December 2026: a Monday


@pytest.mark.parametrize(
    ("text", "days", "start", "end"),
    [
        ("Mon-Fri 8.30am-6.30pm", {0, 1, 2, 3, 4}, dt.time(8, 30), dt.time(18, 30)),
        ("Mon-Sat 8.30am-6.30pm", {0, 1, 2, 3, 4, 5}, dt.time(8, 30), dt.time(18, 30)),
        ("Mon-Fri 10am-12 noon", {0, 1, 2, 3, 4}, dt.time(10), dt.time(12)),
        ("Monday to Sunday 8:30am to 10pm", set(range(7)), dt.time(8, 30), dt.time(22)),
    ],
)
def test_the_hours_as_the_signs_word_them_are_read(text, days, start, end):
    hours = read_hours(text)
    assert (set(hours.days), hours.start, hours.end) == (days, start, end)


@pytest.mark.parametrize("text", ["", "At all times", "Mon-Fri 6pm-8am", "Xyz-Fri 8am-6pm"])
def test_hours_that_cannot_be_read_give_no_answer(text):
    assert read_hours(text) is None
    assert outside_controlled_hours(text, at(7, 20), at(7, 23)) is None


def test_a_session_is_inside_partly_outside_or_wholly_outside_the_controlled_hours():
    hours = "Mon-Fri 8.30am-6.30pm"
    assert outside_controlled_hours(hours, at(7, 9), at(7, 12)) is None
    assert outside_controlled_hours(hours, at(7, 17), at(7, 20)) == "some"
    assert outside_controlled_hours(hours, at(7, 19), at(7, 22)) == "all"
    assert outside_controlled_hours(hours, at(12, 10), at(12, 14)) == "all"  # a Saturday


@pytest.mark.parametrize(
    ("text", "time"),
    [
        ("9:30am", dt.time(9, 30)),
        ("2pm", dt.time(14)),
        ("14:30", dt.time(14, 30)),
        ("12 noon", dt.time(12)),
        ("midday", dt.time(12)),
        ("midnight", dt.time(0)),
        ("12am", dt.time(0)),
    ],
)
def test_times_as_people_write_them_are_read(text, time):
    from borough.parking.controlled_hours import read_time

    assert read_time(text) == time
