"""A finance officer's forms in Chromium at 1280 px and 320 px: uploading a bank statement and
reading how each payment was matched, allocating a payment from suspense (a mistake first), and
making and downloading a Bacs run."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from borough.core.dates import date_in_words
from borough.housing.tests import conftest as housing_fixtures
from tests.e2e import _staff
from tests.e2e._staff import check_page, sign_in_as

sized_page = _staff.sized_page
#: the housing tests' synthetic rent accounts and their bank lines
borough = housing_fixtures.borough


@pytest.fixture
def statement(transactional_db, borough, tmp_path):
    """The council's bank statement of ``borough``'s payments, as a camt.053 file."""
    from borough.housing.matching import synthetic
    from borough.housing.statement_import import council_account

    made, _ = borough
    own = council_account()
    path = tmp_path / "november.xml"
    account = f"{own[:6]} {own[6:]}"
    path.write_bytes(
        synthetic.write_camt053(synthetic.as_statement(list(made.lines), account, "NOV", 0))
    )
    return path


def test_the_officer_imports_a_statement_and_allocates_a_payment_in_suspense(
    live_server, statement, sized_page
):
    from borough.housing.models import BankLine, RentAccount

    page = sized_page
    sign_in_as(page, live_server.url, "fin", "finance-officer", "Femi Adeyemi")
    page.goto(page.base + "/staff/finance/statements")
    page.get_by_label("Bank statement file").set_input_files(str(statement))
    page.get_by_role("button", name="Import statement").click()
    expect(page.get_by_role("heading", name="Imported")).to_be_visible()
    lines = page.get_by_role("region", name="How each payment was matched")
    expect(lines).to_contain_text("Payment reference quoted")
    expect(lines).not_to_contain_text("payment_reference")
    check_page(page, "statement-imported")

    lines.get_by_role("link", name="In suspense").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"^Payment of £"))
    line_id = int(page.url.rstrip("/").rsplit("/", 1)[1])
    line = BankLine.objects.get(pk=line_id)
    check_page(page, "suspense-line")

    # a payment reference no account has: named at the field, what was typed kept
    page.get_by_label("Payment reference", exact=True).fill("NOPE1")
    page.get_by_role("button", name="Allocate").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("No rent account has the payment reference NOPE1")
    expect(page.get_by_label("Payment reference", exact=True)).to_have_value("NOPE1")
    check_page(page, "suspense-line-error")

    account = RentAccount.objects.filter(closed_on__isnull=True).first()
    page.get_by_label("Payment reference", exact=True).fill(account.payment_reference)
    page.get_by_role("button", name="Allocate").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Suspense")
    expect(page.locator("#suspense-done")).to_contain_text(
        f"allocated: {_pounds(line.amount_pence)} to {account.payment_reference}."
    )
    check_page(page, "suspense-allocated")
    line.refresh_from_db()
    assert line.outcome == "allocated"


def _pounds(pence: int) -> str:
    return f"£{pence // 100:,}.{pence % 100:02d}"


@pytest.fixture
def mandate(transactional_db):
    """A tenant's new Direct Debit instruction, to go in today's run."""
    from borough.core.models import User
    from borough.housing import direct_debit
    from borough.housing.models import Tenant
    from borough.housing.tests.test_ledger import make_account

    account = make_account(1)
    user = User.objects.create_resident("tenant@example.org")
    Tenant.objects.create(
        tenancy=account.tenancy, first_name="Zoe", surname="O'Brien", lead=True, account=user
    )
    return direct_debit.set_up_mandate(
        account,
        account_holder="Zoe O'Brien",
        sort_code="20-29-59",
        account_number="63748472",
        frequency="monthly",
        collection_day=15,
        today=timezone.localdate(),
    )


def test_the_officer_makes_and_downloads_a_bacs_run(live_server, mandate, sized_page):
    page = sized_page
    sign_in_as(page, live_server.url, "fin", "finance-officer")
    page.goto(page.base + "/staff/finance/direct-debit/runs")
    today = date_in_words(timezone.localdate())
    check_page(page, "bacs-runs")
    page.get_by_role("button", name=f"Make today's run ({today})").click()
    made = page.locator("#run-made")
    expect(made).to_contain_text("1 instruction, 0 collections")
    check_page(page, "bacs-run-made")

    with page.expect_download() as download:
        made.get_by_role("link", name="Download the file").click()
    text = open(download.value.path(), encoding="ascii").read()
    assert text.startswith("VOL1")
    assert "0N" in text

    row_link = page.get_by_role("link", name=re.compile(r"^Download the file of run \d+"))
    expect(row_link).to_have_count(1)


def test_the_officer_chooses_the_period_of_the_rent_reports(live_server, statement, sized_page):
    from borough.housing import statement_import

    statement_import.import_statement(statement.read_bytes(), file_name=statement.name)
    page = sized_page
    sign_in_as(page, live_server.url, "fin", "finance-officer")
    page.goto(page.base + "/staff/finance/reports")
    start = page.get_by_role("group", name="From")
    end = page.get_by_role("group", name="To")
    expect(start.get_by_label("Day")).to_have_value("1")
    check_page(page, "rent-reports")

    # the last day before the first: explained, what was typed kept
    for group, (day, month, year) in ((start, ("30", "4", "2026")), (end, ("1", "4", "2026"))):
        group.get_by_label("Day").fill(day)
        group.get_by_label("Month").fill(month)
        group.get_by_label("Year").fill(year)
    page.get_by_role("button", name="Show").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "The last day must be on or after the first day"
    )
    expect(page.get_by_role("group", name="From").get_by_label("Day")).to_have_value("30")
    check_page(page, "rent-reports-error")

    page.get_by_role("group", name="From").get_by_label("Day").fill("1")
    page.get_by_role("group", name="From").get_by_label("Month").fill("1")
    page.get_by_role("group", name="To").get_by_label("Month").fill("12")
    page.get_by_role("group", name="To").get_by_label("Year").fill("2030")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#cash")).to_contain_text("Total")
    expect(page.locator("#cash")).not_to_contain_text("No payments in the period")
    check_page(page, "rent-reports-period")
