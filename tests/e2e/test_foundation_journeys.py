"""The first journeys a council's team tries: the start page, finding an address, staff sign-in."""

import re
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from borough.places.services import import_gazetteer

AXE = Axe()
SAMPLE_GAZETTEER = Path(__file__).resolve().parents[2] / "borough/places/tests/data/gazetteer.csv"
WCAG_AA = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]}
}


#: GOV.UK Frontend puts ``aria-expanded`` on a radio that reveals a question. ARIA does not list
#: it for radios, so axe reports it; the Design System keeps it on purpose, because screen readers
#: announce it (a documented known issue: alphagov/govuk-frontend#979). Only that attribute on
#: those radios is let through; every other rule still runs on them, and the attribute anywhere
#: else is still a failure.
CONDITIONAL_RADIOS = ".govuk-radios__input[aria-controls^='conditional-']"


def assert_accessible(page: Page, options: dict = WCAG_AA) -> None:
    """axe finds nothing on the page with ``options`` (WCAG 2.2 AA by default)."""
    results = AXE.run(page, options={**options, "rules": {"aria-allowed-attr": {"enabled": False}}})
    assert results.violations_count == 0, results.generate_report()
    aria = AXE.run(
        page,
        context={"exclude": [[CONDITIONAL_RADIOS]]},
        options={"runOnly": {"type": "rule", "values": ["aria-allowed-attr"]}},
    )
    assert aria.violations_count == 0, aria.generate_report()


def check_accessible(page: Page) -> None:
    """The axe check, where the page runs scripts (axe is a script): pages of ``any_page``
    without JavaScript are not checked."""
    if getattr(page, "javascript", True):
        assert_accessible(page)


@pytest.fixture
def street(transactional_db):
    """The places app's sample gazetteer: houses and a block of flats at E21 3AB."""
    result = import_gazetteer(SAMPLE_GAZETTEER, "llpg")
    assert result.ok, result.summary()


def test_resident_finds_their_address(live_server, street, any_page):
    page = any_page
    page.goto(live_server.url + "/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Northmere Council services")
    if page.javascript:
        assert_accessible(page)

    # Not a service on the start page (a step of the services' journeys): its own address.
    expect(page.get_by_role("link", name="Find your address")).to_have_count(0)
    page.goto(live_server.url + "/addresses")
    page.get_by_label("Postcode").fill("e21 3ab")
    page.locator("main form").get_by_role("button").click()
    expect(page.locator("main")).to_contain_text("E21 3AB")
    if page.javascript:
        assert_accessible(page)

    page.get_by_label(re.compile(r"Flat 10, Kestrel House", re.I)).check()
    page.locator("main form").get_by_role("button").click()
    expect(page.locator("main")).to_contain_text("100021000010")
    expect(page.locator("main")).to_contain_text("Albion")
    if page.javascript:
        assert_accessible(page)


def test_a_bad_postcode_gets_an_error_summary_that_links_to_the_field(live_server, street, page):
    page.goto(live_server.url + "/addresses")
    page.get_by_label("Postcode").fill("not a postcode")
    page.locator("main form").get_by_role("button").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Enter a real postcode")
    assert page.title().startswith("Error:")
    assert_accessible(page)
    summary.get_by_role("link").first.click()
    expect(page.get_by_label("Postcode")).to_be_focused()


def test_staff_member_signs_in_and_sees_their_area(live_server, page, transactional_db):
    from borough.core.services import create_staff_account
    from borough.core.testing import give_device
    from tests.e2e.test_resident_index_journeys import enter_authenticator_code

    user, _ = create_staff_account("pat", ["parking-officer"], password="a long demo password 1")
    give_device(user)
    page.goto(live_server.url + "/")
    page.get_by_role("link", name="Staff sign in").click()
    assert_accessible(page)
    page.get_by_label("Username").fill("pat")
    page.get_by_role("textbox", name="Password").fill("a long demo password 1")
    page.locator("main form").get_by_role("button", name="Sign in").click()
    assert_accessible(page)
    enter_authenticator_code(page, "pat")
    expect(page.get_by_role("heading", level=1)).to_have_text("Staff home")
    expect(page.get_by_role("link", name="Parking")).to_be_visible()
    expect(page.get_by_role("link", name="Housing")).to_have_count(0)
    assert_accessible(page)


def test_feedback_from_the_phase_banner(live_server, page, transactional_db):
    from borough.core.models import Feedback

    page.goto(live_server.url + "/privacy")
    page.get_by_role("link", name="give your feedback").click()
    assert_accessible(page)
    page.get_by_label("Satisfied", exact=True).check()
    page.get_by_label("How could we improve this service?").fill("Clear pages")
    page.get_by_role("button", name="Send feedback").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you for your feedback")
    feedback = Feedback.objects.get()
    assert (feedback.satisfaction, feedback.page) == (4, "/privacy")


def test_resident_signs_in_with_an_emailed_link(live_server, page, transactional_db, mailoutbox):
    page.goto(live_server.url + "/")
    page.get_by_role("link", name="Sign in", exact=True).first.click()
    assert_accessible(page)
    page.get_by_label("Email address").fill("amira@example.com")
    page.get_by_role("button", name="Email me a sign-in link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    assert_accessible(page)

    link = re.search(r"http://\S+/sign-in/link\?\S+", mailoutbox[-1].body).group(0)
    page.goto(link)
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your account")
    expect(page.locator("main")).to_contain_text("amira@example.com")
    assert_accessible(page)

    page.goto(live_server.url + "/staff/")
    expect(page.get_by_role("heading", level=1)).to_have_text("You cannot open this page")
