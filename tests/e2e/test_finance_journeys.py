"""A finance officer imports the council's bank statement in the browser: the upload runs as a
background job whose page shows how far it has got and then its result; a bad file is named
with its problem. With and without JavaScript, checked for accessibility."""

from __future__ import annotations

import pytest
from django.test import Client
from playwright.sync_api import expect

from borough.housing.models import StatementUpload
from tests.e2e.test_foundation_journeys import check_accessible


@pytest.fixture
def officer_page(live_server, any_page, transactional_db):
    """``any_page`` signed in as a finance officer (the session made by Django's test client,
    so the journey does not depend on the sign-in form)."""
    from borough.core.services import create_staff_account
    from borough.core.testing import sign_in_staff

    user, _ = create_staff_account("fin", ["finance-officer"], password="a long demo password 1")
    client = Client()
    sign_in_staff(client, user)  # the second factor passed too
    cookie = client.cookies["sessionid"]
    any_page.context.add_cookies(
        [{"name": "sessionid", "value": cookie.value, "url": live_server.url}]
    )
    any_page.base = live_server.url
    return any_page


def _statement(tmp_path):
    from borough.housing.matching import synthetic
    from borough.housing.statement_import import council_account

    own = council_account()
    made = synthetic.generate(60, 30, seed=9)
    path = tmp_path / "april.xml"
    path.write_bytes(
        synthetic.write_camt053(
            synthetic.as_statement(list(made.lines), f"{own[:6]} {own[6:]}", "APR", 0)
        )
    )
    return path


def test_an_officer_uploads_a_statement_and_sees_it_imported(officer_page, tmp_path):
    page = officer_page
    page.goto(page.base + "/staff/finance/statements")
    expect(page.get_by_text("The file must be smaller than 200MB")).to_be_visible()
    check_accessible(page)
    page.get_by_label("Bank statement file").set_input_files(str(_statement(tmp_path)))
    page.get_by_role("button", name="Import statement").click()
    expect(page.get_by_role("heading", name="Imported")).to_be_visible()
    expect(page.locator("#import-summary")).to_contain_text("april.xml: ")
    expect(page.locator("#import-summary")).to_contain_text("posted to rent accounts")
    assert "/staff/finance/statements/uploads/" in page.url
    check_accessible(page)


def test_a_bad_file_is_named_with_its_problem(officer_page, tmp_path):
    page = officer_page
    bad = tmp_path / "cut.sta"
    bad.write_bytes(
        b":20:X\n:25:08999966374958\n:60F:C260406GBP100,00\n:61:2604070407C10,00NTRF//B1\n"
    )
    page.goto(page.base + "/staff/finance/statements")
    page.get_by_label("Bank statement file").set_input_files(str(bad))
    page.get_by_role("button", name="Import statement").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("cut.sta: statement block 1")
    expect(summary).to_contain_text("no closing balance")
    expect(summary).to_contain_text("Nothing was imported.")
    check_accessible(page)


def test_a_running_import_shows_its_progress(officer_page):
    page = officer_page
    upload = StatementUpload.objects.create(
        file_name="big.xml",
        size_bytes=60_000_000,
        status=StatementUpload.Status.RUNNING,
        stage="Matching payments to rent accounts",
        progress_percent=80,
    )
    page.goto(page.base + f"/staff/finance/statements/uploads/{upload.pk}")
    expect(page.locator("#import-progress")).to_have_text(
        "Matching payments to rent accounts: 80% done."
    )
    check_accessible(page)
    StatementUpload.objects.filter(pk=upload.pk).update(
        status=StatementUpload.Status.DONE,
        message="big.xml: 3 credits, 3 new.",
        progress_percent=100,
    )
    page.get_by_role("button", name="Check progress").click()
    expect(page.locator("#import-summary")).to_have_text("big.xml: 3 credits, 3 new.")


def test_at_phone_width_a_long_file_name_and_its_problem_stay_on_the_screen(officer_page, tmp_path):
    """320 px: the error summary, the message and the recent imports' file names wrap (the
    table scrolls in its own box); the page itself is no wider than the screen."""
    page = officer_page
    page.set_viewport_size({"width": 320, "height": 720})
    bad = tmp_path / ("statement-for-the-council-rent-account-from-the-bank-" * 2 + "cut.sta")
    bad.write_bytes(
        b":20:X\n:25:08999966374958\n:60F:C260406GBP100,00\n"
        b":61:2604070407C10,00NTRF//AVERYLONGBANKREFERENCEWITHOUTANYSPACESATALL0123456789\n"
    )
    page.goto(page.base + "/staff/finance/statements")
    page.get_by_label("Bank statement file").set_input_files(str(bad))
    page.get_by_role("button", name="Import statement").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Nothing was imported.")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 320, width
    check_accessible(page)
