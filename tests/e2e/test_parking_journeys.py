"""A resident's parking permit journey in Chromium, end to end on a synthetic borough: sign in,
address, zone, who you are, the instant verification through the resident index, vehicle,
price, payment on the local provider's card page, the permit issued at once; then an
enforcement officer's check of the registration over the API.

The borough (300 residents, fixed seed) is generated, loaded, its zones placed and its records
linked once for the module; each test writes the rows back (as the resident index journeys do).
The time from submitting "who you are" to the verification answer (the browser's click to the
answer page) is printed (``pytest -s``) and recorded as the test's property
``verification_answer_seconds`` (in ``--junitxml`` reports).
"""

from __future__ import annotations

import datetime as dt
import re
import time

import pytest
from playwright.sync_api import Page, expect

from tests.e2e._parking import (  # noqa: F401 - phone_page: a fixture
    VISA_DECLINED,
    VISA_OK,
    fits_width,
    pay_by_card,
    phone_page,
    screenshot,
)
from tests.e2e.test_foundation_journeys import assert_accessible, check_accessible

# ruff: noqa: F811 - the imported ``phone_page`` fixture is taken as an argument by name
from tests.e2e.test_resident_index_journeys import (
    Borough,
    load_and_link_borough,
    restore_borough,
)


@pytest.fixture(scope="module")
def parking_borough(django_db_setup, django_db_blocker, tmp_path_factory) -> Borough:
    from borough.parking.zones import load_zones

    return load_and_link_borough(
        "parking-journeys",
        tmp_path_factory,
        django_db_blocker,
        also=lambda path: load_zones(path / "zones.geojson"),
    )


@pytest.fixture
def borough(parking_borough, transactional_db, settings):
    from borough.parking.vehicles import reset_vehicle_lookup
    from borough.residents.verification.service import HOLDER

    restore_borough(parking_borough, settings)
    settings.BOROUGH_VEHICLES_FILE = str(parking_borough.synth.path / "vehicles.csv")
    settings.BOROUGH_PAYMENT_PROVIDER = "local"
    reset_vehicle_lookup()
    yield parking_borough
    HOLDER.clear()
    reset_vehicle_lookup()


def _heading(page: Page):
    return page.get_by_role("heading", level=1)


def _sign_in(page: Page, base_url: str, email: str):
    """Open a sign-in link for ``email`` and press Continue: the resident account is made then."""
    from borough.core.models import User
    from borough.core.views import magic_link_path

    page.goto(base_url + magic_link_path(email))
    page.locator("main form").get_by_role("button").click()
    expect(_heading(page)).not_to_have_text("Sign in")
    return User.objects.residents().get(email=email.lower())


def apply_for_a_permit(
    page: Page, base: str, person: dict, home, *, card: str = VISA_OK, record_property=None, look
) -> str:
    """The whole application as a resident fills it in, from "Start now" to the card page,
    paid with ``card``; ``look(page)`` on each page that matters. Returns the total shown."""
    _sign_in(page, base, person["email"])
    page.goto(base + "/parking")
    expect(_heading(page)).to_have_text("Apply for a resident parking permit")
    look(page)
    page.get_by_role("button", name="Start now").click()

    expect(_heading(page)).to_have_text("What is your postcode?")
    page.get_by_label("Postcode").fill(home.postcode.lower().replace(" ", ""))
    page.get_by_role("button", name="Find address").click()
    expect(_heading(page)).to_have_text(f"Select your address in {home.postcode}")
    look(page)
    chooser = page.get_by_label("Address", exact=True)
    label = home.single_line(include_postcode=False)
    if chooser.count() == 1 and chooser.evaluate("e => e.tagName") == "SELECT":
        chooser.select_option(label=label)
    else:
        page.get_by_label(label, exact=True).check()
    page.get_by_role("button", name="Continue").click()

    expect(_heading(page)).to_have_text(f"Your address is in zone {person['zone']}")
    page.get_by_role("button", name="Continue").click()

    expect(_heading(page)).to_have_text("What is your name and date of birth?")
    look(page)
    page.get_by_label("First name").fill(person["first_name"])
    page.get_by_label("Last name").fill(person["surname"])
    born = dt.date.fromisoformat(person["date_of_birth"])
    page.get_by_label("Day").fill(str(born.day))
    page.get_by_label("Month").fill(str(born.month))
    page.get_by_label("Year").fill(str(born.year))
    started = time.perf_counter()
    page.get_by_role("button", name="Continue").click()
    expect(_heading(page)).to_have_text("We have confirmed your address")
    seconds = time.perf_counter() - started
    print(f"\nsubmitting details to the verification answer: {seconds:.3f} s")
    if record_property is not None:
        record_property("verification_answer_seconds", round(seconds, 3))
    look(page)
    page.get_by_role("button", name="Continue").click()

    expect(_heading(page)).to_have_text("What is your vehicle's registration number?")
    page.get_by_label("What is your vehicle's registration number?").fill(
        person["vrm"][:4] + " " + person["vrm"][4:]
    )
    page.get_by_role("button", name="Continue").click()
    expect(_heading(page)).to_have_text("Check your vehicle's details")
    look(page)
    page.get_by_label("Yes").check()
    page.get_by_role("button", name="Continue").click()

    expect(_heading(page)).to_have_text("How long do you want the permit for?")
    page.get_by_role("radio", name=re.compile(r"^12 months: £")).check()
    page.get_by_role("button", name="Continue").click()

    expect(_heading(page)).to_have_text("Check your answers before paying")
    look(page)
    total = page.locator("#total").inner_text()
    page.get_by_role("button", name="Continue to payment").click()

    # the local payment provider's card page
    expect(page.get_by_text(total).first).to_be_visible()
    pay_by_card(page, card)
    return total


def test_a_verifiable_resident_gets_a_permit_at_once_and_enforcement_sees_it(
    borough, any_page: Page, live_server, mailoutbox, record_property
):
    page = any_page
    from borough.core.api_clients import create_client
    from borough.parking.demo import permit_ready_people
    from borough.parking.models import Permit
    from borough.places.models import Property

    people = permit_ready_people(borough.synth.path, limit=20)
    assert people, "the synthetic borough has no one who can apply"
    person = people[0]
    home = Property.objects.get(pk=int(person["current_uprn"]))
    base = live_server.url

    total = apply_for_a_permit(
        page, base, person, home, record_property=record_property, look=check_accessible
    )
    expect(page.get_by_role("heading", name="Permit issued")).to_be_visible()
    number = page.locator("#permit-number").inner_text()
    check_accessible(page)
    permit = Permit.objects.get(number=number)
    assert permit.status == Permit.Status.ACTIVE
    assert permit.vrm == person["vrm"]
    assert permit.zone.code == person["zone"]
    assert f"{permit.paid_pence // 100:,}" in total.replace("£", "")
    assert [m.subject for m in mailoutbox] == [f"Your parking permit {number}"]

    # returning to the payment page's return address again changes nothing
    page.goto(base + f"/parking/apply/paid/{permit.application.reference}")
    expect(page.locator("#permit-number")).to_have_text(number)
    assert Permit.objects.count() == 1

    # the enforcement API sees the permit, and nothing about the person
    _, key = create_client("Handhelds", ["enforcement"])
    answer = page.request.get(
        f"{base}/api/v1/parking/check?vrm={person['vrm'].lower()}&zone={person['zone']}",
        headers={"Authorization": f"Bearer {key}"},
    )
    assert answer.status == 200
    assert answer.json() == {
        "vrm": person["vrm"],
        "zone": person["zone"],
        "allowed": True,
        "permit_type": "resident",
        "valid_until": permit.ends_on.isoformat(),
    }


def test_on_a_phone_a_resident_pays_again_after_a_declined_card_then_renews(
    borough,
    phone_page: Page,
    live_server,
    mailoutbox,
):
    """The same application 320 px wide, each page checked with axe and for sideways scrolling
    and photographed; the first card is declined and the application kept; later, with renewal
    open, the resident renews the permit."""
    from borough.parking.demo import permit_ready_people
    from borough.parking.models import Permit, PermitApplication
    from borough.places.models import Property

    page = phone_page

    def look(page: Page) -> None:
        assert_accessible(page)
        fits_width(page)
        title = _heading(page).first.inner_text()
        screenshot(page, "apply-" + re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:40])

    person = permit_ready_people(borough.synth.path, limit=20)[1]
    home = Property.objects.get(pk=int(person["current_uprn"]))
    base = live_server.url
    apply_for_a_permit(page, base, person, home, card=VISA_DECLINED, look=look)
    expect(_heading(page)).to_have_text("Your payment was not taken")
    look(page)
    page.get_by_role("button", name="Pay again").click()
    pay_by_card(page)
    expect(page.get_by_role("heading", name="Permit issued")).to_be_visible()
    look(page)
    permit = Permit.objects.get()
    assert PermitApplication.objects.count() == 1

    # six weeks before it ends, renewal opens: the permit's page offers it
    today = dt.date.today()
    Permit.objects.filter(pk=permit.pk).update(
        starts_on=today - dt.timedelta(days=330), ends_on=today + dt.timedelta(days=30)
    )
    page.goto(f"{base}/parking/permits/{permit.number}")
    page.get_by_role("link", name="Renew your permit").click()
    expect(_heading(page)).to_have_text(f"Renew permit {permit.number}")
    look(page)
    page.get_by_role("button", name="Continue").click()
    expect(_heading(page)).to_have_text("What is your name and date of birth?")
    expect(page.get_by_label("Last name")).to_have_value(person["surname"])
    page.get_by_role("button", name="Continue").click()
    expect(_heading(page)).to_have_text("How long do you want to renew it for?")
    look(page)
    page.get_by_role("radio", name=re.compile(r"^12 months: £")).check()
    page.get_by_role("button", name="Continue").click()
    expect(_heading(page)).to_have_text("Check your renewal")
    look(page)
    page.get_by_role("button", name=re.compile(r"^Pay £")).click()
    pay_by_card(page)
    expect(page.get_by_role("heading", name="Permit renewed")).to_be_visible()
    look(page)
    renewal = Permit.objects.get(status=Permit.Status.SCHEDULED)
    assert renewal.starts_on == today + dt.timedelta(days=31)
