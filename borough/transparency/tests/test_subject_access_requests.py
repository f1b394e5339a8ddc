"""Subject access requests staff record for someone who wrote in: the statutory deadline, the
queue, preparing the copy and completing the request."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.urls import reverse
from django.utils import timezone

from borough.transparency import sar
from borough.transparency.export_models import SubjectAccessRequest
from borough.transparency.models import DataUseEvent
from borough.transparency.tests.subject_access_world import (
    ACCOUNT_NUMBERS,
    dataset,
    pdf_text,
    person,
    write_index,
)

QUEUE = "/staff/subject-access"


@pytest.mark.parametrize(
    ("received", "due"),
    [
        (dt.date(2027, 1, 31), dt.date(2027, 2, 28)),
        (dt.date(2028, 1, 31), dt.date(2028, 2, 29)),  # a leap year
        (dt.date(2026, 3, 31), dt.date(2026, 4, 30)),
        (dt.date(2026, 9, 3), dt.date(2026, 10, 3)),
        (dt.date(2026, 12, 15), dt.date(2027, 1, 15)),  # into the next year
        (dt.date(2026, 2, 28), dt.date(2026, 3, 28)),
    ],
)
def test_the_deadline_is_the_same_date_next_month_or_its_last_day(received, due):
    assert sar.statutory_deadline(received) == due


def test_an_extension_gives_two_more_months():
    assert sar.extended_deadline(dt.date(2026, 11, 30)) == dt.date(2027, 2, 28)
    assert sar.extended_deadline(dt.date(2026, 9, 3)) == dt.date(2026, 12, 3)


@pytest.fixture
def dpo(make_staff, sign_in_staff, client):
    officer = make_staff("Data protection officer", username="dpo")
    sign_in_staff(client, officer)
    return officer


@pytest.fixture
def alice(db, settings, tmp_path, resident):
    settings.DATA_DIR = tmp_path
    made = person(1, resident, "R-ALICE1", "Ashworth", dataset())
    write_index(tmp_path, [made])
    return made


def _details(**changes) -> dict:
    today = timezone.localdate()
    data = {
        "requester_name": "Alice Ashworth",
        "requester_contact": "alice@example.com",
        "received_day": str(today.day),
        "received_month": str(today.month),
        "received_year": str(today.year),
        "identity_check": "documents",
        "identity_note": "Passport seen",
        "resident_id": "R-ALICE1",
    }
    return data | changes


def _make(officer, days_ago: int, **changes) -> SubjectAccessRequest:
    received = timezone.localdate() - dt.timedelta(days=days_ago)
    details = {
        "requester_name": "Someone",
        "requester_contact": "Somewhere",
        "received_on": received,
        "identity_check": "documents",
        "identity_note": "",
        "resident_id": "R-ALICE1",
    }
    return sar.record_request(officer=officer, **(details | changes))


@pytest.mark.django_db
def test_the_queue_is_ordered_by_deadline_and_tags_overdue_and_due_soon(client, dpo):
    overdue = _make(dpo, 40)
    soon = _make(dpo, 26)
    later = _make(dpo, 1)
    extended = _make(dpo, 20)
    sar.extend(extended.pk, reason="Many records across services")
    done = _make(dpo, 2)
    SubjectAccessRequest.objects.filter(pk=done.pk).update(status="complete")

    html = client.get(QUEUE).content.decode()
    order = [html.index(item.reference) for item in (overdue, soon, later, extended)]
    assert order == sorted(order)
    assert done.reference not in html
    assert html.count("Overdue") == 1 and html.count("Due soon") == 1
    assert "Alice" not in html and "Someone" not in html  # no names in the queue
    assert done.reference in client.get(QUEUE, {"show": "all"}).content.decode()
    with pytest.raises(sar.RequestClosed):
        sar.extend(extended.pk, reason="again")


@pytest.mark.django_db
def test_the_form_links_to_find_a_resident_only_for_those_who_may_open_it(
    client, dpo, make_staff, sign_in_staff
):
    find = reverse("residents:find")
    html = client.get(f"{QUEUE}/new").content.decode()
    assert f'href="{find}"' not in html  # the link would be a refusal for this role
    assert "A resident data officer finds the resident ID" in html
    assert client.get(find).status_code == 403  # which is why
    both = make_staff("Data protection officer", "Resident data officer", username="both")
    sign_in_staff(client, both)
    html = client.get(f"{QUEUE}/new").content.decode()
    assert f'href="{find}"' in html
    assert "A resident data officer finds the resident ID" not in html


def test_recording_a_request_checks_every_answer_and_keeps_what_was_typed(client, dpo, alice):
    response = client.post(
        f"{QUEUE}/new",
        _details(requester_name="", received_day="31", received_month="2", resident_id="R-NOBODY"),
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "Enter the name the request gives" in html
    assert "The received date must be a real date" in html
    assert "alice@example.com" in html  # kept
    summary = client.post(f"{QUEUE}/new", {}).content.decode()
    messages = [
        "Enter the name the request gives",
        "Enter where to send the answer",
        "Enter the date the request arrived",
        "Select how you checked who they are",
        "Enter the resident ID you found for them",
    ]
    assert [summary.index(m) for m in messages] == sorted(summary.index(m) for m in messages)
    future = timezone.localdate() + dt.timedelta(days=1)
    html = client.post(
        f"{QUEUE}/new",
        _details(
            received_day=str(future.day),
            received_month=str(future.month),
            received_year=str(future.year),
            resident_id="R-NOBODY",
        ),
    ).content.decode()
    # Both wrong answers at once, in the error summary and by their fields.
    summary = html.split("govuk-error-summary__list")[1].split("</ul>")[0]
    assert "must be today or earlier" in summary and "No resident has this ID" in summary
    assert summary.index("must be today or earlier") < summary.index("No resident has this ID")
    html = client.post(f"{QUEUE}/new", _details(resident_id="R-NOBODY")).content.decode()
    assert "No resident has this ID" in html
    assert not SubjectAccessRequest.objects.exists()


@pytest.mark.django_db
def test_an_officer_records_prepares_downloads_and_completes_a_request(
    client, dpo, alice, django_capture_on_commit_callbacks
):
    response = client.post(f"{QUEUE}/new", _details())
    item = SubjectAccessRequest.objects.get()
    assert response["Location"] == f"{QUEUE}/{item.reference}"
    assert item.due_on == sar.statutory_deadline(timezone.localdate())

    response = client.post(f"{QUEUE}/{item.reference}", {"action": "complete"})
    assert response["Location"].endswith("?error=no_copy")
    assert "Prepare the copy" in client.get(response["Location"]).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"{QUEUE}/{item.reference}", {"action": "prepare"})
    body = client.get(f"{QUEUE}/{item.reference}/data.json")
    document = json.loads(body.content)
    assert document["resident_ids"] == ["R-ALICE1"]
    keys = {r["key"] for s in document["sections"] for r in s["records"]}
    assert f"rent-account:{alice.account.payment_reference}" in keys  # via the tenancy link
    pdf = client.get(f"{QUEUE}/{item.reference}/data.pdf").content
    assert pdf.startswith(b"%PDF-")
    text = pdf_text(pdf)
    assert "****6819" in text
    for content in (body.content, pdf, text.encode()):
        assert ACCOUNT_NUMBERS["R-ALICE1"].encode() not in content

    client.post(f"{QUEUE}/{item.reference}", {"action": "complete"})
    item.refresh_from_db()
    assert (item.status, item.completed_by) == ("complete", dpo)

    events = DataUseEvent.objects.filter(subject_resident_id="R-ALICE1", actor_user=dpo)
    outcomes = set(events.values_list("outcome", flat=True))
    assert {"requested", "downloaded_json", "downloaded_pdf"} <= outcomes
    assert not any("Ashworth" in str(v) for e in events.values() for v in e.values())
    # Nothing more can be done to a complete request.
    response = client.post(f"{QUEUE}/{item.reference}", {"action": "prepare"})
    assert response["Location"].endswith("?error=closed")
    assert item.exports.count() == 1


@pytest.mark.django_db
def test_other_staff_and_residents_cannot_reach_requests(
    client, alice, make_staff, sign_in_staff, resident
):
    item = _make(make_staff("Data protection officer", username="dpo"), 1)
    urls = [
        QUEUE,
        f"{QUEUE}/new",
        f"{QUEUE}/{item.reference}",
        f"{QUEUE}/{item.reference}/data.json",
    ]
    sign_in_staff(client, make_staff("Housing officer", "Resident data officer", username="h"))
    assert [client.get(url).status_code for url in urls] == [403] * 4
    client.force_login(resident)
    assert [client.get(url).status_code for url in urls] == [403] * 4
    client.logout()
    assert all(client.get(url)["Location"].startswith("/staff/sign-in") for url in urls)


@pytest.mark.django_db
def test_a_request_can_be_extended_once_with_a_reason(client, dpo):
    item = _make(dpo, 3)
    url = f"{QUEUE}/{item.reference}/extend"
    assert (
        "Enter why this request needs more time"
        in client.post(url, {"reason": ""}).content.decode()
    )
    client.post(url, {"reason": "Records held by four services"})
    item.refresh_from_db()
    assert item.extended_due_on == sar.extended_deadline(item.received_on)
    assert item.extension_reason == "Records held by four services"
    assert client.get(url).status_code == 302


@pytest.mark.django_db
def test_an_overdue_request_cannot_be_extended_and_stays_overdue(client, dpo):
    # Like one that arrived 31 October, due 30 November, read on 8 December.
    item = _make(dpo, 38)
    assert item.due_on < timezone.localdate()
    url = f"{QUEUE}/{item.reference}/extend"
    page = client.get(url).content.decode()
    assert "You cannot extend this request" in page and 'name="reason"' not in page
    response = client.post(url, {"reason": "Records held by four services"})
    assert response.status_code == 409
    assert "There is a problem" in response.content.decode()
    item.refresh_from_db()
    assert item.extended_due_on is None and sar.tag(item, timezone.localdate()) == "overdue"
    assert "Extend the deadline" not in client.get(f"{QUEUE}/{item.reference}").content.decode()
    assert "Overdue" in client.get(QUEUE).content.decode()
    with pytest.raises(sar.ExtensionTooLate):
        sar.extend(item.pk, reason="Records held by four services")
    # On the deadline day itself it is still within the first month.
    on_time = _make(dpo, 38)
    sar.extend(on_time.pk, reason="Complex", today=on_time.due_on)
