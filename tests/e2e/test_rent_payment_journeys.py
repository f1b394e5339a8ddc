"""A tenant who owes rent, in Chromium at desktop width and at 320 px: the account says what
they owe as something to act on, with help if they are struggling; they pay by card (a typing
mistake first, then a declined card, then one that works) and the payment reaches their rent
account once."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e._rent import (
    WIDTHS,
    fits_the_width,
    heading,
    page_at,
    pay_with_card,
    shot,
    signed_in_tenant,
)
from tests.e2e.test_foundation_journeys import check_accessible


@pytest.fixture(params=list(WIDTHS), ids=list(WIDTHS))
def sized_page(request, browser):
    yield from page_at(request.param, browser)


def test_a_tenant_who_owes_sees_it_gets_help_and_pays_by_card_after_a_declined_card(
    sized_page: Page, live_server, transactional_db
):
    from borough.housing import services
    from borough.housing.models import LedgerEntry

    page, base = sized_page, live_server.url
    account = signed_in_tenant(page, base, owed_pence=24500)
    page.goto(f"{base}/rent/account/{account.payment_reference}")
    expect(heading(page)).to_have_text("Your rent account")
    banner = page.get_by_role("region", name="You have rent to pay")
    expect(banner).to_contain_text("You owe £245.00")
    expect(banner).to_contain_text("2 weeks of rent")
    expect(page.locator(".govuk-panel--confirmation")).to_have_count(0)
    expect(page.get_by_role("heading", name="If you are struggling to pay")).to_be_visible()
    expect(page.locator("#contact")).to_contain_text("020 7946 0000")
    expect(page.get_by_role("link", name="contact MoneyHelper (opens in new tab)")).to_be_visible()
    check_accessible(page)
    fits_the_width(page)
    shot(page, "account-owing")

    page.get_by_role("button", name="Pay what you owe by card").click()
    expect(heading(page)).to_have_text("Pay your rent by card")
    amount = page.get_by_label("How much do you want to pay?")
    expect(amount).to_have_value("245.00")
    amount.fill("24five")
    page.get_by_role("button", name="Continue to payment").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "Enter how much you want to pay in pounds and pence, like 125.50"
    )
    expect(amount).to_have_value("24five")  # what they typed is kept
    check_accessible(page)
    fits_the_width(page)
    shot(page, "pay-error")
    amount.fill("245.00")
    page.get_by_role("button", name="Continue to payment").click()

    pay_with_card(page, "4000000000000002")  # declined
    expect(heading(page)).to_have_text("Your payment was not taken")
    expect(page.locator("#pay-failed")).to_contain_text("No money has been taken")
    check_accessible(page)
    fits_the_width(page)
    shot(page, "pay-declined")
    assert services.balance_pence(account) == 24500

    page.get_by_role("button", name="Try again to pay £245.00").click()
    pay_with_card(page)
    expect(heading(page)).to_contain_text("Payment received")
    expect(page.locator("#paid-amount")).to_have_text("£245.00")
    expect(page.locator("#paid-balance")).to_have_text("Your account is now up to date.")
    check_accessible(page)
    fits_the_width(page)
    shot(page, "paid")

    page.reload()  # the return page again: nothing more is posted
    expect(heading(page)).to_contain_text("Payment received")
    assert LedgerEntry.objects.filter(account=account, kind="card").count() == 1
    assert services.balance_pence(account) == 0

    page.get_by_role("link", name="Back to your rent account").click()
    expect(page.locator("#balance")).to_have_text("Your account is up to date")
    expect(page.get_by_role("region", name="You have rent to pay")).to_have_count(0)


def test_a_tenant_who_cancels_on_the_card_page_can_pay_a_different_amount(
    sized_page: Page, live_server, transactional_db
):
    from borough.housing import services

    page, base = sized_page, live_server.url
    account = signed_in_tenant(page, base, owed_pence=24500)
    page.goto(f"{base}/rent/account/{account.payment_reference}")
    page.get_by_role("link", name="Pay by card").click()
    page.get_by_label("How much do you want to pay?").fill("£50")
    page.get_by_role("button", name="Continue to payment").click()
    page.get_by_role("button", name="Cancel payment").click()
    expect(heading(page)).to_have_text("Your payment was not taken")
    expect(page.locator("#pay-failed")).to_contain_text("was cancelled")
    page.get_by_role("link", name="Pay a different amount").click()
    page.get_by_label("How much do you want to pay?").fill("60.50")
    page.get_by_role("button", name="Continue to payment").click()
    pay_with_card(page)
    expect(page.locator("#paid-balance")).to_have_text("You still owe £184.50.")
    assert services.balance_pence(account) == 24500 - 6050
