"""Visitor sessions booked ahead for a day and a time, the warning outside the zone's controlled
hours, only the hours used taken, and what the resident is told when one ends."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from borough.parking import enforcement, visitor_sessions
from borough.parking.models import Permit, VisitorSession
from borough.parking.tests.test_enforcement import permit  # noqa: F401 - a fixture
from borough.parking.tests.test_permits import home, zone  # noqa: F401 - fixtures
from borough.payments.models import Payment, Refund
from borough.payments.tests.conftest import pay  # noqa: F401 - the card page, as a fixture

# ruff: noqa: F811 - the imported fixtures are taken as arguments by name


def _next(weekday: int, hour: int) -> dt.datetime:
    """The next such weekday (Monday 0) at least a day away, at ``hour`` London time."""
    day = timezone.localdate() + dt.timedelta(days=2)
    while day.weekday() != weekday:
        day += dt.timedelta(days=1)
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


def _book(client, when: dt.datetime, hours: int, vrm: str = "VV11VVV"):
    return client.post(
        "/parking/visitors",
        {
            "vrm": vrm,
            "when": "later",
            "day": str(when.day),
            "month": str(when.month),
            "year": str(when.year),
            "time": f"{when.hour % 12 or 12}{'am' if when.hour < 12 else 'pm'}",
            "hours": str(hours),
        },
    )


@pytest.fixture
def host(client, permit: Permit, settings):
    client.force_login(permit.holder)
    settings.BOROUGH_PAYMENT_PROVIDER = "local"
    return permit


@pytest.fixture
def free(settings):
    """A council whose visitor sessions cost nothing."""
    parking = settings.COUNCIL.parking.model_copy(update={"visitor_price_per_hour_pence": 0})
    settings.COUNCIL = settings.COUNCIL.model_copy(update={"parking": parking})


def _book_and_pay(client, pay, card: str = "4444333322221111"):
    """Press the check page's button, pay on the card page; the return page's response."""
    to_card = client.post("/parking/visitors/check")
    payment = Payment.objects.latest("pk")
    assert to_card["Location"] == payment.next_url
    client.get(payment.next_url)
    back = pay(payment, number=card)
    return client.get(back["Location"])


def test_a_session_is_booked_ahead_for_a_day_and_time_and_paid_for(client, host, pay):
    tuesday = _next(1, 14)  # zone A is controlled Mon-Fri 8.30am-6.30pm
    assert _book(client, tuesday, 3)["Location"] == "/parking/visitors/check"
    check = client.get("/parking/visitors/check").content.decode()
    assert "2pm on " in check and "5pm on " in check
    assert 'id="outside-hours"' not in check
    assert "Pay £3.60" in check and "£1.20 an hour" in check  # the shipped profile's price
    assert _book_and_pay(client, pay)["Location"] == "/parking/visitors"
    session = VisitorSession.objects.get()
    assert session.status == VisitorSession.Status.BOOKED and session.price_pence == 360
    assert session.starts_at == tuesday and session.ends_at == tuesday + dt.timedelta(hours=3)
    page = client.get("/parking/visitors").content.decode()
    assert (
        "Visitor parking booked" in page and "VV11 VVV can park in zone A from 2pm to 5pm" in page
    )
    assert "You paid £3.60." in page
    assert "397</strong>" in page  # the booked hours are taken from the allowance
    assert ">Cancel<" in page  # not started yet


def test_a_session_outside_the_controlled_hours_is_warned_about_before_booking(client, host):
    _book(client, _next(5, 10), 2)  # a Saturday
    check = client.get("/parking/visitors/check").content.decode()
    assert 'id="outside-hours"' in check and "is not controlled at this time" in check
    _book(client, _next(2, 17), 3)  # Wednesday 5pm to 8pm: partly after 6.30pm
    check = client.get("/parking/visitors/check").content.decode()
    assert "Part of this time is outside zone A" in check
    assert VisitorSession.objects.count() == 0  # nothing booked until the button


def test_a_session_cancelled_before_it_starts_takes_no_hours_and_the_resident_is_told(
    client, host, free, mailoutbox
):
    _book(client, _next(1, 14), 3)
    assert client.post("/parking/visitors/check")["Location"] == "/parking/visitors"
    session = VisitorSession.objects.get()
    assert client.post(f"/parking/visitors/{session.pk}/end")["Location"] == "/parking/visitors"
    session.refresh_from_db()
    assert session.hours_used == 0
    page = client.get("/parking/visitors").content.decode()
    assert "Visitor parking cancelled" in page
    assert "3 unused hours went back to your allowance" in page
    assert "400</strong>" in page
    [email] = mailoutbox
    assert "VV11 VVV" in email.body and "3 unused hours went back" in email.body


def test_ending_a_session_early_charges_only_the_hours_used_and_says_so(
    client, host, pay, mailoutbox
):
    client.post("/parking/visitors", {"vrm": "VV11VVV", "when": "now", "hours": "5"})
    _book_and_pay(client, pay)
    session = VisitorSession.objects.get()
    VisitorSession.objects.filter(pk=session.pk).update(
        starts_at=session.starts_at - dt.timedelta(minutes=90),
        ends_at=session.ends_at - dt.timedelta(minutes=90),
    )
    client.post(f"/parking/visitors/{session.pk}/end")
    session.refresh_from_db()
    assert session.hours_used == 2
    # 5 hours paid at £1.20; 2 used (the second begun): 3 refunded
    assert session.refunded_pence == 360
    assert Refund.objects.get().amount_pence == 360
    page = client.get("/parking/visitors").content.decode()
    assert "Visitor parking ended" in page and "3 unused hours went back" in page
    assert "We have refunded £3.60 to the card you paid with" in page
    assert [m.subject for m in mailoutbox] == ["Your visitor parking session has ended"]
    assert "We have refunded £3.60" in mailoutbox[0].body
    # ending it again tells nothing new
    client.post(f"/parking/visitors/{session.pk}/end")
    assert len(mailoutbox) == 1


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"when": ""}, "when_0", "Select when your visitor arrives"),
        ({"day": "", "month": "", "year": ""}, "day", "Enter the day your visitor arrives"),
        ({"day": "31", "month": "2"}, "day", "must be a real date"),
        ({"time": ""}, "time", "Enter the time your visitor arrives, like 9:30am or 2pm"),
        ({"time": "25pm"}, "time", "Enter a real time, like 9:30am or 2pm"),
        ({"year": "2020"}, "day", "must be now or later"),
    ],
)
def test_each_mistake_in_booking_ahead_has_its_own_message_and_keeps_what_was_typed(
    client, host, fields, field, message
):
    when = _next(1, 14)
    data = {
        "vrm": "vv11 vvv",
        "when": "later",
        "day": str(when.day),
        "month": str(when.month),
        "year": str(when.year),
        "time": "2pm",
        "hours": "3",
        **fields,
    }
    page = client.post("/parking/visitors", data).content.decode()
    assert message in page
    assert f'href="#id_{field}"' in page
    assert 'value="vv11 vvv"' in page and 'value="3"' in page


def test_a_declined_card_books_nothing_keeps_the_booking_and_pays_again(client, host, pay):
    client.post("/parking/visitors", {"vrm": "VV11VVV", "when": "now", "hours": "2"})
    page = _book_and_pay(client, pay, card="4000000000000002").content.decode()
    assert "Your payment was not taken" in page and "Pay again" in page
    session = VisitorSession.objects.get()
    assert session.status == VisitorSession.Status.AWAITING_PAYMENT
    # enforcement does not see a session that is not paid for
    check = {"actor_kind": "system", "actor_label": "t"}
    assert not enforcement.check_vehicle("VV11VVV", host.zone, **check).allowed
    again = client.post(f"/parking/visitors/{session.pk}/pay")
    payment = Payment.objects.latest("pk")
    assert again["Location"] == payment.next_url
    client.get(payment.next_url)
    back = pay(payment)
    assert client.get(back["Location"])["Location"] == "/parking/visitors"
    session.refresh_from_db()
    assert session.status == VisitorSession.Status.BOOKED
    assert enforcement.check_vehicle("VV11VVV", host.zone, **check).allowed


def test_an_unpaid_session_holds_its_hours_only_while_it_can_still_be_paid(client, host):
    client.post("/parking/visitors", {"vrm": "VV11VVV", "when": "now", "hours": "4"})
    client.post("/parking/visitors/check")  # to the card page, not paid
    year = timezone.localdate().year
    assert visitor_sessions.visitor_hours_used(host.property_id, year) == 4
    VisitorSession.objects.update(created_at=timezone.now() - dt.timedelta(minutes=91))
    assert visitor_sessions.visitor_hours_used(host.property_id, year) == 0


def test_a_refund_that_fails_leaves_the_session_running_and_says_so(client, host, pay, monkeypatch):
    from borough.payments import services as payments

    client.post("/parking/visitors", {"vrm": "VV11VVV", "when": "now", "hours": "5"})
    _book_and_pay(client, pay)
    session = VisitorSession.objects.get()

    def refuse(*args, **kwargs):
        raise payments.RefundNotAllowed("The provider is down")

    monkeypatch.setattr(payments, "refund_payment", refuse)
    client.post(f"/parking/visitors/{session.pk}/end")
    session.refresh_from_db()
    assert session.ended_early_at is None and session.refunded_pence == 0
    page = client.get("/parking/visitors").content.decode()
    assert "There is a problem" in page and "Try again later" in page


def test_change_from_the_check_page_opens_the_form_with_the_answers_given(client, host):
    _book(client, _next(1, 14), 3)
    page = client.get("/parking/visitors").content.decode()
    assert 'value="VV11 VVV"' in page and 'value="3"' in page and 'value="2pm"' in page
    assert 'value="later" checked' in page
