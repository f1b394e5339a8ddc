"""The data protection officer releases an entry held back from a resident, in Chromium: the
list and the form at 1280 px, a missing reason explained, the release confirmed, then the list
and the form again at 320 px."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

from tests.e2e._staff import check_page, sign_in_as
from tests.e2e.conftest import _no_csp_violations, watch_csp_violations


def _held(resident_id: str, **extra):
    from borough.transparency.services import record_data_use

    (event,) = record_data_use(
        subject_resident_ids=[resident_id],
        actor=None,
        actor_kind="service",
        actor_label="Enforcement device API key 'van-7'",
        purpose="parking_enforcement_check",
        action="enforcement_check",
        datasets=["parking_permits"],
        outcome="not_allowed",
        restriction_reason_code="enforcement_investigation",
        **extra,
    )
    return event


@pytest.fixture
def held(transactional_db):
    return _held("R-FIRST", hidden_until=dt.date(2099, 1, 31)), _held("R-SECOND")


def test_the_officer_releases_a_held_entry_at_desktop_and_phone_width(live_server, held, browser):
    from borough.transparency.models import EventDisclosure

    first, second = held
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    violations = watch_csp_violations(page)
    try:
        sign_in_as(page, live_server.url, "dpo", "data-protection-officer", "Dana Okafor")
        page.goto(page.base + "/staff/")
        page.get_by_role("link", name="Data protection", exact=True).click()
        page.get_by_role("link", name="Entries held back from residents").click()
        expect(page.get_by_role("heading", level=1)).to_have_text(
            "Entries held back from residents"
        )
        main = page.locator("main")
        expect(main).to_contain_text("31 January 2099")
        expect(main).to_contain_text("You release it")
        check_page(page, "held-entries")

        page.get_by_role("link", name=f"Release entry {second.pk}").click()
        expect(main).to_contain_text("R-SECOND")
        expect(main).to_contain_text("A parking enforcement investigation")
        page.get_by_role("button", name="Release entry").click()
        expect(page.locator(".govuk-error-summary")).to_contain_text(
            "Enter why you are releasing this entry"
        )
        check_page(page, "release-entry-error")
        page.get_by_label("Why are you releasing this entry?").fill("The investigation has ended.")
        page.get_by_role("button", name="Release entry").click()
        expect(page.locator(".govuk-notification-banner")).to_contain_text("Entry released")
        expect(main).not_to_contain_text(f"Entry {second.pk}:")
        assert EventDisclosure.objects.filter(event_id=second.pk).exists()

        page.set_viewport_size({"width": 320, "height": 800})
        check_page(page, "held-entries-released")
        page.get_by_role("link", name=f"Release entry {first.pk}").click()
        expect(main).to_contain_text("R-FIRST")
        check_page(page, "release-entry")
    finally:
        context.close()
    _no_csp_violations(violations)
