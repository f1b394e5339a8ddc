"""A civil enforcement officer checks vehicles on the phone page, in Chromium, at desktop width
and at 320 px: signs in, chooses the zone from the council's zones, types a registration and
presses Check; the answer is large and plain ("Allowed" or "No permit"), the date in words; the
next check keeps the zone."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from borough.core.dates import date_in_words
from tests.e2e._parking import (
    contrast,
    fits_width,
    heading,
    make_home,
    make_officer,
    make_permit,
    make_zone,
    screenshot,
    sign_in_officer,
    sized_page,  # noqa: F401 - a fixture
)
from tests.e2e.test_foundation_journeys import assert_accessible


@pytest.fixture
def street(transactional_db):
    from borough.parking import enforcement

    enforcement.forget_active_zones()
    albion, _ = make_zone("A", "Albion"), make_zone("B", "Bridge Street")
    permit = make_permit(albion, make_home(), vrm="AB12CDE")
    yield permit
    enforcement.forget_active_zones()


def test_an_officer_checks_registrations_in_a_zone_on_a_phone(
    live_server,
    street,
    sized_page: Page,  # noqa: F811
):
    from borough.transparency.queries import events

    page = sized_page
    make_officer("sam", "enforcement-officer")
    sign_in_officer(page, live_server.url, "sam")
    page.get_by_role("link", name="Enforcement").first.click()
    page.get_by_role("link", name="Check a vehicle").click()
    expect(heading(page)).to_have_text("Check a vehicle")

    zone = page.get_by_label("Zone")
    assert zone.locator("option").all_inner_texts() == [
        "Choose a zone",
        "A: Albion",
        "B: Bridge Street",
    ]
    zone.select_option(label="A: Albion")
    page.get_by_label("Registration number").fill("ab12cde")
    page.get_by_role("button", name="Check").click()

    answer = page.locator("#answer")
    expect(answer.get_by_role("heading")).to_have_text("Allowed")
    expect(answer).to_contain_text(
        f"AB12 CDE in zone A: resident permit until {date_in_words(street.ends_on)}"
    )
    allowed_size = answer.get_by_role("heading").evaluate("e => getComputedStyle(e).fontSize")
    assert_accessible(page)
    fits_width(page)
    screenshot(page, "enforcement-allowed")

    # the next check: the zone is still chosen, the registration box is empty
    expect(page.get_by_label("Zone")).to_have_value("A")
    expect(page.get_by_label("Registration number")).to_have_value("")
    page.get_by_label("Registration number").fill("CD34 EFG")
    page.get_by_role("button", name="Check").click()
    expect(answer.get_by_role("heading")).to_have_text("No permit")
    expect(answer).to_contain_text("CD34 EFG is not allowed to park in zone A now")
    # as large and as strong as "Allowed": not a small banner, and not colour alone
    refused_size = answer.get_by_role("heading").evaluate("e => getComputedStyle(e).fontSize")
    assert refused_size == allowed_size
    assert contrast(page, "#answer") >= 4.5
    assert_accessible(page)
    fits_width(page)
    screenshot(page, "enforcement-no-permit")

    # a page opened later in the same session offers the zone again
    page.goto(live_server.url + "/staff/enforcement/check")
    expect(page.get_by_label("Zone")).to_have_value("A")
    page.get_by_role("button", name="Check").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Enter your vehicle registration number"
    )
    assert events().filter(purpose="parking_enforcement_check").count() == 2
