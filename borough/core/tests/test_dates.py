import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from borough.core.dates import date_in_words, time_in_words, when_in_words

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
