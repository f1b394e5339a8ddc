"""Helpers for the tenant's rent journeys in Chromium: a rent account whose tenant is signed in
(made directly, without the resident index: the linking journeys test that), pages at desktop
width and at 320 px, and screenshots for a person to look at."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.conftest import watch_csp_violations
from tests.e2e.test_foundation_journeys import assert_accessible
from tests.e2e.test_parking_journeys import _sign_in

WIDTHS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 320, "height": 800}}
SHOTS = os.environ.get("BOROUGH_SCREENSHOTS", "")


def page_at(width: str, browser):
    """A page at a width of ``WIDTHS`` (for a module's fixture, parametrised over them); a CSP
    violation fails the journey."""
    context = browser.new_context(viewport=WIDTHS[width])
    page = context.new_page()
    page.width_name = width
    page.javascript = True
    violations = watch_csp_violations(page)
    yield page
    context.close()
    assert violations == [], "\n".join(violations)


def shot(page: Page, name: str) -> None:
    """A full-page screenshot in ``BOROUGH_SCREENSHOTS`` when it names a folder."""
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=f"{SHOTS}/rent-{name}-{page.width_name}.png", full_page=True)


def heading(page: Page):
    return page.get_by_role("heading", level=1)


def fits_the_width(page: Page) -> None:
    """Nothing makes the page scroll sideways (a table may scroll in its own region)."""
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than the window"


def signed_in_tenant(page: Page, base: str, *, owed_pence: int = 0, email="tenant@example.org"):
    """A rent account (£110.00 rent and £12.50 service charge a week) whose tenant has signed in
    in ``page``; owing ``owed_pence`` if given. The account."""
    from borough.housing import services
    from borough.housing.models import LedgerEntry, Tenant
    from borough.housing.tests.test_ledger import make_account

    account = make_account(1)
    user = _sign_in(page, base, email)
    Tenant.objects.create(
        tenancy=account.tenancy,
        first_name="Zoe",
        surname="O'Brien",
        lead=True,
        account=user,
        resident_id="RTEST0001",
    )
    if owed_pence:
        services.post_entry(
            account,
            kind=LedgerEntry.Kind.CHARGE,
            type_code="DBR",
            amount_pence=owed_pence,
            posted_on=dt.date.today() - dt.timedelta(days=3),
            description="Rent",
            source_key="journey-charge",
        )
    return account


def pay_with_card(page: Page, number: str = "4444333322221111") -> None:
    """Fill in the local payment provider's card page and press Continue."""
    page.get_by_label("Card number").fill(number)
    page.get_by_label("Month").fill("12")
    page.get_by_label("Year").fill(str(dt.date.today().year + 2))
    page.get_by_label("Name on card").fill("Zoe O'Brien")
    page.get_by_label("Card security code").fill("123")
    page.get_by_role("button", name="Continue").click()
    expect(heading(page)).not_to_have_text("Enter card details")


def looks_right(page: Page, name: str) -> None:
    """The axe check (WCAG 2.2 AA), no sideways scrolling, and a screenshot. On a page with a
    conditional reveal, GOV.UK Frontend's ``aria-expanded`` on its radios is the one thing axe
    is not asked about: GOV.UK keeps it on purpose because screen readers announce it (a known
    issue, alphagov/govuk-frontend#979); everything else on the page is checked."""
    assert_accessible(page)
    fits_the_width(page)
    shot(page, name)
