"""A resident's account page in the browser, at desktop width and at 320 px: their permits, their
rent account and their email address, which they change by confirming a link sent to the new
address."""

import datetime as dt
import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone
from playwright.sync_api import expect

from borough.core.models import EmailChange
from borough.housing.models import RentAccount, Tenancy, Tenant
from borough.housing.services import post_entry
from borough.parking.models import Permit, PermitApplication, Zone
from borough.parking.services import issue_permit
from borough.places.models import Property
from borough.transparency.queries import events_for_resident

AXE = Axe()
WCAG_AA = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]}
}
SQUARE = {
    "type": "Polygon",
    "coordinates": [[[-0.1, 51.5], [-0.09, 51.5], [-0.09, 51.51], [-0.1, 51.51], [-0.1, 51.5]]],
}


def assert_accessible(page) -> None:
    results = AXE.run(page, options=WCAG_AA)
    assert results.violations_count == 0, results.generate_report()


@pytest.fixture
def tenant_with_a_permit(transactional_db, resident):
    """A resident with a parking permit and a rent account in arrears."""
    home = Property.objects.create(
        uprn=100090000001,
        street="ALBION ROAD",
        building_number="1",
        postcode="E21 0AA",
        latitude=51.505,
        longitude=-0.095,
        is_residential=True,
    )
    zone = Zone.objects.create(
        code="A",
        name="Albion",
        hours="Mon-Fri 8.30am-6.30pm",
        boundary=SQUARE,
        min_lon=-0.1,
        min_lat=51.5,
        max_lon=-0.09,
        max_lat=51.51,
    )
    today = timezone.localdate()
    application = PermitApplication.objects.create(
        journey="j-account",
        applicant=resident,
        permit_type="resident",
        property=home,
        zone=zone,
        first_name="Ada",
        surname="Lovelace",
        date_of_birth=dt.date(1980, 3, 27),
        vrm="AB12CDE",
        vehicle_found=True,
        duration_months=12,
        price_pence=15000,
        resident_id="R1",
        verification_decision="verified",
    )
    permit = issue_permit(
        application.pk,
        verified=True,
        unverified_policy="issue_then_proof",
        proof_days=30,
        max_per_household=2,
        today=today,
    ).permit
    tenancy = Tenancy.objects.create(
        reference="T0001", property=home, tenure="secure", start_date=dt.date(2020, 4, 6)
    )
    Tenant.objects.create(
        tenancy=tenancy,
        first_name="Ada",
        surname="Lovelace",
        resident_id="R1",
        lead=True,
        account=resident,
    )
    account = RentAccount.objects.create(
        tenancy=tenancy, payment_reference="12345678I", opened_on=dt.date(2020, 4, 6)
    )
    post_entry(
        account,
        kind="charge",
        type_code="DBR",
        amount_pence=12550,
        posted_on=today - dt.timedelta(days=3),
        description="Rent",
        source_key="test:charge:1",
    )
    return {"permit": permit, "account": account}


def test_a_resident_sees_their_permit_and_rent_account_and_changes_their_email(
    live_server, sized_page, sign_in_as, resident, tenant_with_a_permit, mailoutbox
):
    page = sign_in_as(sized_page, resident)
    permit = tenant_with_a_permit["permit"]
    page.goto(live_server.url + "/")
    menu = page.get_by_role("button", name="Menu")
    if menu.is_visible():  # at 320 px the service navigation folds into a menu
        menu.click()
    page.get_by_role("link", name="Your account").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your account")
    main = page.locator("main")
    expect(main).to_contain_text("resident@example.com")
    expect(
        page.get_by_role("link", name=f"Permit {permit.number}: AB12 CDE, zone A")
    ).to_be_visible()
    valid_until = f"{permit.ends_on.day} {permit.ends_on:%B %Y}"
    expect(main).to_contain_text(f"Valid until {valid_until}")
    expect(page.get_by_role("link", name="Rent account 12345678I")).to_be_visible()
    expect(main).to_contain_text("You owe £125.50")
    expect(main).to_contain_text("In arrears")
    assert_accessible(page)
    # Reading the rent account for the page is in the tenant's data-use log.
    assert events_for_resident("R1").filter(reference="12345678I").exists()

    page.get_by_role("link", name="Change email address").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("What is your new email address?")
    assert_accessible(page)
    # A mistake: its own message, and what was typed is kept.
    page.get_by_label("What is your new email address?").fill("ada at example")
    page.get_by_role("button", name="Send the link").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Enter an email address in the correct format, like name@example.com"
    )
    expect(page.get_by_label("What is your new email address?")).to_have_value("ada at example")
    assert page.title().startswith("Error: ")
    assert_accessible(page)

    page.get_by_label("What is your new email address?").fill("ada.new@example.org")
    page.get_by_role("button", name="Send the link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    expect(page.locator("main")).to_contain_text("ada.new@example.org")
    assert [m.to for m in mailoutbox] == [["ada.new@example.org"]]
    link = re.search(r"http://\S+/account/email/confirm\?token=\S+", mailoutbox[0].body).group(0)

    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm your new email address")
    assert_accessible(page)
    page.get_by_role("button", name="Confirm and change my email address").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your account")
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "Your email address is now ada.new@example.org"
    )
    expect(page.locator("main")).to_contain_text("Email address changed")
    assert_accessible(page)
    assert EmailChange.objects.get().to_email == "ada.new@example.org"
    assert mailoutbox[1].to == ["resident@example.com"]
    # Nothing on the page is wider than the screen.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_resident_with_nothing_yet_is_told_how_to_start(
    live_server, sized_page, sign_in_as, resident
):
    page = sign_in_as(sized_page, resident)
    page.goto(live_server.url + "/account")
    expect(page.locator("main")).to_contain_text("You have no parking permits.")
    expect(page.get_by_role("link", name="Apply for a parking permit")).to_be_visible()
    expect(page.get_by_role("link", name="Find your rent account")).to_be_visible()
    assert Permit.objects.count() == 0
