"""A tenant linking their online account to their rent account in Chromium, at desktop and at
phone width (320 px): finding the account, confirming who they are, finding their place taken by
another online account, asking for a code by post and entering it; and someone guessing a
tenant's date of birth until the account is locked.

The borough is the journeys' 300-resident synthetic borough, loaded and linked once for the
module (``load_and_link_borough``). Screenshots of each page go to ``BOROUGH_SCREENSHOTS`` when
it names a folder (for a person to look at; not committed).
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.test_foundation_journeys import check_accessible
from tests.e2e.test_parking_journeys import _sign_in
from tests.e2e.test_resident_index_journeys import (
    Borough,
    load_and_link_borough,
    restore_borough,
)

WIDTHS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 320, "height": 720}}


@pytest.fixture(scope="module")
def rent_borough(django_db_setup, django_db_blocker, tmp_path_factory) -> Borough:
    return load_and_link_borough("rent-linking", tmp_path_factory, django_db_blocker)


@pytest.fixture
def tenancy(rent_borough, transactional_db, settings, tmp_path):
    """A lead tenant of the synthetic borough's tenancies, with a rent account."""
    from borough.housing.tests.factories import born, lead_tenancy_row, tenancy_of
    from borough.residents.verification.service import HOLDER

    restore_borough(rent_borough, settings)
    settings.BOROUGH_LETTERS_DIR = str(tmp_path / "letters")
    made = tenancy_of(lead_tenancy_row(rent_borough.synth), email="tenant.on.record@example.org")
    yield {**made, "born": born(made["row"])}
    HOLDER.clear()


@pytest.fixture(params=list(WIDTHS), ids=list(WIDTHS))
def sized_page(request, browser):
    context = browser.new_context(viewport=WIDTHS[request.param])
    page = context.new_page()
    page.width_name = request.param
    page.javascript = True
    yield page
    context.close()


def _shot(page: Page, name: str) -> None:
    folder = os.environ.get("BOROUGH_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=f"{folder}/rent-{name}-{page.width_name}.png", full_page=True)


def _heading(page: Page):
    return page.get_by_role("heading", level=1)


def _find_and_confirm(page: Page, base: str, tenancy: dict, born: dt.date) -> None:
    page.goto(base + "/rent/find")
    expect(_heading(page)).to_have_text("Find your rent account")
    page.get_by_label("Rent payment reference").fill("1234 5678i")
    page.get_by_label("Postcode of your home").fill(tenancy["home"].postcode.lower())
    page.get_by_role("button", name="Continue").click()
    expect(_heading(page)).to_have_text("Confirm you are the tenant")
    page.get_by_label("First name").fill(tenancy["row"]["FORENAME"])
    page.get_by_label("Last name").fill(tenancy["row"]["SURNAME"])
    page.get_by_label("Day").fill(str(born.day))
    page.get_by_label("Month").fill(str(born.month))
    page.get_by_label("Year").fill(str(born.year))
    page.get_by_role("button", name="Continue").click()


def test_a_tenant_whose_place_is_taken_gets_a_code_by_post_and_sees_the_account(
    tenancy, sized_page: Page, live_server, mailoutbox
):
    from borough.core.letters import sent_letters

    page, base = sized_page, live_server.url
    # someone else's account was linked first (say, an old email address of the tenant's)
    _sign_in(page, base, "old-address@example.org")
    _find_and_confirm(page, base, tenancy, tenancy["born"])
    expect(_heading(page)).to_have_text("Your rent account")
    page.context.clear_cookies()

    _sign_in(page, base, "new-address@example.org")
    _find_and_confirm(page, base, tenancy, tenancy["born"])
    expect(_heading(page)).to_have_text("Your tenancy is already linked to another online account")
    check_accessible(page)
    _shot(page, "taken")
    page.get_by_role("button", name="Post me a code").click()
    expect(_heading(page)).to_have_text("We are posting you a code")
    expect(page.locator("main")).to_contain_text(tenancy["home"].postcode)
    check_accessible(page)
    _shot(page, "letter-sent")

    [letter] = sent_letters()
    code = re.search(r"code is: ([0-9A-Z-]{11})", letter.read_text()).group(1)
    page.get_by_role("link", name="enter the code from the letter").click()
    expect(_heading(page)).to_have_text("Enter the code from your letter")
    page.get_by_label("Code from the letter").fill("WRONG-CODE1")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("alert")).to_contain_text("That code is not right")
    check_accessible(page)
    _shot(page, "code-error")
    page.get_by_label("Code from the letter").fill(code.lower())
    page.get_by_role("button", name="Continue").click()
    expect(_heading(page)).to_have_text("Your rent account")
    _shot(page, "account")
    tenancy["tenant"].refresh_from_db()
    assert tenancy["tenant"].account.email == "new-address@example.org"
    subjects = {m.to[0]: m.subject for m in mailoutbox}
    assert subjects["old-address@example.org"] == (
        "Your online account no longer sees your rent account"
    )


def test_someone_guessing_the_date_of_birth_is_locked_out_and_the_tenant_told(
    tenancy, any_page: Page, live_server, mailoutbox
):
    from borough.residents.verification.attempts import LIMITS

    page, base = any_page, live_server.url
    page.width_name = "desktop-js" if page.javascript else "desktop-nojs"
    _sign_in(page, base, "guesser@example.org")
    for n in range(LIMITS["rent-account"].failures):
        _find_and_confirm(page, base, tenancy, tenancy["born"] - dt.timedelta(days=n + 1))
    expect(_heading(page)).to_have_text("You have tried too many times")
    expect(page.locator("main")).to_contain_text("call the housing office")
    check_accessible(page)
    _shot(page, "locked")
    assert any(m.to == ["tenant.on.record@example.org"] for m in mailoutbox)
    assert tenancy["tenant"].__class__.objects.filter(account__isnull=False).count() == 0
