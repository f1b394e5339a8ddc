"""A housing officer reads a rent account and sets up an arrangement in Chromium, at 1280 px and
320 px: charges by name and in pounds, each ledger line's source in words, nothing wider than the
screen."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

from tests.e2e import _staff
from tests.e2e._staff import check_page, sign_in_as

sized_page = _staff.sized_page


@pytest.fixture
def account(transactional_db):
    from borough.housing import services
    from borough.housing.models import Tenant
    from borough.housing.tests.test_ledger import make_account

    found = make_account(1)
    Tenant.objects.create(
        tenancy=found.tenancy, first_name="Grace", surname="Hopper", resident_id="R7", lead=True
    )
    services.post_weekly_charges(dt.date(2026, 11, 16))
    return found


def test_the_officer_reads_the_ledger_and_sets_up_an_arrangement(live_server, account, sized_page):
    page = sized_page
    sign_in_as(page, live_server.url, "hou", "housing-officer", "Hana Osei")
    page.goto(page.base + "/staff/housing/accounts/00000001X")
    expect(page.locator("#weekly-charges")).to_contain_text("Rent: £110.00")
    expect(page.locator("#weekly-charges")).to_contain_text("Service charge: £12.50")
    ledger = page.get_by_role("region", name="Ledger")
    expect(ledger).to_contain_text("Weekly charges for the week starting 16 November 2026")
    expect(ledger).not_to_contain_text("DBR")
    expect(ledger).not_to_contain_text("charge:")
    check_page(page, "rent-account")

    page.get_by_label("Amount towards the arrears, in pounds").fill("ten")
    page.get_by_label("Every week").check()
    page.get_by_role("button", name="Set up arrangement").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Enter the amount in pounds, like 10.00"
    )
    expect(page.get_by_label("Amount towards the arrears, in pounds")).to_have_value("ten")
    check_page(page, "rent-account-error")
    page.get_by_label("Amount towards the arrears, in pounds").fill("10")
    page.get_by_role("button", name="Set up arrangement").click()
    expect(page.locator("main")).to_contain_text("£10.00 every week from")
    expect(page.locator("main")).to_contain_text("Set up by Hana Osei")
    check_page(page, "rent-account-arrangement")
