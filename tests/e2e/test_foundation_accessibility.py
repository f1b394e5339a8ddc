"""Across the areas: every piece of a page sits in a landmark (axe's ``region`` rule: the back
link was outside them on 47 pages), and the pages meet WCAG 2.2 AA as axe checks it."""

from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from borough.places.services import import_gazetteer
from tests.e2e.test_foundation_journeys import assert_accessible

AXE = Axe()
REGION = {"runOnly": {"type": "rule", "values": ["region"]}}
WCAG_AA = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]}
}
SAMPLE_GAZETTEER = Path(__file__).resolve().parents[2] / "borough/places/tests/data/gazetteer.csv"

# (area, who opens it, the page, a heading it shows): a sample of pages with a back link and
# without, a resident's and staff's, across the areas.
PAGES = [
    ("core", None, "/", "Northmere Council services"),
    ("core", None, "/accessibility", "Accessibility statement"),
    ("places", None, "/addresses/choose?postcode=E21+3AB", None),
    ("parking", "resident", "/parking/apply", "What is your postcode?"),
    ("housing", "resident", "/rent/find", None),
    ("core", "resident", "/account", "Your account"),
    ("residents", "Resident data officer", "/staff/residents/find", "Find a resident"),
    ("housing", "Finance officer", "/staff/finance/statements", None),
    ("transparency", "Data protection officer", "/staff/data-use", "Data-use log"),
]


def assert_no_violations(page, options) -> None:
    assert_accessible(page, options)


@pytest.fixture
def street(transactional_db):
    result = import_gazetteer(SAMPLE_GAZETTEER, "llpg")
    assert result.ok, result.summary()


@pytest.mark.parametrize(
    ("area", "who", "path", "heading"), PAGES, ids=[p[0] + ":" + p[2] for p in PAGES]
)
def test_everything_on_the_page_is_in_a_landmark(
    live_server, street, sized_page, sign_in_as, make_staff, resident, area, who, path, heading
):
    page = sized_page
    if who == "resident":
        sign_in_as(page, resident)
    elif who:
        sign_in_as(page, make_staff(who))
    page.goto(live_server.url + path)
    if heading:
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    assert_no_violations(page, REGION)
    assert_no_violations(page, WCAG_AA)


def test_the_back_link_is_in_a_navigation_landmark_before_the_main_content(
    live_server, street, page
):
    page.goto(live_server.url + "/addresses/choose?postcode=E21+3AB")
    back = page.get_by_role("navigation", name="Back").get_by_role("link", name="Back")
    expect(back).to_be_visible()
    # "Skip to main content" still skips it: it comes before <main>.
    assert page.evaluate(
        "() => !!(document.querySelector('nav.borough-back-link').compareDocumentPosition("
        "document.querySelector('main')) & Node.DOCUMENT_POSITION_FOLLOWING)"
    )


def test_the_api_docs_page_says_its_language(live_server, page, transactional_db):
    page.goto(live_server.url + "/api/v1/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Borough API")
    assert page.evaluate("document.documentElement.lang") == "en-GB"
    results = AXE.run(page, options={"runOnly": {"type": "rule", "values": ["html-has-lang"]}})
    assert results.violations_count == 0, results.generate_report()
