"""A permit holder's journeys in Chromium, at desktop width and at 320 px: reading the prices
before starting, paying again after a declined card, changing the vehicle and cancelling the
permit (each told what happened, with the refund and when it arrives, and emailed), and booking
visitor parking ahead (warned outside the zone's controlled hours), paying for its hours, then
cancelling it for a full refund.

A small street is made directly (a zone, a home in it, two vehicles DVLA's stand-in knows), so
each journey starts in a second; the whole application with a real verification is in
test_parking_journeys.py."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from borough.core.dates import date_in_words
from tests.e2e._parking import (
    VISA_DECLINED,
    fits_width,
    heading,
    make_home,
    make_permit,
    make_zone,
    pay_by_card,
    screenshot,
    sized_page,  # noqa: F401 - a fixture
    write_vehicles,
)
from tests.e2e.test_foundation_journeys import assert_accessible
from tests.e2e.test_parking_journeys import _sign_in

# ruff: noqa: F811 - the imported ``sized_page`` fixture is taken as an argument by name

EMAIL = "ada@example.org"


@pytest.fixture
def street(transactional_db, settings, tmp_path):
    from borough.parking.models import PropertyZone
    from borough.parking.vehicles import reset_vehicle_lookup

    zone = make_zone("A", "Albion")
    home = make_home()
    PropertyZone.objects.create(property=home, zone=zone)
    settings.BOROUGH_VEHICLES_FILE = str(write_vehicles(tmp_path / "vehicles.csv", home.uprn))
    settings.BOROUGH_VEHICLE_LOOKUP = "local"
    settings.BOROUGH_PAYMENT_PROVIDER = "local"
    reset_vehicle_lookup()
    yield {"zone": zone, "home": home}
    reset_vehicle_lookup()


def _permit_page(page: Page, base: str, permit) -> None:
    page.goto(f"{base}/parking/permits")
    page.get_by_role("link", name=permit.number).click()
    expect(heading(page)).to_have_text(re.compile(permit.number))


def _look(page: Page, name: str) -> None:
    assert_accessible(page)
    fits_width(page)
    screenshot(page, name)


def test_the_prices_can_be_read_from_the_start_page_before_signing_in(
    live_server, street, sized_page: Page
):
    page = sized_page
    page.goto(live_server.url + "/parking")
    page.get_by_role("link", name="See the prices for each band").click()
    expect(heading(page)).to_have_text("Resident parking permit prices")
    band_a = page.locator("#prices tbody tr").first
    expect(band_a).to_contain_text("0g/km (electric)")
    expect(band_a).to_contain_text("£6.25")
    _look(page, "prices")


def _to_card_page(page: Page, base: str, user, street) -> None:
    """An application waiting for payment (as "Continue to payment" leaves it: the whole
    application journey with a real verification is in test_parking_journeys.py), and its
    card page opened."""
    from borough.parking.models import PermitApplication
    from borough.payments import services as payments

    application = PermitApplication.objects.create(
        journey=f"j-{user.pk}",
        applicant=user,
        permit_type="resident",
        property=street["home"],
        zone=street["zone"],
        first_name="Ada",
        surname="Lovelace",
        date_of_birth=dt.date(1980, 3, 27),
        vrm="AB12CDE",
        vehicle_found=True,
        duration_months=12,
        price_pence=14000,
        verification_decision="verified",
    )
    payment = payments.start_payment(
        purpose_key=f"permit-application:{application.reference}",
        amount_pence=14000,
        description="Resident parking permit, zone A, 12 months",
        return_url=f"{base}/parking/apply/paid/{application.reference}",
    )
    PermitApplication.objects.filter(pk=application.pk).update(payment_reference=payment.reference)
    page.goto(base + payment.next_url)


def test_a_declined_card_keeps_the_application_and_the_resident_pays_again(
    live_server, street, sized_page: Page, mailoutbox
):
    from borough.parking.models import Permit, PermitApplication

    page = sized_page
    base = live_server.url
    _to_card_page(page, base, _sign_in(page, base, EMAIL), street)
    pay_by_card(page, VISA_DECLINED)
    expect(heading(page)).to_have_text("Your payment was not taken")
    expect(page.locator("main")).to_contain_text("We have kept your application")
    expect(page.locator("#to-pay")).to_have_text("£140")
    _look(page, "payment-declined")
    page.get_by_role("button", name="Pay again").click()
    pay_by_card(page)
    expect(page.get_by_role("heading", name="Permit issued")).to_be_visible()
    permit = Permit.objects.get()
    assert permit.vrm == "AB12CDE" and PermitApplication.objects.count() == 1
    assert [m.subject for m in mailoutbox] == [f"Your parking permit {permit.number}"]


def test_the_holder_changes_the_vehicle_then_cancels_and_is_told_each_time(
    live_server, street, sized_page: Page, mailoutbox
):
    from borough.parking.models import Permit
    from borough.parking.pricing import add_months

    page = sized_page
    base = live_server.url
    _to_card_page(page, base, _sign_in(page, base, EMAIL), street)
    pay_by_card(page)
    permit = Permit.objects.get()
    mailoutbox.clear()
    # two months in: ten of twelve months unused
    started = add_months(timezone.localdate(), -2)
    Permit.objects.filter(pk=permit.pk).update(
        starts_on=started, ends_on=add_months(started, 12) - dt.timedelta(days=1)
    )

    _permit_page(page, base, permit)
    expect(page.locator("main")).to_contain_text("Valid until")
    # renewal is not open yet: no link, but when it opens
    expect(page.get_by_role("link", name="Renew your permit")).to_have_count(0)
    expect(page.locator("#renewal")).to_contain_text("You can renew it from")

    page.get_by_role("link", name="Change your vehicle").click()
    page.get_by_label("What is the new vehicle's registration number?").fill("ev70 abc")
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Yes").check()
    page.get_by_role("button", name="Continue").click()
    expect(heading(page)).to_have_text("Check the change of vehicle")
    page.get_by_role("button", name="Change vehicle").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Vehicle changed")
    expect(page.locator("#what-happened")).to_contain_text(
        f"Permit {permit.number} is now for EV70 ABC. It no longer covers AB12 CDE."
    )
    _look(page, "vehicle-changed")

    page.get_by_role("link", name="Cancel your permit").click()
    expect(page.locator("#refund")).to_contain_text("We will refund")
    page.get_by_role("button", name="Cancel permit").click()
    banner = page.locator(".govuk-notification-banner")
    expect(banner).to_contain_text(f"Permit {permit.number} is cancelled")
    expect(page.locator("#what-happened")).to_contain_text(
        re.compile(
            r"We have refunded £\d+\.\d\d to the card you paid with\. "
            r"It will reach your account by \d{1,2} \w+ \d{4}\."
        )
    )
    main = page.locator("main")
    expect(main).not_to_contain_text("Valid until")
    expect(main).to_contain_text("Cancelled on")
    _look(page, "permit-cancelled")
    page.goto(base + "/parking/permits")
    expect(page.locator("main")).to_contain_text(
        f"Cancelled on {date_in_words(timezone.localdate())}"
    )
    subjects = [m.subject for m in mailoutbox]
    assert subjects == [
        f"Your parking permit {permit.number}: vehicle changed",
        f"Your parking permit {permit.number} is cancelled",
    ]
    assert "It will reach your account by" in mailoutbox[1].body


def test_visitor_parking_is_booked_ahead_with_a_warning_outside_the_hours_then_cancelled(
    live_server, street, sized_page: Page, mailoutbox
):
    page = sized_page
    base = live_server.url
    _sign_in(page, base, EMAIL)
    make_permit(street["zone"], street["home"], vrm="AB12CDE", email=EMAIL)
    saturday = timezone.localdate() + dt.timedelta(days=2)
    while saturday.weekday() != 5:
        saturday += dt.timedelta(days=1)

    page.goto(base + "/parking/visitors")
    expect(page.locator("#hours-left")).to_have_text("400")
    page.get_by_label("Visitor's vehicle registration number").fill("vv11 vvv")
    page.get_by_label("Another day or time").check()
    page.get_by_label("Day", exact=True).fill(str(saturday.day))
    page.get_by_label("Month").fill(str(saturday.month))
    page.get_by_label("Year").fill(str(saturday.year))
    page.get_by_label("Time", exact=True).fill("10am")
    page.get_by_label("How many hours?").fill("2")
    _look(page, "visitors-form")
    page.get_by_role("button", name="Continue").click()

    expect(heading(page)).to_have_text("Check your visitor parking")
    expect(page.locator("#outside-hours")).to_contain_text("Zone A is not controlled at this time")
    expect(page.locator("main")).to_contain_text(f"10am on {date_in_words(saturday)}")
    expect(page.locator("#price")).to_have_text("£2.40")  # 2 hours at the profile's £1.20
    _look(page, "visitors-check")
    page.get_by_role("button", name="Pay £2.40").click()
    pay_by_card(page)

    expect(page.locator(".govuk-notification-banner")).to_contain_text("Visitor parking booked")
    expect(page.locator("#hours-left")).to_have_text("398")
    page.get_by_role("button", name="Cancel for VV11 VVV").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Visitor parking cancelled")
    expect(page.locator("#what-happened")).to_contain_text("2 unused hours went back")
    expect(page.locator("#what-happened")).to_contain_text(
        "We have refunded £2.40 to the card you paid with"
    )
    expect(page.locator("#hours-left")).to_have_text("400")
    expect(page.locator("#sessions")).to_contain_text("Cancelled")
    expect(page.locator("#sessions").get_by_role("button")).to_have_count(0)
    _look(page, "visitors-cancelled")
    assert [m.subject for m in mailoutbox] == ["Your visitor parking session has ended"]


def test_a_booking_with_mistakes_says_what_is_wrong_and_keeps_what_was_typed(
    live_server, street, sized_page: Page
):
    page = sized_page
    base = live_server.url
    _sign_in(page, base, EMAIL)
    make_permit(street["zone"], street["home"], vrm="AB12CDE", email=EMAIL)
    page.goto(base + "/parking/visitors")
    page.get_by_label("Visitor's vehicle registration number").fill("vv11 vvv")
    page.get_by_label("Another day or time").check()
    page.get_by_label("Time", exact=True).fill("25pm")
    page.get_by_label("How many hours?").fill("3")
    page.get_by_role("button", name="Continue").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Enter the day your visitor arrives")
    expect(summary).to_contain_text("Enter a real time, like 9:30am or 2pm")
    expect(page.get_by_label("Time", exact=True)).to_have_value("25pm")
    expect(page.get_by_label("Visitor's vehicle registration number")).to_have_value("vv11 vvv")
    _look(page, "visitors-errors")
