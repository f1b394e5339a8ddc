"""A parking officer's back office in Chromium, at desktop width and at 320 px: signs in, opens
an application waiting for them and issues the permit with a reason; finds a permit by its
registration, accepts the proof sent for it, then cancels it with a reason; each decision says
what happened."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e._parking import (
    fits_width,
    heading,
    make_application,
    make_home,
    make_officer,
    make_permit,
    make_zone,
    screenshot,
    sign_in_officer,
    sized_page,  # noqa: F401 - a fixture
)
from tests.e2e.test_foundation_journeys import assert_accessible

# ruff: noqa: F811 - the imported ``sized_page`` fixture is taken as an argument by name


@pytest.fixture
def back_office(transactional_db):
    from borough.parking.models import PermitApplication

    zone = make_zone("A", "Albion")
    home, other = make_home(), make_home(100090000002)
    waiting = make_application(zone, home, vrm="AB12CDE", email="ada@example.org")
    PermitApplication.objects.filter(pk=waiting.pk).update(
        status=PermitApplication.Status.NEEDS_OFFICER,
        decision_reason="The council's records do not know the applicant.",
    )
    proof_needed = make_permit(zone, other, vrm="CD34EFG", email="cy@example.org", verified=False)
    make_officer("pat", "parking-officer")
    return {"waiting": waiting, "proof_needed": proof_needed}


def _look(page: Page, name: str) -> None:
    assert_accessible(page)
    fits_width(page)
    screenshot(page, name)


def test_an_officer_issues_a_waiting_application_and_manages_a_permit(
    live_server, back_office, sized_page: Page
):
    from borough.parking.models import Permit, PermitApplication

    page = sized_page
    sign_in_officer(page, live_server.url, "pat")
    page.get_by_role("link", name="Parking").first.click()
    page.get_by_role("link", name="Applications for an officer").click()
    expect(heading(page)).to_have_text("Permit applications for an officer")
    _look(page, "staff-applications")

    waiting = back_office["waiting"]
    page.get_by_role("link", name=waiting.reference).click()
    expect(heading(page)).to_have_text(f"Application {waiting.reference}")
    expect(page.locator("main")).to_contain_text("born 27 March 1980")
    expect(page.locator("main")).to_contain_text("AB12 CDE")
    # the reason is required: pressing the button without it says so and keeps the choice
    page.get_by_label("Issue the permit").check()
    page.get_by_role("button", name="Save decision").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Enter the reason for your decision"
    )
    expect(page.get_by_label("Issue the permit")).to_be_checked()
    page.get_by_label("Reason").fill("Tenancy agreement seen at the counter.")
    page.get_by_role("button", name="Save decision").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Permit issued")
    assert PermitApplication.objects.get(pk=waiting.pk).status == "issued"
    expect(page.locator("main")).to_contain_text("Sam Okafor")  # who decided, by name
    expect(page.locator("main")).to_contain_text("Reason for the decision")
    _look(page, "staff-application-decided")

    page.goto(live_server.url + "/staff/parking/permits")
    page.get_by_label("Registration, permit number, postcode or street").fill("cd34 efg")
    page.get_by_role("button", name="Search").click()
    proof_needed = back_office["proof_needed"]
    expect(page.get_by_role("heading", name="1 permit found")).to_be_visible()
    expect(page.locator("main table")).to_contain_text("CD34 EFG")
    _look(page, "staff-permit-search")
    page.get_by_role("link", name=proof_needed.number).click()
    page.get_by_role("button", name="Accept proof: the details are confirmed").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Proof accepted")
    assert Permit.objects.get(pk=proof_needed.pk).status == Permit.Status.ACTIVE

    page.get_by_label("Why is the permit being cancelled?").fill("Holder moved out of the borough")
    page.get_by_role("button", name="Cancel permit and refund").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        f"Permit {proof_needed.number} cancelled"
    )
    main = page.locator("main")
    expect(main).to_contain_text("Cancelled on")
    expect(main).to_contain_text("Holder moved out of the borough")
    expect(main).not_to_contain_text("Valid")
    _look(page, "staff-permit-cancelled")
