"""Reading the log: a resident's history, and the officer's filters."""

from datetime import date

import pytest

from borough.transparency.queries import events, events_for_resident
from borough.transparency.services import record_data_use

pytestmark = pytest.mark.django_db


def test_a_residents_history_is_theirs_only_newest_first(verification, at):
    at(2026, 3, 1, 9, 0)
    verification("R-1", "R-2")
    at(2026, 3, 2, 9, 0)
    verification("R-1", outcome="refer")

    history = list(events_for_resident("R-1"))

    assert [e.outcome for e in history] == ["refer", "verified"]
    assert {e.subject_resident_id for e in history} == {"R-1"}
    assert list(events_for_resident("R-3")) == []


def test_filters_combine(verification, officer):
    verification("R-1")
    verification("R-2")
    record_data_use(
        subject_resident_ids=["R-1"],
        actor=officer,
        actor_kind="staff",
        purpose="staff_view_records",
        service="housing",
        action="viewed_records",
    )
    assert events().count() == 3
    assert events(resident_id="R-1").count() == 2
    assert events(service="housing").count() == 1
    assert events(purpose="parking_permit_residency_check").count() == 2
    assert events(resident_id="R-1", service="parking").count() == 1


def test_date_range_is_whole_london_days_both_included(verification, at):
    # 00:30 on 1 July British Summer Time is 23:30 on 30 June UTC: it belongs to 1 July.
    at(2026, 6, 30, 23, 59)
    verification("R-june")
    at(2026, 7, 1, 0, 30)
    verification("R-july-1")
    at(2026, 7, 2, 23, 59)
    verification("R-july-2")
    at(2026, 7, 3, 0, 0)
    verification("R-july-3")

    found = events(since=date(2026, 7, 1), until=date(2026, 7, 2))

    assert {e.subject_resident_id for e in found} == {"R-july-1", "R-july-2"}
    assert {e.subject_resident_id for e in events(since=date(2026, 7, 3))} == {"R-july-3"}
    assert {e.subject_resident_id for e in events(until=date(2026, 6, 30))} == {"R-june"}
