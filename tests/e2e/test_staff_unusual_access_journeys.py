"""The data protection officer opens "Unusual access" in Chromium, at 1280 px and then at 320 px:
an officer's late-night look-ups are flagged by name, the period is changed with the form, and
the flag leads to that officer's events in the log."""

from __future__ import annotations

import datetime as dt
import re
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from tests.e2e._staff import check_page, sign_in_as
from tests.e2e.conftest import _no_csp_violations, watch_csp_violations

LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def late_night(transactional_db):
    """An officer who looked up three residents at 11:15pm yesterday, one of them five times."""
    from borough.core.services import create_staff_account
    from borough.transparency.services import record_data_use

    officer, _ = create_staff_account(
        "night-owl", ["Parking officer"], password="a long demo password 1", full_name="Olu Owl"
    )
    yesterday = dt.datetime.now(LONDON).date() - dt.timedelta(days=1)
    when = dt.datetime.combine(yesterday, dt.time(23, 15), tzinfo=LONDON)
    with mock.patch("django.utils.timezone.now", return_value=when):
        for residents in (["R-1", "R-2", "R-3"], *[["R-1"]] * 4):
            record_data_use(
                subject_resident_ids=residents,
                actor=officer,
                actor_kind="staff",
                purpose="staff_view_records",
                action="viewed_records",
                service="parking",
            )
    return officer


@pytest.mark.e2e
def test_the_officer_sees_unusual_access_and_follows_a_flag(live_server, browser, late_night):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    violations = watch_csp_violations(page)
    sign_in_as(page, live_server.url, "dpo", "Data protection officer", "Dana Okafor")
    page.goto(page.base + "/staff/transparency/")
    page.get_by_role("link", name="Unusual access").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Unusual access")
    odd = page.get_by_role("region", name="Officers who used data at odd hours")
    expect(odd).to_contain_text("Olu Owl (night-owl)")
    expect(odd).to_contain_text("11:15pm")
    expect(page.get_by_role("region", name="Residents looked up repeatedly")).to_contain_text("R-1")
    check_page(page, "unusual-access")

    for width in (320, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        page.get_by_label("The last 30 days").check()
        page.get_by_role("button", name="Show flags").click()
        expect(page.get_by_label("The last 30 days")).to_be_checked()
        expect(odd).to_contain_text("Olu Owl (night-owl)")
        check_page(page, "unusual-access-30-days")

    odd.get_by_role("link", name=re.compile("Olu Owl")).click()
    main = page.locator("main")
    expect(main).to_contain_text("Only events by the officer with username night-owl")
    expect(main).to_contain_text("7 events, newest first")
    check_page(page, "unusual-access-officer-events")
    context.close()
    _no_csp_violations(violations)
