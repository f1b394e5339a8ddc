"""The parking back office: the queue, an officer's decision with its refund, permit search,
cancellation with the pro-rata refund; every view of an applicant's details logged."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from borough.parking.models import Permit, PermitApplication
from borough.parking.pricing import add_months
from borough.parking.tests.test_permits import application, home, issue, zone  # noqa: F401
from borough.payments.models import Payment, Refund
from borough.payments.services import refresh_payment, start_payment
from borough.transparency.queries import events


@pytest.fixture
def paid(zone, home, pay):  # noqa: F811
    """A paid application (the local provider, test card), not yet issued."""
    app = application(zone, home, resident_id="R00000042")
    payment = start_payment(
        f"permit-application:{app.reference}", app.price_pence, "Permit", "http://x/return"
    )
    Client().get(payment.next_url)
    pay(payment)
    payment = refresh_payment(payment)
    assert payment.status == "success"
    PermitApplication.objects.filter(pk=app.pk).update(payment_reference=payment.reference)
    app.refresh_from_db()
    return app


@pytest.fixture
def officer(client, make_staff, sign_in_staff):
    user = make_staff("Parking officer")
    sign_in_staff(client, user)
    return user


def test_an_officer_refuses_a_held_application_and_it_is_refunded_in_full(client, paid, officer):
    issue(paid, verified=False, policy="wait_for_officer")
    queue = client.get("/staff/parking/applications").content.decode()
    assert paid.reference in queue
    page = client.get(f"/staff/parking/applications/{paid.reference}").content.decode()
    assert "Ada Lovelace" in page and "AB12 CDE" in page
    viewed = events().filter(purpose="staff_view_records", reference=paid.reference)
    assert [e.subject_resident_id for e in viewed] == ["R00000042"]
    missing = client.post(f"/staff/parking/applications/{paid.reference}", {"decision": "refuse"})
    assert "Enter the reason for your decision" in missing.content.decode()
    done = client.post(
        f"/staff/parking/applications/{paid.reference}",
        {"decision": "refuse", "reason": "No proof of address after two requests"},
    )
    assert done.status_code == 302
    paid.refresh_from_db()
    assert paid.status == PermitApplication.Status.REFUSED and paid.decided_by == officer
    refund = Refund.objects.get()
    assert refund.amount_pence == paid.price_pence
    assert Payment.objects.get().refunded_pence == paid.price_pence
    assert list(paid.events.values_list("action", flat=True)) == ["held_for_officer", "refused"]
    again = client.post(
        f"/staff/parking/applications/{paid.reference}", {"decision": "refuse", "reason": "x"}
    )
    assert "not waiting for an officer" in again.content.decode()
    assert Refund.objects.count() == 1


def test_an_officer_issues_a_held_application(client, paid, officer):
    issue(paid, verified=False, policy="wait_for_officer")
    client.post(
        f"/staff/parking/applications/{paid.reference}",
        {"decision": "approve", "reason": "Council tax bill checked"},
    )
    permit = Permit.objects.get()
    assert permit.status == Permit.Status.ACTIVE and permit.application == paid


def test_permit_search_by_registration_number_and_postcode(client, paid, officer):
    permit = issue(paid).permit
    for query in ("ab12 cde", permit.number, "E21 0AA", "albion"):
        page = client.get("/staff/parking/permits", {"q": query}).content.decode()
        assert permit.number in page, query
    none = client.get("/staff/parking/permits", {"q": "ZX99"}).content.decode()
    assert "0 permits found" in none


def test_cancelling_a_permit_refunds_whole_unused_months_less_the_fee(client, paid, officer):
    permit = issue(paid).permit
    today = timezone.localdate()  # cancelled today, the day it started: 12 months unused
    Permit.objects.filter(pk=permit.pk).update(
        starts_on=today, ends_on=add_months(today, 12) - dt.timedelta(days=1)
    )
    page = client.post(
        f"/staff/parking/permits/{permit.number}", {"action": "cancel", "reason": ""}
    ).content.decode()
    assert "Enter why the permit is being cancelled" in page
    client.post(
        f"/staff/parking/permits/{permit.number}", {"action": "cancel", "reason": "Moved away"}
    )
    permit.refresh_from_db()
    assert permit.status == Permit.Status.CANCELLED
    # all 12 months unused, less Northmere's £20 fee
    assert permit.refunded_pence == paid.price_pence - 2000
    assert Refund.objects.get().amount_pence == permit.refunded_pence
    client.post(f"/staff/parking/permits/{permit.number}", {"action": "cancel", "reason": "again"})
    assert Refund.objects.count() == 1


def test_accepting_proof_makes_the_permit_active(client, paid, officer):
    permit = issue(paid, verified=False).permit
    assert permit.number in client.get("/staff/parking/applications").content.decode()
    client.post(f"/staff/parking/permits/{permit.number}", {"action": "accept_proof"})
    permit.refresh_from_db()
    assert permit.status == Permit.Status.ACTIVE and permit.proof_due_on is None


def test_other_staff_cannot_open_the_back_office(client, paid, make_staff, sign_in_staff):
    sign_in_staff(client, make_staff("Housing officer"))
    assert client.get(f"/staff/parking/applications/{paid.reference}").status_code == 403
    assert events().filter(purpose="staff_view_records").count() == 0
