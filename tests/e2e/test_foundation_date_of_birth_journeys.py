"""The "who you are" question (core's ``NameAndDateOfBirthForm``) as a resident meets it in the
parking journey, at desktop width and at 320 px: the browser may fill in their own name and date
of birth (``autocomplete``), a date with a part missing gets its own message, and what they
typed is kept."""

import io
import json
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from borough.parking.zones import load_zones
from borough.places.services import import_gazetteer

AXE = Axe()
WCAG_AA = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]}
}
SAMPLE_GAZETTEER = Path(__file__).resolve().parents[2] / "borough/places/tests/data/gazetteer.csv"
RING = [[-0.06, 51.539], [-0.05, 51.539], [-0.05, 51.541], [-0.06, 51.541], [-0.06, 51.539]]
# A zone around Albion Road, E21 3AB, in the sample gazetteer.
ALBION = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "properties": {"code": "A", "name": "Albion", "hours": "Mon-Fri 8.30am-6.30pm"},
            "geometry": {
                "type": "Polygon",
                "coordinates": [RING],
            },
        }
    ],
}


@pytest.fixture
def albion_road(transactional_db):
    assert import_gazetteer(SAMPLE_GAZETTEER, "llpg").ok
    load_zones(io.BytesIO(json.dumps(ALBION).encode()))


def test_the_resident_types_their_name_and_date_of_birth_and_the_browser_may_fill_them(
    live_server, albion_road, sized_page, sign_in_as, resident
):
    page = sign_in_as(sized_page, resident)
    page.goto(live_server.url + "/parking/apply")
    page.get_by_label("Postcode").fill("e21 3ab")
    page.get_by_role("button", name="Find address").click()
    chooser = page.get_by_label("Select your address")
    if chooser.count() == 1 and chooser.evaluate("e => e.tagName") == "SELECT":
        chooser.select_option(label="2 Albion Road, Northmere, London")
    else:
        page.get_by_label("2 Albion Road, Northmere, London", exact=True).check()
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your address is in zone A")
    page.get_by_role("button", name="Continue").click()

    expect(page.get_by_role("heading", level=1)).to_have_text(
        "What is your name and date of birth?"
    )
    first, last = page.get_by_label("First name"), page.get_by_label("Last name")
    day, month, year = (
        page.get_by_label("Day"),
        page.get_by_label("Month"),
        page.get_by_label("Year"),
    )
    expect(first).to_have_attribute("autocomplete", "given-name")
    expect(last).to_have_attribute("autocomplete", "family-name")
    expect(day).to_have_attribute("autocomplete", "bday-day")
    expect(month).to_have_attribute("autocomplete", "bday-month")
    expect(year).to_have_attribute("autocomplete", "bday-year")

    first.fill("Ada")
    last.fill("Lovelace")
    day.fill("27")
    month.fill("3")
    page.get_by_role("button", name="Continue").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Date of birth must include a year"
    )
    expect(page.get_by_label("First name")).to_have_value("Ada")
    expect(page.get_by_label("Last name")).to_have_value("Lovelace")
    expect(page.get_by_label("Day")).to_have_value("27")
    expect(page.get_by_label("Month")).to_have_value("3")
    expect(page.get_by_label("Year")).to_have_class(
        "govuk-input govuk-date-input__input govuk-input--width-4 govuk-input--error"
    )
    results = AXE.run(page, options=WCAG_AA)
    assert results.violations_count == 0, results.generate_report()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
