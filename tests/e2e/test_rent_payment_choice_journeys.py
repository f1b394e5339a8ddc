"""A tenant chooses how to pay their rent, in Chromium at desktop width and at 320 px: Direct
Debit set up a question a page (a mistake in the bank details first), each amount explained
against the weekly charge and the name it shows under on their bank statement; then the
standing-order page warns them that a standing order as well would pay twice. A tenant without
a Direct Debit gets their standing-order details with the amount explained, and downloads a
statement between two dates as a PDF that names them and their home."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from playwright.sync_api import Page, expect

from tests.e2e._rent import WIDTHS, heading, looks_right, page_at, signed_in_tenant

# £110.00 rent and £12.50 service charge a week, over the weeks charged this rent year
WEEKLY = "£122.50 a week for"


@pytest.fixture(params=list(WIDTHS), ids=list(WIDTHS))
def sized_page(request, browser):
    yield from page_at(request.param, browser)


def test_a_tenant_sets_up_a_direct_debit_and_is_warned_off_a_standing_order_as_well(
    sized_page: Page, live_server, transactional_db
):
    from borough.housing.models import Mandate

    page, base = sized_page, live_server.url
    account = signed_in_tenant(page, base)
    page.goto(f"{base}/rent/account/{account.payment_reference}")
    page.get_by_role("link", name="Pay by Direct Debit").click()
    expect(heading(page)).to_have_text("Pay by Direct Debit")
    expect(page.locator("#dd-year")).to_contain_text(WEEKLY)
    expect(page.locator("#dd-payee")).to_have_text("LB NORTHMERE")
    looks_right(page, "dd-start")
    page.get_by_role("button", name="Start now").click()

    expect(heading(page)).to_have_text("What is the name on the bank account?")
    page.get_by_label("What is the name on the bank account?").fill("Zoe O'Brien")
    page.get_by_role("button", name="Continue").click()

    expect(heading(page)).to_have_text("Enter your bank details")
    page.get_by_label("Sort code").fill("20-29-59")
    page.get_by_label("Account number").fill("63748473")  # one digit wrong
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("alert")).to_contain_text("the numbers do not match")
    expect(page.get_by_label("Sort code")).to_have_value("20-29-59")  # kept
    looks_right(page, "dd-bank-error")
    page.get_by_label("Account number").fill("63748472")
    page.get_by_role("button", name="Continue").click()

    page.get_by_role("radio", name="Yes").check()
    page.get_by_role("button", name="Continue").click()

    expect(heading(page)).to_have_text("How often do you want to pay?")
    expect(page.locator("main")).to_contain_text(WEEKLY)
    looks_right(page, "dd-how-often")
    page.get_by_role("radio", name="Every month").check()
    page.get_by_role("button", name="Continue").click()

    expect(heading(page)).to_have_text("Which day of the month do you want to pay?")
    page.get_by_label("Which day of the month do you want to pay?").fill("15")
    page.get_by_role("button", name="Continue").click()

    expect(heading(page)).to_have_text("Check your Direct Debit details")
    amount = page.locator("#dd-amount").inner_text()
    expect(page.locator("#dd-explained")).to_contain_text(f"which is {amount} a month")
    # they are paid fortnightly after all: change how often, then the day of the week
    page.get_by_role("link", name="Change how often").click()
    page.get_by_role("radio", name="Every 2 weeks").check()
    page.get_by_role("button", name="Continue").click()
    expect(heading(page)).to_have_text("Which day of the week do you want to pay?")
    page.get_by_role("radio", name="Friday").check()
    page.get_by_role("button", name="Continue").click()
    expect(heading(page)).to_have_text("Check your Direct Debit details")
    expect(page.locator("main")).to_contain_text("Every 2 weeks on a Friday")
    amount = page.locator("#dd-amount").inner_text()
    expect(page.locator("#dd-explained")).to_contain_text(f"which is {amount} every 2 weeks")
    expect(page.locator("#dd-payee")).to_have_text("LB NORTHMERE")
    looks_right(page, "dd-check")
    page.get_by_role("button", name="Confirm and set up Direct Debit").click()

    expect(heading(page)).to_have_text("Direct Debit set up")
    expect(page.locator("#dd-explained")).to_contain_text(WEEKLY)
    looks_right(page, "dd-done")
    mandate = Mandate.objects.get(account=account)

    page.goto(f"{base}/rent/account/{account.payment_reference}/standing-order")
    warning = page.locator("#dd-warning")
    expect(warning).to_contain_text(f"Your Direct Debit (reference {mandate.reference})")
    expect(warning).to_contain_text("you will pay twice")
    looks_right(page, "standing-order-warning")
    page.get_by_role("radio", name="Every 4 weeks").check()
    page.get_by_role("button", name="Show my standing order details").click()
    expect(page.locator("#dd-warning")).to_be_visible()  # still warned with the details
    warning.get_by_role("link", name="cancel your Direct Debit").click()
    expect(heading(page)).to_have_text("Pay by Direct Debit")
    expect(page.locator("#dd-payee")).to_have_text(f"LB NORTHMERE {mandate.reference}")
    expect(page.locator("#dd-explained")).to_contain_text(WEEKLY)
    looks_right(page, "dd-status")
    page.get_by_role("link", name="Cancel your Direct Debit").click()
    expect(heading(page)).to_have_text("Cancel your Direct Debit")
    looks_right(page, "dd-cancel")
    page.get_by_role("button", name="Cancel Direct Debit").click()
    expect(page.locator("#dd-ended")).to_have_text(mandate.reference)
    mandate.refresh_from_db()
    assert mandate.status == Mandate.Status.CANCELLED
    page.goto(f"{base}/rent/account/{account.payment_reference}/standing-order")
    expect(page.locator("#dd-warning")).to_have_count(0)  # nothing to pay twice now


def test_a_tenant_gets_standing_order_details_and_a_statement_between_two_dates(
    sized_page: Page, live_server, transactional_db
):
    from pypdf import PdfReader

    from borough.housing import services

    page, base = sized_page, live_server.url
    account = signed_in_tenant(page, base)
    monday = dt.date.today() - dt.timedelta(days=dt.date.today().weekday() + 7)
    services.post_weekly_charges(monday)
    page.goto(f"{base}/rent/account/{account.payment_reference}/standing-order")
    expect(page.locator("#dd-warning")).to_have_count(0)
    page.get_by_role("button", name="Show my standing order details").click()
    expect(page.get_by_role("alert")).to_contain_text("Select how often you want to pay")
    page.get_by_role("radio", name="Every month").check()
    page.get_by_role("button", name="Show my standing order details").click()
    expect(page.locator("#payee")).to_have_text("LB Northmere Housing Rents")
    amount = page.locator("#amount").inner_text()
    expect(page.locator("#explained")).to_contain_text(f"{WEEKLY}")
    expect(page.locator("#explained")).to_contain_text(f"which is {amount} a month")
    looks_right(page, "standing-order")

    page.goto(f"{base}/rent/account/{account.payment_reference}")
    page.get_by_role("link", name="Download a statement").click()
    expect(heading(page)).to_have_text("Download a statement")
    page.get_by_role("radio", name="Between two dates").check()
    expect(page.get_by_label("From", exact=True)).to_be_visible()  # revealed under its choice
    page.get_by_label("From", exact=True).fill(f"{monday:%d/%m/%Y}")
    page.get_by_label("To", exact=True).fill(f"{monday - dt.timedelta(days=1):%d/%m/%Y}")
    page.get_by_role("radio", name="PDF (to read or print)").check()
    page.get_by_role("button", name="Download statement").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "The last day must be on or after the first day"
    )
    expect(page.get_by_label("From", exact=True)).to_have_value(f"{monday:%d/%m/%Y}")  # kept
    expect(page.get_by_role("radio", name="Between two dates")).to_be_checked()
    looks_right(page, "statement-error")
    page.get_by_label("To", exact=True).fill(f"{dt.date.today():%d/%m/%Y}")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download statement").click()
    reader = PdfReader(io.BytesIO(open(download.value.path(), "rb").read()))
    text = reader.pages[0].extract_text()
    assert "Zoe O'Brien" in text and "E21 0AA" in text and "020 7946 0000" in text
    assert "Rent, " in text  # the week's charge
