"""An analyst runs a permit what-if, saves a decision note and opens it; anyone downloads a table
from the open-data index. In Chromium at 1280 px and 320 px, in one test (one browser start)."""

from __future__ import annotations

import datetime as dt
import re

from playwright.sync_api import expect

from borough.insights.tests import fixtures
from tests.e2e._staff import WIDTHS, check_page, sign_in_as
from tests.e2e.conftest import _no_csp_violations, watch_csp_violations


def test_an_analyst_saves_a_permit_decision_and_anyone_downloads_open_data(
    live_server, transactional_db, browser, settings, tmp_path
):
    from django.utils import timezone

    from borough.insights import build, opendata
    from borough.insights.models import DecisionNote

    settings.DATA_DIR = tmp_path
    settings.BOROUGH_WAREHOUSE_DIR = str(tmp_path / "warehouse")
    today = timezone.localdate()
    fixtures.make_permits(today)
    build.build()
    opendata.publish(today - dt.timedelta(days=30), today)

    for name, width in WIDTHS.items():
        context = browser.new_context(
            viewport={"width": width, "height": 900}, accept_downloads=True
        )
        page = context.new_page()
        violations = watch_csp_violations(page)
        sign_in_as(page, live_server.url, f"analyst-{name}", "data-analyst", "Ana Lyst")

        page.goto(page.base + "/staff/insights")
        page.get_by_role("link", name="Permit prices what-if").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Permit prices what-if")
        page.get_by_role("group", name="Band G").get_by_label("Price for 12 months").fill("lots")
        page.get_by_role("button", name="Show the effect").click()
        expect(page.get_by_role("alert")).to_contain_text("Enter band G's price in pounds")
        check_page(page, "whatif-permits-error")
        page.get_by_role("group", name="Band G").get_by_label("Price for 12 months").fill("150.00")
        page.get_by_role("button", name="Show the effect").click()
        expect(page.locator("#totals")).to_contain_text("+£140")
        check_page(page, "whatif-permits-results")

        page.get_by_label("Title").fill(f"Band G price 2027 ({name})")
        page.get_by_label("Decision").fill("Raise band G by £10 from April 2027.")
        page.get_by_role("button", name="Save decision note").click()
        expect(page.get_by_role("heading", level=1)).to_have_text(f"Band G price 2027 ({name})")
        expect(page.locator("#decision")).to_have_text("Raise band G by £10 from April 2027.")
        expect(page.locator("#totals")).to_contain_text("+£140")
        check_page(page, "decision-note")
        page.get_by_role("link", name="Decision notes").first.click()
        expect(page.locator("#notes")).to_contain_text(f"Band G price 2027 ({name})")
        check_page(page, "decision-notes")
        context.close()
        _no_csp_violations(violations)

        public = browser.new_context(
            viewport={"width": width, "height": 900}, accept_downloads=True
        )
        page = public.new_page()
        violations = watch_csp_violations(page)
        page.goto(live_server.url + "/open-data")
        expect(page.get_by_role("heading", level=1)).to_have_text("Open data")
        check_page(page, "open-data")
        with page.expect_download() as info:
            page.get_by_role(
                "link", name=re.compile("Download parking permits issued, by ward and emission")
            ).click()
        download = info.value
        assert download.suggested_filename == "permits-by-ward-and-band.csv"
        text = open(download.path(), encoding="utf-8").read()
        assert text.startswith("ward,band,count") and "[c]" in text
        public.close()
        _no_csp_violations(violations)

    assert DecisionNote.objects.count() == 2
