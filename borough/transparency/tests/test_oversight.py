"""Unusual access: each flag appears for its pattern and not for normal use; the page names
officers, links each flag to its events, and records what it shows of residents."""

import datetime as dt
import re
from urllib.parse import parse_qs, urlparse

import pytest
from django.template.loader import render_to_string

from borough.transparency import oversight, oversight_views
from borough.transparency.queries import events
from borough.transparency.services import record_data_use

pytestmark = pytest.mark.django_db
URL = "/staff/data-use/unusual"
WEEK = (dt.date(2026, 12, 1), dt.date(2026, 12, 7))  # Tuesday to Monday


@pytest.fixture(autouse=True)
def _small_thresholds(settings):
    settings.BOROUGH_OVERSIGHT = {"many_residents": 3, "repeated_lookups": 3}


def use(user, *residents, reference="", service="parking", action="viewed_records", **kw):
    return record_data_use(
        subject_resident_ids=list(residents),
        actor=user,
        actor_kind="staff",
        purpose=kw.pop("purpose", "staff_view_records"),
        action=action,
        service=service,
        reference=reference,
        **kw,
    )


def test_an_officer_reading_many_residents_without_a_case_is_flagged(make_staff, at):
    browsing = make_staff("Parking officer", username="browsing")
    working = make_staff("Parking officer", username="working")
    at(2026, 12, 2, 10, 0)
    use(browsing, "R-1", "R-2")
    use(browsing, "R-3", reference="resident_request")  # a reason, not a case
    for n in range(5):
        use(working, f"R-{n}", reference=f"PP-2026-00012{n}")  # each with its application
    use(working, "R-7", "R-8")  # two without: under the threshold

    (flag,) = oversight.many_residents_without_case(*WEEK)
    assert (flag.user, flag.count) == (browsing, 3)
    assert oversight.many_residents_without_case(dt.date(2026, 12, 3), WEEK[1]) == []


def test_an_officer_using_data_for_another_service_is_flagged(make_staff, at):
    parking = make_staff("Parking officer", username="parking")
    records = make_staff("Resident data officer", username="records")
    admin = make_staff(username="admin")
    admin.is_superuser = True
    admin.save()
    at(2026, 12, 2, 10, 0)
    use(parking, "R-1", reference="PP-1")
    use(parking, "R-2", service="housing", reference="00000001X")
    use(parking, "R-3", service="housing", reference="00000002X")
    use(records, "R-4", service="residents", reference="resident_request")
    record_data_use(  # a resident data officer's check for parking: their job
        subject_resident_ids=["R-5"],
        actor=records,
        actor_kind="staff",
        purpose="parking_permit_residency_check",
        action="verification",
        reference="V-1",
    )
    use(admin, "R-6", service="housing", reference="00000003X")

    (flag,) = oversight.outside_own_service(*WEEK)
    assert (flag.user, flag.detail, flag.count) == (parking, "housing", 2)


def test_look_ups_outside_working_hours_in_uk_time_are_flagged(make_staff, at):
    late = make_staff("Housing officer", username="late")
    usual = make_staff("Housing officer", username="usual")
    at(2026, 12, 2, 22, 30)  # a Wednesday night
    use(late, "R-1", service="housing", reference="A1")
    at(2026, 12, 5, 11, 0)  # a Saturday
    use(late, "R-2", service="housing", reference="A2")
    at(2026, 12, 2, 8, 0)  # the first minute of the working day
    use(usual, "R-3", service="housing", reference="A3")
    at(2026, 12, 2, 17, 59)
    use(usual, "R-3", service="housing", reference="A3")

    (flag,) = oversight.odd_hours(*WEEK)
    assert (flag.user, flag.count) == (late, 2)


def test_working_hours_follow_british_summer_time(make_staff, at):
    officer = make_staff("Housing officer", username="summer")
    at(2026, 7, 7, 8, 30)  # 07:30 UTC: inside working hours in London
    use(officer, "R-1", service="housing", reference="A1")
    assert oversight.odd_hours(dt.date(2026, 7, 7), dt.date(2026, 7, 7)) == []
    at(2026, 7, 7, 7, 30)  # 06:30 UTC
    use(officer, "R-1", service="housing", reference="A1")
    assert [f.count for f in oversight.odd_hours(dt.date(2026, 7, 7), dt.date(2026, 7, 7))] == [1]


def test_working_hours_and_thresholds_come_from_settings(make_staff, at, settings):
    officer = make_staff("Housing officer", username="early")
    at(2026, 12, 2, 7, 0)
    use(officer, "R-1", service="housing", reference="A1")
    assert len(oversight.odd_hours(*WEEK)) == 1
    settings.BOROUGH_OVERSIGHT = {"working_hours": ("07:00", "19:00")}
    assert oversight.odd_hours(*WEEK) == []
    settings.BOROUGH_OVERSIGHT = {"working_hours": ("19:00", "07:00")}
    with pytest.raises(ValueError, match="start before they end"):
        oversight.thresholds()


def test_a_resident_looked_up_again_and_again_is_flagged(make_staff, dpo, at):
    one = make_staff("Parking officer", username="one")
    two = make_staff("Parking officer", username="two")
    at(2026, 12, 2, 10, 0)
    use(one, "R-9", reference="PP-1")
    use(two, "R-9", reference="PP-1")
    use(one, "R-9", reference="PP-1")
    use(one, "R-8", reference="PP-2")
    use(one, "R-8", reference="PP-2")
    for _ in range(3):  # the data protection officer reading the log does not count
        use(dpo, "R-8", service="transparency", purpose="data_use_log_audit")

    (flag,) = oversight.looked_up_repeatedly(*WEEK)
    assert (flag.resident_id, flag.actions, flag.officers) == ("R-9", 3, 2)


def test_services_systems_and_residents_are_not_flagged(resident, at):
    at(2026, 12, 5, 23, 0)  # a Saturday night
    for _ in range(3):
        record_data_use(
            subject_resident_ids=["R-1", "R-2", "R-3"],
            actor=None,
            actor_kind="system",
            actor_label="Nightly job",
            purpose="residents_index_maintenance",
            action="updated_records",
        )
        record_data_use(
            subject_resident_ids=["R-1"],
            actor=resident,
            actor_kind="resident",
            purpose="housing_rent_account_self_service",
            action="viewed_records",
        )
    assert oversight.many_residents_without_case(*WEEK) == []
    assert oversight.outside_own_service(*WEEK) == []
    assert oversight.odd_hours(*WEEK) == []
    assert oversight.looked_up_repeatedly(*WEEK) == []


def test_the_page_names_officers_links_to_their_events_and_records_residents_shown(
    client, dpo, make_staff, sign_in_staff, at
):
    officer = make_staff("Parking officer", username="nosy")
    officer.first_name, officer.last_name = "Nora", "Nosy"
    officer.save()
    at(2026, 12, 2, 23, 15)
    use(officer, "R-1", "R-2", "R-3")
    use(officer, "R-1", service="housing")
    use(officer, "R-1")
    at(2026, 12, 7, 9, 0)
    sign_in_staff(client, dpo)
    page = client.get(URL)
    html = page.content.decode()
    assert page.status_code == 200
    for heading in ("Many residents, no case reference", "Outside their own service"):
        assert heading in html
    assert "Nora Nosy (nosy)" in html and "Parking" in html
    assert ">R-1</a>" in html

    (audit,) = events().filter(purpose="data_use_log_audit")
    assert (audit.subject_resident_id, audit.actor_user) == ("R-1", dpo)
    assert audit.reference == "unusual-access"

    link = re.search(r'href="([^"]*officer=nosy[^"]*)"', html).group(1).replace("&amp;", "&")
    query = parse_qs(urlparse(link).query)
    assert query["officer"] == ["nosy"] and query["since_day"] == ["1"]
    theirs = client.get(link)
    assert theirs.status_code == 200
    assert (
        "Only events by the officer with username <strong>nosy</strong>" in theirs.content.decode()
    )
    assert "of 1" not in theirs.content.decode()


def test_a_page_with_no_resident_flagged_records_nothing(client, dpo, sign_in_staff):
    sign_in_staff(client, dpo)
    page = client.get(URL, {"period": "30"})
    assert page.status_code == 200 and "No officer." in page.content.decode()
    assert not events().exists()


def test_a_tampered_period_is_refused_with_a_message(client, dpo, sign_in_staff):
    sign_in_staff(client, dpo)
    page = client.get(URL, {"period": "3650"})
    assert page.status_code == 400
    assert "Select the last 7, 30 or 90 days" in page.content.decode()
    assert not events().exists()


def test_other_roles_cannot_open_it(client, make_staff, sign_in_staff):
    sign_in_staff(client, make_staff("Parking officer", "Housing officer", "Administrator"))
    assert client.get(URL).status_code == 403


def test_open_questions_and_open_requests_show_by_reference_soonest_deadline_first(
    client, dpo, sign_in_staff, django_user_model
):
    from django.utils import timezone

    from borough.core.models import User
    from borough.transparency.models import QuestionedEntry, SubjectAccessRequest

    resident = User.objects.create_resident("asker@example.com")
    (event,) = use(dpo, "R-4", purpose="data_use_log_audit", service="transparency")
    question = QuestionedEntry.objects.create(
        event=event, resident_id="R-4", asked_by=resident, created_at=timezone.now()
    )
    for reference, due, extended in [
        ("SAR-LATER", dt.date(2027, 1, 20), None),
        ("SAR-SOONER", dt.date(2027, 1, 30), dt.date(2027, 1, 10)),
    ]:
        SubjectAccessRequest.objects.create(
            reference=reference,
            requester_name="A Requester",
            requester_contact="letter",
            received_on=dt.date(2026, 12, 1),
            identity_check="documents",
            resident_id="R-9",
            due_on=due,
            extended_due_on=extended,
            created_at=timezone.now(),
            created_by=dpo,
        )
    sign_in_staff(client, dpo)
    html = client.get(URL).content.decode()
    assert f"{question.reference}, raised" in html and "R-4" not in html
    assert html.index("SAR-SOONER") < html.index("SAR-LATER")
    assert "due by 10 January 2027" in html
    assert "A Requester" not in html


def test_questioned_entries_and_open_requests_show_when_given(rf, dpo):
    request = rf.get(URL)
    request.user = dpo
    html = render_to_string(
        "transparency/staff/unusual_access.html",
        {
            "form": oversight_views.PeriodForm({"period": "7"}),
            "period_radios": {"name": "period", "items": []},
            "questioned_entries": [
                {
                    "url": "/q/1",
                    "reference": "Q-4",
                    "raised_on": dt.date(2026, 12, 1),
                    "status": "Waiting for an answer",
                }
            ],
            "open_requests": [
                {
                    "url": "/sar/1",
                    "reference": "SAR-1",
                    "received_on": dt.date(2026, 11, 20),
                    "due_on": dt.date(2026, 12, 20),
                }
            ],
        },
        request=request,
    )
    assert "Questioned entries" in html and "Q-4, raised 1 December 2026" in html
    assert "SAR-1" in html and "due by 20 December 2026" in html


def test_the_officers_own_reading_of_this_page_and_the_log_flags_no_one(
    client, dpo, make_staff, sign_in_staff, at
):
    """The page says "Your own reading of the log is not counted": reading it again and again,
    the log filtered by a resident, and releasing a held entry flag neither the data protection
    officer (many residents, no case) nor a resident (looked up repeatedly)."""
    one = make_staff("Parking officer", username="one")
    at(2026, 12, 2, 10, 0)
    for resident in ("R-1", "R-2", "R-3"):
        for _ in range(3):
            use(one, resident, reference="PP-1")
    use(one, "R-5", reference="PP-5")  # once: under the threshold
    at(2026, 12, 7, 9, 0)
    sign_in_staff(client, dpo)
    for _ in range(3):
        assert client.get(URL).status_code == 200
        assert client.get("/staff/data-use", {"resident_id": "R-5"}).status_code == 200
    for _ in range(3):
        use(dpo, "R-5", service="transparency", purpose="data_use_disclosure", action="released")
    assert events().filter(actor_user=dpo).count() >= 12  # all recorded, none counted

    assert {flag.resident_id for flag in oversight.looked_up_repeatedly(*WEEK)} == {
        "R-1",
        "R-2",
        "R-3",
    }
    assert [flag.user for flag in oversight.many_residents_without_case(*WEEK)] == []
    html = client.get(URL).content.decode()
    assert "R-5" not in html
