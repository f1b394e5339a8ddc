"""The data protection officer reads and filters the data-use log in Chromium, at 1280 px and at
320 px: no resident's email address or residents' wording, dataset titles, pages, and the
"between two dates" filter typed into GOV.UK date inputs."""

from __future__ import annotations

import datetime as dt
import re
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from tests.e2e import _staff
from tests.e2e._staff import check_page, sign_in_as

sized_page = _staff.sized_page

LONDON = ZoneInfo("Europe/London")


def _record(when: dt.datetime, resident_ids, **arguments):
    from borough.transparency.services import record_data_use

    defaults = {
        "actor": None,
        "actor_kind": "service",
        "actor_label": "Parking permits service",
        "purpose": "parking_permit_residency_check",
        "action": "verification",
        "datasets": ["rent_accounts"],
        "outcome": "verified",
    }
    with mock.patch("django.utils.timezone.now", return_value=when):
        return record_data_use(subject_resident_ids=resident_ids, **{**defaults, **arguments})


@pytest.fixture
def log(transactional_db):
    from borough.core.models import User

    resident = User.objects.create_resident("ada.lovelace@example.org")
    march = dt.datetime(2026, 3, 10, 9, 5, tzinfo=LONDON)
    _record(march, [f"R-{n}" for n in range(55)])  # more than a page
    _record(
        dt.datetime(2026, 4, 2, 14, 30, tzinfo=LONDON),
        ["R-tenant"],
        actor=resident,
        actor_kind="resident",
        actor_label="",
        purpose="housing_rent_account_self_service",
    )
    return resident


def test_the_officer_reads_the_log_without_personal_data_and_pages_through_it(
    live_server, log, sized_page
):
    page = sized_page
    sign_in_as(page, live_server.url, "dpo", "data-protection-officer", "Dana Okafor")
    page.goto(page.base + "/staff/data-use")
    expect(page.get_by_role("heading", level=1)).to_have_text("Data-use log")
    main = page.locator("main")
    expect(main).to_contain_text("56 events, newest first (page 1 of 2)")
    expect(main).to_contain_text("A resident (signed in)")
    expect(main).to_contain_text(f"resident-account-{log.pk}")
    expect(main).to_contain_text("Rent accounts")
    expect(main).to_contain_text("2:30pm")
    expect(main).to_contain_text("2 April 2026")
    expect(main).not_to_contain_text("ada.lovelace")
    expect(main).not_to_contain_text("You, signed in")
    expect(main).not_to_contain_text("rent_accounts")
    region = page.get_by_role("region", name="Events, newest first")
    region.focus()
    expect(region).to_be_focused()
    check_page(page, "data-use-log")

    page.get_by_role("link", name=re.compile("Next")).click()
    expect(main).to_contain_text("(page 2 of 2)")
    check_page(page, "data-use-log-page-2")


def test_the_officer_filters_between_two_dates(live_server, log, sized_page):
    page = sized_page
    sign_in_as(page, live_server.url, "dpo", "data-protection-officer")
    page.goto(page.base + "/staff/data-use")
    from_date = page.get_by_role("group", name="From")
    expect(from_date).to_be_hidden()  # revealed by "Between two dates"
    page.get_by_label("Service", exact=True).select_option(label="Housing")
    page.get_by_label("Between two dates").check()
    expect(from_date).to_be_visible()
    check_page(page, "data-use-log-between")

    # a 'to' date before the 'from' date: explained, and what was typed is kept
    from_date.get_by_label("Day").fill("1")
    from_date.get_by_label("Month").fill("4")
    from_date.get_by_label("Year").fill("2026")
    to_date = page.get_by_role("group", name="To")
    to_date.get_by_label("Day").fill("31")
    to_date.get_by_label("Month").fill("3")
    to_date.get_by_label("Year").fill("2026")
    page.get_by_role("button", name="Filter events").click()
    summary = page.locator(".govuk-error-summary")
    message = "The ‘to’ date must be the same as or after the ‘from’ date"
    expect(summary).to_contain_text(message)
    expect(page.get_by_role("group", name="To").get_by_label("Day")).to_have_value("31")
    expect(page.get_by_label("Between two dates")).to_be_checked()
    check_page(page, "data-use-log-error")

    to_date = page.get_by_role("group", name="To")
    to_date.get_by_label("Day").fill("30")
    to_date.get_by_label("Month").fill("4")
    page.get_by_role("button", name="Filter events").click()
    main = page.locator("main")
    expect(main).to_contain_text("1 event, newest first")
    expect(main).to_contain_text("R-tenant")
    expect(page.get_by_label("Service", exact=True)).to_have_value("housing")
    check_page(page, "data-use-log-filtered")


def test_without_javascript_the_dates_are_shown_and_typing_them_is_enough(
    live_server, log, browser
):
    context = browser.new_context(java_script_enabled=False, viewport={"width": 320, "height": 800})
    page = context.new_page()
    try:
        sign_in_as(page, live_server.url, "dpo", "data-protection-officer")
        page.goto(page.base + "/staff/data-use")
        from_date = page.get_by_role("group", name="From")
        expect(from_date).to_be_visible()
        from_date.get_by_label("Day").fill("1")
        from_date.get_by_label("Month").fill("4")
        from_date.get_by_label("Year").fill("2026")
        page.get_by_role("button", name="Filter events").click()
        expect(page.locator("main")).to_contain_text("1 event, newest first")
        expect(page.get_by_label("Between two dates")).to_be_checked()
    finally:
        context.close()
