import datetime as dt

import pytest

from borough.housing.bacs.calendar import (
    BacsCalendar,
    bacs_dates,
    default_calendar,
    earliest_collection,
    is_working_day,
)

D = dt.date


@pytest.fixture
def calendar():
    return BacsCalendar()


def test_file_input_before_christmas_enters_after_boxing_day_substitute(calendar):
    # Christmas Day is a Friday in 2026, so Boxing Day is observed on Monday 28th.
    dates = calendar.bacs_dates(D(2026, 12, 23))
    assert dates.input == D(2026, 12, 23)
    assert dates.processing == D(2026, 12, 24)
    assert dates.entry == D(2026, 12, 29)


def test_file_input_before_easter_enters_after_easter_monday(calendar):
    dates = calendar.bacs_dates(D(2026, 4, 2))
    assert dates.processing == D(2026, 4, 7)
    assert dates.entry == D(2026, 4, 8)


def test_ordinary_week_is_three_consecutive_days(calendar):
    assert calendar.bacs_dates(D(2026, 11, 30)) == (D(2026, 11, 30), D(2026, 12, 1), D(2026, 12, 2))


def test_friday_input_enters_on_tuesday(calendar):
    assert calendar.bacs_dates(D(2026, 11, 27)).entry == D(2026, 12, 1)


@pytest.mark.parametrize(
    ("day", "reason"),
    [(D(2026, 12, 26), "weekend"), (D(2026, 12, 28), "Boxing Day (observed)")],
)
def test_no_input_on_a_closed_day(calendar, day, reason):
    with pytest.raises(ValueError, match="not a Bacs working day") as error:
        calendar.bacs_dates(day)
    assert reason in str(error.value)


def test_bank_holidays_and_weekends_are_not_working_days(calendar):
    assert not calendar.is_working_day(D(2026, 12, 25))
    assert not calendar.is_working_day(D(2026, 12, 28))
    assert not calendar.is_working_day(D(2026, 4, 3))  # Good Friday
    assert not calendar.is_working_day(D(2026, 4, 6))  # Easter Monday
    assert not calendar.is_working_day(D(2026, 11, 28))  # Saturday
    assert calendar.is_working_day(D(2026, 12, 24))


def test_a_council_can_close_an_extra_day():
    calendar = BacsCalendar(extra_closed_days=["2026-12-24"])
    assert not calendar.is_working_day(D(2026, 12, 24))
    assert calendar.closed_reason(D(2026, 12, 24)) == "closed by the council's calendar"
    assert calendar.bacs_dates(D(2026, 12, 23)).entry == D(2026, 12, 30)


def test_extra_closed_days_come_from_settings(settings):
    settings.BOROUGH_BACS_EXTRA_CLOSED_DAYS = ["2026-12-24"]
    assert not default_calendar().is_working_day(D(2026, 12, 24))
    assert not is_working_day(D(2026, 12, 24))
    assert bacs_dates(D(2026, 12, 23)).entry == D(2026, 12, 30)


def test_add_working_days_both_ways(calendar):
    assert calendar.add_working_days(D(2026, 12, 23), 2) == D(2026, 12, 29)
    assert calendar.add_working_days(D(2026, 12, 29), -2) == D(2026, 12, 23)
    assert calendar.add_working_days(D(2026, 12, 26), 0) == D(2026, 12, 29)
    assert calendar.latest_input_for_entry(D(2026, 12, 29)) == D(2026, 12, 23)


def test_first_collection_waits_ten_working_days(calendar):
    assert calendar.earliest_collection(D(2026, 11, 30)) == D(2026, 12, 14)
    # Over Christmas and New Year: 25, 28 December and 1 January are closed.
    assert calendar.earliest_collection(D(2026, 12, 21)) == D(2027, 1, 7)
    assert earliest_collection(D(2026, 12, 21), calendar=calendar) == D(2027, 1, 7)


def test_first_collection_never_before_the_instruction_is_lodged(calendar):
    # With no advance notice agreed, the 0N still needs its own 3-day cycle.
    assert calendar.earliest_collection(D(2026, 12, 21), advance_notice_working_days=0) == D(
        2026, 12, 23
    )
    assert calendar.earliest_collection(D(2026, 12, 21), advance_notice_working_days=5) == D(
        2026, 12, 30
    )
    with pytest.raises(ValueError):
        calendar.earliest_collection(D(2026, 12, 21), advance_notice_working_days=-1)
