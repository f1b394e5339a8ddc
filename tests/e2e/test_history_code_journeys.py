"""A code by post before "How we used your data", in Chromium: a resident whose identity check
passed opens their timeline, is told we'll post a code to the address we hold for them, asks
for it, enters nothing, then a wrong code, then the code from the letter, and reads their
timeline. At 1280 px and at 375 px; every page is checked with axe, must fit the screen and is
saved as a screenshot (BOROUGH_SHOTS, default /tmp/shots/staff)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import Page, expect

from borough.transparency.tests.resident_world import LONDON
from borough.transparency.tests.resident_world import record as _record
from tests.e2e._staff import check_page
from tests.e2e.conftest import _no_csp_violations, watch_csp_violations

WIDTHS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 375, "height": 720}}


@pytest.fixture
def ada(transactional_db, settings, tmp_path):
    from borough.residents.models import SourceRecord
    from borough.residents.tests.test_record_views import _dataset
    from borough.transparency.tests.resident_world import add_council_tax

    settings.BOROUGH_LETTERS = "local"
    settings.BOROUGH_LETTERS_DIR = str(tmp_path / "letters")
    add_council_tax(with_texts=False)
    dataset, load = _dataset("electoral_register", "Electoral register")
    SourceRecord.objects.create(
        dataset=dataset,
        record_ref="ER-48",
        row_number=1,
        first_name="Ada",
        surname="Lovelace",
        address_given="48 Darwin Mansions, Roman Road, London",
        postcode="E2 0JB",
        content_hash="x",
        first_seen_load=load,
        last_seen_load=load,
        changed_at=load.started_at,
    )
    _record(dt.datetime(2026, 3, 10, 9, 5, tzinfo=LONDON), ["R-ADA"], reference="PP-2026-ADA001")


def _signed_in_and_checked(page: Page, base: str, email: str) -> None:
    """Sign in with an email link; the account's identity check then matched Ada's records (as
    a parking application's would), with no code entered yet."""
    from borough.core.models import User
    from borough.core.views import magic_link_path
    from borough.transparency.tests.resident_world import check

    page.goto(base + magic_link_path(email))
    page.locator("main form").get_by_role("button").click()
    expect(page.get_by_role("heading", level=1)).not_to_have_text("Sign in")
    made = check(User.objects.residents().get(email=email), "R-ADA", by_post=False)
    made.evidence = [{"unique_id": "electoral_register:ER-48"}]
    made.save(update_fields=["evidence"])


def _code_from_the_letter() -> str:
    from borough.core.letters import sent_letters

    text = sent_letters()[-1].read_text(encoding="utf-8")
    return re.search(r"Your one-time code is: (\w{5}-\w{5})", text).group(1)


@pytest.mark.parametrize("width", WIDTHS)
def test_a_resident_enters_the_code_we_posted_and_then_sees_their_timeline(
    live_server, ada, browser, width
):
    base = live_server.url
    context = browser.new_context(viewport=WIDTHS[width])
    page = context.new_page()
    violations = watch_csp_violations(page)
    try:
        _signed_in_and_checked(page, base, f"ada.{width}@example.org")
        page.goto(base + "/how-we-use-your-data/timeline")
        expect(page.get_by_role("heading", level=1)).to_have_text(
            "We need to post you a code first"
        )
        main = page.locator("main")
        expect(main).to_contain_text("we'll post a code to the address we hold for you")
        expect(main).to_contain_text("2 to 5 working days")
        expect(main).not_to_contain_text("PP-2026-ADA001")
        check_page(page, "history-code-ask")

        page.get_by_role("button", name="Post me a code").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Enter the code from your letter")
        page.get_by_role("button", name="Continue").click()
        expect(page.locator(".govuk-error-summary")).to_contain_text(
            "Enter the code from the letter"
        )
        check_page(page, "history-code-empty")
        page.get_by_label("Code from the letter").fill("AAAAA-AAAAA")
        page.get_by_role("button", name="Continue").click()
        expect(page.locator(".govuk-error-summary")).to_contain_text("That code is not right")
        check_page(page, "history-code-wrong")

        page.get_by_label("Code from the letter").fill(_code_from_the_letter())
        page.get_by_role("button", name="Continue").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("How we used your data")
        expect(page.locator("main")).to_contain_text("PP-2026-ADA001")
        check_page(page, "history-code-timeline")
        _no_csp_violations(violations)
    finally:
        context.close()
