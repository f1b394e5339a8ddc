"""How we used your data, in Chromium: a resident signs in with an email link, reads their
timeline, filters it (a wrong date first), opens an entry and says "I don't recognise this"; the
data protection officer answers in the staff site; the resident reads the answer. The forms are
filled at 1280 px and at 320 px in one journey; every page is checked with axe, must fit the
screen and is saved as a screenshot (BOROUGH_SHOTS, default /tmp/shots/staff)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import Page, expect

from borough.transparency.tests.resident_world import LONDON
from borough.transparency.tests.resident_world import record as _record
from tests.e2e._staff import PASSWORD, SHOTS, check_page
from tests.e2e.conftest import _no_csp_violations, watch_csp_violations

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 320, "height": 720}
EMAIL = "ada.resident@example.org"


@pytest.fixture
def log(transactional_db):
    from borough.core.services import create_staff_account
    from borough.transparency.tests.resident_world import (
        add_council_tax,
        record_housing_officer_view,
    )

    add_council_tax(with_texts=False)
    officer, _ = create_staff_account(
        "oquenby", ["housing-officer"], password=PASSWORD, full_name="Olivia Quenby"
    )
    for day in range(1, 12):  # more than a page of automatic checks
        _record(dt.datetime(2026, 3, day, 9, 5, tzinfo=LONDON), ["R-ADA"])
    record_housing_officer_view(officer, "R-ADA")
    _record(dt.datetime(2026, 4, 3, 9, 0, tzinfo=LONDON), ["R-BOB"], reference="PP-2026-BOBBOB")


def _sign_in_resident(page: Page, base: str):
    """Open an email sign-in link and continue; the account's passed identity check then links
    it to R-ADA (as a parking application's check would)."""
    from borough.core.models import User
    from borough.core.views import magic_link_path
    from borough.transparency.tests.resident_world import check

    page.goto(base + magic_link_path(EMAIL))
    page.locator("main form").get_by_role("button").click()
    expect(page.get_by_role("heading", level=1)).not_to_have_text("Sign in")
    user = User.objects.residents().get(email=EMAIL)
    check(user, "R-ADA")


def _sign_in_dpo(page: Page, base: str) -> None:
    from django.test import Client

    from borough.core.services import create_staff_account
    from borough.core.testing import sign_in_staff

    user, _ = create_staff_account(
        "dokafor", ["data-protection-officer"], password=PASSWORD, full_name="Dana Okafor"
    )
    client = Client()
    sign_in_staff(client, user)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": base}]
    )


def _no_names(page: Page) -> None:
    html = page.content()
    for words in ("Olivia", "Quenby", "oquenby", "Dana", "Okafor", "dokafor", "PP-2026-BOBBOB"):
        assert words not in html, words


def _look(page: Page, name: str) -> None:
    """At the page's width: fits the screen, passes axe, saved as a screenshot."""
    check_page(page, f"transparency-{name}")


def _filter(page: Page, since: tuple[str, str, str]) -> None:
    fieldset = page.get_by_role("group", name="From")
    for label, value in zip(("Day", "Month", "Year"), since, strict=True):
        fieldset.get_by_label(label).fill(value)
    page.get_by_role("button", name="Filter entries").click()


def _ask(page: Page, entry_name: str, question: str) -> None:
    page.get_by_role("link", name=entry_name).first.click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    _no_names(page)
    page.get_by_role("link", name="I don't recognise this").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("I don't recognise this")
    _look(page, "question")
    page.get_by_label("What do you think is wrong? (optional)").fill(question)
    page.get_by_role("button", name="Send to the data protection officer").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "We have sent your question"
    )
    expect(page.locator("main")).to_contain_text("Waiting for an answer")
    _look(page, "asked")


def _answer(page: Page, base: str, answer: str) -> None:
    page.goto(base + "/staff/data-use/questions")
    expect(page.get_by_role("heading", level=1)).to_have_text("Questioned entries")
    _look(page, "staff-queue")
    page.get_by_role("link", name=re.compile(r"^Q-\d+$")).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"Question Q-\d+"))
    page.get_by_role("button", name="Send the answer").click()  # blank first
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Enter your answer to the resident"
    )
    _look(page, "staff-answer-error")
    page.get_by_label("Your answer to the resident").fill(answer)
    page.get_by_role("button", name="Send the answer").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Questioned entries")


def test_a_resident_questions_an_entry_and_reads_the_data_protection_officers_answer(
    live_server, log, browser
):
    from borough.transparency.models import QuestionedEntry

    base = live_server.url
    resident_context = browser.new_context(viewport=DESKTOP)
    dpo_context = browser.new_context(viewport=DESKTOP)
    resident, dpo = resident_context.new_page(), dpo_context.new_page()
    violations, dpo_violations = watch_csp_violations(resident), watch_csp_violations(dpo)
    try:
        _sign_in_resident(resident, base)
        resident.goto(base + "/how-we-use-your-data")
        _look(resident, "start")
        resident.get_by_role("button", name="See how we used your data").click()
        expect(resident.get_by_role("heading", level=1)).to_have_text("How we used your data")
        main = resident.locator("main")
        expect(main).to_contain_text("12 entries (page 1 of 2)")
        expect(main).to_contain_text("Automatic check by the parking service")
        expect(main).to_contain_text("Housing team")
        expect(resident.get_by_role("link", name="Council tax accounts").first).to_be_visible()
        _no_names(resident)
        _look(resident, "timeline")

        # A wrong date: GOV.UK's error, what was typed kept; then the right one.
        _filter(resident, ("1", "", "2026"))
        expect(resident.locator(".govuk-error-summary")).to_contain_text(
            "The ‘from’ date must include a month"
        )
        assert resident.title().startswith("Error: ")
        expect(resident.get_by_role("group", name="From").get_by_label("Day")).to_have_value("1")
        _look(resident, "timeline-error")
        _filter(resident, ("1", "4", "2026"))
        expect(main).to_contain_text("1 entry")
        _ask(resident, "See this entry", "I have never asked the housing team for anything.")

        # At 320 px: filter by service, then the paged list, and a second question.
        resident.set_viewport_size(PHONE)
        resident.goto(base + "/how-we-use-your-data/timeline")
        resident.get_by_label("Service", exact=True).select_option(label="Parking")
        resident.get_by_role("button", name="Filter entries").click()
        expect(main).to_contain_text("11 entries (page 1 of 2)")
        _look(resident, "timeline-filtered")
        resident.get_by_role("link", name=re.compile("Next")).click()
        expect(main).to_contain_text("11 entries (page 2 of 2)")
        _ask(resident, "See this entry", "I did not apply for a permit in March.")
        assert QuestionedEntry.objects.filter(status="open").count() == 2

        # The data protection officer answers both: one at desktop width, one at 320 px.
        _sign_in_dpo(dpo, base)
        _answer(dpo, base, "An officer opened your rent account to deal with a repair.")
        dpo.set_viewport_size(PHONE)
        _answer(dpo, base, "This was the check for your permit application PP-2026-000001.")
        expect(dpo.locator("main")).to_contain_text("No questions are waiting.")
        assert QuestionedEntry.objects.filter(status="answered").count() == 2

        # The resident reads both answers, at 320 px and at desktop width; never a name.
        resident.goto(base + "/how-we-use-your-data/questions")
        expect(resident.locator("main")).to_contain_text("to deal with a repair")
        expect(resident.locator("main")).to_contain_text("for your permit application")
        _no_names(resident)
        _look(resident, "questions")
        resident.set_viewport_size(DESKTOP)
        resident.get_by_role("link", name=re.compile("Looked at your records")).click()
        expect(resident.locator("main")).to_contain_text("Our data protection officer answered on")
        expect(resident.locator("main")).to_contain_text("to deal with a repair")
        _no_names(resident)
        _look(resident, "answered")
        resident.get_by_role("link", name="Back to how we used your data").click()
        resident.get_by_role("link", name="Council tax accounts").first.click()
        expect(resident.get_by_role("heading", level=1)).to_have_text("Council tax accounts")
        expect(resident.locator("main")).to_contain_text("Not given")
        _look(resident, "dataset")
    finally:
        resident_context.close()
        dpo_context.close()
    _no_csp_violations(violations)
    _no_csp_violations(dpo_violations)
    assert SHOTS.exists()
