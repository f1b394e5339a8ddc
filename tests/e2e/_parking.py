"""What the parking and enforcement journeys share: a page at desktop or phone width, staff
signing in through the sign-in pages, small zones and permits made directly, screenshots."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import _no_csp_violations, watch_csp_violations
from tests.e2e.test_resident_index_journeys import PASSWORD, enter_authenticator_code

#: A desktop and the narrowest phone the pages must work on (WCAG 1.4.10's 320 CSS pixels).
WIDTHS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 320, "height": 800}}
SHOTS = Path("/tmp/shots/parking")

SQUARE = {
    "type": "Polygon",
    "coordinates": [[[-0.1, 51.5], [-0.09, 51.5], [-0.09, 51.51], [-0.1, 51.51], [-0.1, 51.5]]],
}


def _page_at(browser, width: str):
    context = browser.new_context(viewport=WIDTHS[width])
    page = context.new_page()
    page.width_name = width
    violations = watch_csp_violations(page)
    yield page
    context.close()
    _no_csp_violations(violations)


@pytest.fixture(params=list(WIDTHS), ids=list(WIDTHS))
def sized_page(request, browser):
    """A page at desktop width and one at 320 px; ``page.width_name`` says which. A CSP
    violation logged by any page fails the journey."""
    yield from _page_at(browser, request.param)


@pytest.fixture
def phone_page(browser):
    """A page 320 px wide (a journey that runs at desktop width elsewhere)."""
    yield from _page_at(browser, "phone")


def heading(page: Page):
    return page.get_by_role("heading", level=1)


def screenshot(page: Page, name: str) -> None:
    """The whole page into /tmp/shots/parking for a person to look at (never committed)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(
        path=str(SHOTS / f"{name}-{getattr(page, 'width_name', 'page')}.png"), full_page=True
    )


def fits_width(page: Page) -> None:
    """Nothing makes the page scroll sideways (WCAG 1.4.10 reflow)."""
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than the window"


def make_officer(username: str, role: str):
    """A staff account with ``role`` and an authenticator app."""
    from borough.core.services import create_staff_account
    from borough.core.testing import give_device

    user, _ = create_staff_account(username, [role], password=PASSWORD, full_name="Sam Okafor")
    give_device(user)
    return user


def sign_in_officer(page: Page, base_url: str, username: str) -> None:
    """Through the staff sign-in pages, as a person does: username, password, the code."""
    page.goto(base_url + "/staff/sign-in")
    page.get_by_label("Username").fill(username)
    page.get_by_role("textbox", name="Password").fill(PASSWORD)
    page.locator("main form").get_by_role("button", name="Sign in").click()
    enter_authenticator_code(page, username)
    expect(heading(page)).to_have_text("Staff home")


def make_zone(code: str, name: str):
    from borough.parking.models import Zone

    return Zone.objects.create(
        code=code,
        name=name,
        hours="Mon-Fri 8.30am-6.30pm",
        boundary=SQUARE,
        min_lon=-0.1,
        min_lat=51.5,
        max_lon=-0.09,
        max_lat=51.51,
    )


def make_home(uprn: int = 100090000001, postcode: str = "E21 0AA"):
    from borough.places.models import Property

    return Property.objects.create(
        uprn=uprn,
        street="ALBION ROAD",
        building_number="1",
        postcode=postcode,
        latitude=51.505,
        longitude=-0.095,
        is_residential=True,
        classification="RD04",
    )


def make_application(zone, home, *, vrm: str, email: str = "ada@example.org", months: int = 12):
    """A resident permit application for ``vrm`` by a resident ``email``, waiting for payment."""
    from borough.core.models import User
    from borough.parking.models import PermitApplication

    holder = User.objects.residents().filter(email=email).first() or User.objects.create_resident(
        email
    )
    return PermitApplication.objects.create(
        journey=f"j-{vrm}",
        applicant=holder,
        permit_type="resident",
        property=home,
        zone=zone,
        first_name="Ada",
        surname="Lovelace",
        date_of_birth=dt.date(1980, 3, 27),
        vrm=vrm,
        vehicle_found=True,
        duration_months=months,
        price_pence=15000,
        resident_id="R00000042",
        verification_decision="verified",
    )


def make_permit(
    zone, home, *, vrm: str, email: str = "ada@example.org", months: int = 12, verified=True
):
    """A paid, issued resident permit for ``vrm`` from today, held by a resident ``email``
    (waiting for proof of address unless ``verified``)."""
    from django.utils import timezone

    from borough.parking import services
    from borough.parking.models import Permit
    from borough.parking.pricing import add_months

    application = make_application(zone, home, vrm=vrm, email=email, months=months)
    today = timezone.localdate()
    permit = services.issue_permit(
        application.pk,
        verified=verified,
        unverified_policy="issue_then_proof",
        proof_days=30,
        max_per_household=2,
        today=today,
    ).permit
    Permit.objects.filter(pk=permit.pk).update(
        starts_on=today, ends_on=add_months(today, months) - dt.timedelta(days=1)
    )
    permit.refresh_from_db()
    return permit


def contrast(page: Page, selector: str) -> float:
    """The WCAG contrast ratio of an element's text colour against its background colour."""
    colours = page.locator(selector).evaluate(
        "e => [getComputedStyle(e).color, getComputedStyle(e).backgroundColor]"
    )

    def luminance(css: str) -> float:
        red, green, blue = (int(n) / 255 for n in re.findall(r"\d+", css)[:3])

        def channel(c: float) -> float:
            return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

        return 0.2126 * channel(red) + 0.7152 * channel(green) + 0.0722 * channel(blue)

    light, dark = sorted((luminance(c) for c in colours), reverse=True)
    return (light + 0.05) / (dark + 0.05)


VISA_OK = "4444333322221111"
VISA_DECLINED = "4000000000000002"


def pay_by_card(page: Page, number: str = VISA_OK) -> None:
    """On the local provider's "Enter card details" page: type the card and press Continue."""
    expect(heading(page)).to_have_text("Enter card details")
    page.get_by_label("Card number").fill(number)
    page.get_by_label("Month").fill("12")
    page.get_by_label("Year").fill(str(dt.date.today().year + 2))
    page.get_by_label("Name on card").fill("Ada Lovelace")
    page.get_by_label("Card security code").fill("123")
    page.get_by_role("button", name="Continue").click()


def write_vehicles(path: Path, home_uprn: int) -> Path:
    """A vehicles file for the local DVLA stand-in: a petrol car, an electric one, a diesel."""
    import csv

    from borough.synth.vehicles import COLUMNS

    rows = (("AB12CDE", "PETROL", "114"), ("EV70ABC", "ELECTRICITY", "0"))
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        for vrm, fuel, co2 in rows:
            writer.writerow(
                {
                    "registration": vrm,
                    "make": "FORD",
                    "model": "FIESTA",
                    "colour": "BLUE",
                    "fuel_type": fuel,
                    "co2_emissions": co2,
                    "engine_capacity": "999",
                    "year_of_manufacture": "2019",
                    "month_of_first_registration": "2019-03",
                    "tax_status": "Taxed",
                    "mot_status": "Valid",
                    "keeper_person_id": "1",
                    "keeper_uprn": str(home_uprn),
                }
            )
    return path
