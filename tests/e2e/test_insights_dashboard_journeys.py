"""An analyst opens the Insight dashboards, filters them by ward and period and downloads a
chart's table as CSV, in Chromium at 1280 px and at 320 px; and anyone reads the public "How our
services are doing" page. Screenshots go to BOROUGH_SHOTS (default /tmp/shots/staff)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from borough.insights.tests import dashboards_warehouse
from tests.e2e._staff import check_page, sign_in_as

_small_warehouse_root = dashboards_warehouse._small_warehouse_root
small_warehouse = dashboards_warehouse.small_warehouse

PHONE = {"width": 320, "height": 720}
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture
def analyst_page(page, live_server, transactional_db, small_warehouse):
    page.set_viewport_size(DESKTOP)
    sign_in_as(page, live_server.url, "analyst", "data-analyst", "Amira Hassan")
    return page


def test_an_analyst_filters_a_dashboard_by_ward_and_period_and_downloads_a_csv(analyst_page):
    page = analyst_page
    page.goto(page.base + "/staff/insights/")
    page.get_by_role("link", name="Dashboards").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Dashboards")
    page.get_by_role("link", name="Rent collection").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Rent collection")
    main = page.locator("main")
    expect(main).to_contain_text("Showing September 2026 to November 2026, all wards.")
    chart = page.get_by_role("img", name="Rent collected, by payment method")
    expect(chart).to_be_visible()
    check_page(page, "insights-rent")

    # a 'to' month before the 'from' month: explained, the choices kept
    page.get_by_label("From", exact=True).select_option(label="November 2026")
    page.get_by_label("To", exact=True).select_option(label="October 2026")
    page.get_by_role("button", name="Show figures").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "The ‘to’ month must be the same as or after the ‘from’ month"
    )
    expect(page.get_by_label("From", exact=True)).to_have_value("2026-11")
    check_page(page, "insights-rent-error")

    page.get_by_label("From", exact=True).select_option(label="October 2026")
    page.get_by_label("To", exact=True).select_option(label="November 2026")
    page.get_by_label("Ward", exact=True).select_option(label="Albion")
    page.get_by_role("button", name="Show figures").click()
    expect(main).to_contain_text("Showing October 2026 to November 2026, Albion.")
    page.get_by_text("Show the figures as a table: Rent collected, by payment method").click()
    table = page.locator("#rent-collected-table")
    expect(table).to_contain_text("Standing order")
    expect(table).not_to_contain_text("September 2026")
    check_page(page, "insights-rent-albion")

    with page.expect_download() as info:
        page.locator("a[href*='/rent-collected.csv?']").click()
    download = info.value
    assert download.suggested_filename == "rent-collected_2026-10_2026-11_E05000001.csv"
    text = open(download.path(), encoding="utf-8").read()
    rows = [line.split(",", 2) for line in text.splitlines()]
    assert rows[0] == ["Month", "Payment method", "Accounts that paid,Collected"]
    shown = table.locator("tbody tr").all_inner_texts()
    assert len(rows) - 1 == len(shown)
    assert 'October 2026,Direct Debit,10,"£1,000.00"' in text
    assert "October 2026,Other,[c],[c]" in text  # two Albion tenants pay by card

    # the same page on a phone: fits the screen (the chart scrolls inside its own box)
    page.set_viewport_size(PHONE)
    expect(chart).to_be_visible()
    check_page(page, "insights-rent-albion")


def test_anyone_reads_how_our_services_are_doing(
    page, live_server, transactional_db, small_warehouse
):
    for size in (DESKTOP, PHONE):
        page.set_viewport_size(size)
        page.goto(live_server.url + "/how-our-services-are-doing")
        expect(page.get_by_role("heading", level=1)).to_have_text("How our services are doing")
        expect(page.locator("main")).to_contain_text("Figures for September 2026 to November 2026")
        page.get_by_text(re.compile("How we count this: rent collected")).click()
        expect(page.locator("main")).to_contain_text("less payments the bank reversed")
        check_page(page, "how-our-services-are-doing")


def test_a_chart_drawn_ahead_with_withheld_figures_shows_its_gap(analyst_page):
    """The first view after a build, served from the charts the build drew ahead: the same
    accessible image, and the note saying a gap is a withheld figure, at 1280 and 320 px."""
    from borough.insights import charts, dashboards, drawings

    assert drawings.draw_ahead().skipped == ""
    dashboards.RESULTS.clear()
    charts.draw_svg.cache_clear()
    page = analyst_page
    for size in (DESKTOP, PHONE):
        page.set_viewport_size(size)
        page.goto(page.base + "/staff/insights/dashboards/applications")
        # October's share is withheld (12 of 15 would say 3 were not); November's is drawn
        chart = page.get_by_role("img", name="Permit applications decided automatically, by month")
        expect(chart).to_be_visible()
        expect(page.locator("main")).to_contain_text("a gap there is not a zero")
        check_page(page, "insights-applications-drawn-ahead")
