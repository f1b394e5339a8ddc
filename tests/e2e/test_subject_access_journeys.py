"""Subject access in Chromium: a resident gets a copy of their data, downloads the JSON, reads
it on the site and says a record is wrong; a data protection officer records a subject access
request, prepares the copy and completes it. Each journey runs at 1280 px, and its pages are
checked again at 320 px (fits, axe, a screenshot)."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e._staff import check_page, sign_in_as
from tests.e2e.conftest import _no_csp_violations, watch_csp_violations
from tests.e2e.test_parking_journeys import _sign_in


@pytest.fixture
def world(transactional_db, settings, tmp_path):
    settings.DATA_DIR = tmp_path
    return tmp_path


@pytest.fixture
def new_page(browser):
    contexts = []

    def make() -> Page:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.violations = watch_csp_violations(page)
        contexts.append((context, page))
        return page

    yield make
    for context, page in contexts:
        context.close()
        _no_csp_violations(page.violations)


def _at_both_widths(page: Page, name: str) -> None:
    check_page(page, f"subject-access-{name}")
    page.set_viewport_size({"width": 320, "height": 800})
    check_page(page, f"subject-access-{name}")
    page.set_viewport_size({"width": 1280, "height": 900})


def _heading(page: Page):
    return page.get_by_role("heading", level=1)


def test_a_resident_takes_their_data_and_says_a_record_is_wrong(live_server, world, new_page):
    from borough.transparency.export_models import RectificationRequest
    from borough.transparency.tests.subject_access_world import (
        ACCOUNT_NUMBERS,
        dataset,
        person,
        write_index,
    )

    page = new_page()
    user = _sign_in(page, live_server.url, "sam.ashworth@example.org")
    alice = person(1, user, "R-ALICE1", "Ashworth", dataset())
    write_index(world, [alice])

    page.goto(live_server.url + "/account")
    page.get_by_role("link", name="Get a copy of everything we hold about you").click()
    expect(_heading(page)).to_have_text("Your data")
    _at_both_widths(page, "your-data")
    page.get_by_role("button", name="Get a copy of your data").click()
    expect(_heading(page)).to_have_text("A copy of your data")
    expect(page.locator("main")).to_contain_text("Your copy is ready")
    _at_both_widths(page, "ready")

    with page.expect_download() as download:
        page.get_by_role("link", name="Download it as a JSON file").click()
    document = json.loads(open(download.value.path(), encoding="utf-8").read())
    assert document["schema"] == "borough-subject-access"
    assert ACCOUNT_NUMBERS["R-ALICE1"] not in json.dumps(document)

    page.get_by_role("link", name="Read your data on this site").click()
    expect(_heading(page)).to_have_text("Your data")
    main = page.locator("main")
    expect(main).to_contain_text("Council tax accounts: record CT-1")
    expect(main).to_contain_text("**-**-13 ****6819")
    _at_both_widths(page, "readable")

    page.get_by_role(
        "link", name=re.compile(r"^This is wrong\W+Council tax accounts: record CT-1$")
    ).click()
    expect(_heading(page)).to_have_text("Tell us a record is wrong")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("alert")).to_contain_text("Enter what is wrong with this record")
    _at_both_widths(page, "wrong-error")
    page.get_by_label("What is wrong").fill("My surname is spelt wrongly")
    page.get_by_label("What it should be").fill("Ashworth-Hale")
    page.get_by_role("button", name="Send").click()
    expect(_heading(page)).to_have_text("Your data")
    expect(main).to_contain_text("We have sent your correction to Revenues and Benefits")
    expect(main).to_contain_text("Waiting for the team that holds the record")
    _at_both_widths(page, "sent")
    assert RectificationRequest.objects.get().area == "residents"


def test_an_officer_records_and_completes_a_subject_access_request(live_server, world, new_page):
    from borough.core.models import User
    from borough.transparency.tests.subject_access_world import dataset, person, write_index

    resident = User.objects.create_resident("sam.ashworth@example.org")
    write_index(world, [person(1, resident, "R-ALICE1", "Ashworth", dataset())])
    page = new_page()
    sign_in_as(page, live_server.url, "dpo", "Data protection officer", "Dana Okafor")

    page.goto(live_server.url + "/staff/transparency/")
    page.get_by_role("link", name="Subject access requests").click()
    expect(_heading(page)).to_have_text("Subject access requests")
    page.get_by_role("link", name="Record a request").click()
    page.get_by_role("button", name="Record the request").click()
    expect(page.get_by_role("alert")).to_contain_text("Enter the name the request gives")
    _at_both_widths(page, "sar-new-error")
    page.get_by_label("Requester's name").fill("Sam Ashworth")
    page.get_by_label("Where to send the answer").fill("sam.ashworth@example.org")
    page.get_by_label("Day").fill("2")
    page.get_by_label("Month").fill("12")
    page.get_by_label("Year").fill("2026")
    page.get_by_label("Identity documents they sent or showed").check()
    page.get_by_label("Resident ID").fill("R-ALICE1")
    page.get_by_role("button", name="Record the request").click()
    expect(_heading(page)).to_contain_text("Request SAR-")
    expect(page.locator("main")).to_contain_text("2 January 2027")
    _at_both_widths(page, "sar-detail")

    page.get_by_role("button", name="Prepare a copy of their data").click()
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the PDF document").click()
    assert open(download.value.path(), "rb").read(5) == b"%PDF-"
    page.get_by_role("button", name="Mark as complete").click()
    expect(page.locator("main")).to_contain_text("Complete")
    page.get_by_role("link", name="Back to the requests").click()
    expect(page.locator("main")).to_contain_text("There are no open requests.")
    page.get_by_role("link", name="Show complete requests too").click()
    _at_both_widths(page, "sar-queue")
