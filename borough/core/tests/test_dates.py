import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from borough.core.dates import (
    date_and_time_in_words,
    date_in_words,
    short_date_in_words,
    time_in_words,
    when_in_words,
)

LONDON = ZoneInfo("Europe/London")


@pytest.mark.parametrize(
    ("hour", "minute", "words"),
    [(0, 0, "midnight"), (12, 0, "midday"), (3, 0, "3am"), (17, 30, "5:30pm"), (0, 5, "12:05am")],
)
def test_times_are_written_as_the_style_guide_writes_them(hour, minute, words):
    assert time_in_words(dt.time(hour, minute)) == words


def test_an_aware_time_is_said_in_london_time():
    summer = dt.datetime(2026, 7, 1, 14, 0, tzinfo=dt.UTC)  # 3pm in London (BST)
    assert when_in_words(summer) == "3pm on 1 July 2026"
    assert date_in_words(dt.datetime(2026, 12, 31, 23, 30, tzinfo=dt.UTC)) == "31 December 2026"


def test_no_leading_zeros_and_a_12_hour_clock():
    morning = dt.datetime(2019, 11, 4, 9, 5, tzinfo=LONDON)
    assert date_in_words(morning) == "4 November 2019"
    assert time_in_words(morning) == "9:05am"
    assert date_and_time_in_words(morning) == "4 November 2019 at 9:05am"
    assert short_date_in_words(dt.date(2019, 11, 4)) == "4 Nov 2019"
    assert date_and_time_in_words(dt.datetime(2026, 7, 1, 21, 5, tzinfo=dt.UTC)) == (
        "1 July 2026 at 10:05pm"
    )


def test_iso_strings_and_nothing_are_written_too():
    assert date_in_words("2019-11-04") == "4 November 2019"
    assert short_date_in_words("2019-11-04T09:05:00+00:00") == "4 Nov 2019"
    assert date_in_words(None) == ""
    assert time_in_words(None) == ""
    assert when_in_words(None) == ""


def test_templates_have_the_filters():
    from django.template import engines

    env = engines["jinja2"].env
    rendered = env.from_string(
        "{{ d | date_in_words }}|{{ d | short_date_in_words }}|{{ t | date_and_time_in_words }}"
    ).render(d=dt.date(2019, 11, 4), t=dt.datetime(2019, 11, 4, 9, 5, tzinfo=LONDON))
    assert rendered == "4 November 2019|4 Nov 2019|4 November 2019 at 9:05am"
