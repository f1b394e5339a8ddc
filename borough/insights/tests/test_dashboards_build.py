"""The dashboards and the public page over a warehouse that ``borough insights build`` made from
a small borough full of personal details: every page and download works, and none of those
details, nor any source ID, shows anywhere."""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command
from django.test import Client

from borough.core.services import create_staff_account
from borough.core.testing import sign_in_staff
from borough.insights.dashboards import DASHBOARDS
from borough.insights.tests.factories import make_small_borough

pytestmark = pytest.mark.django_db


def test_every_dashboard_and_download_over_a_real_build_shows_no_one(settings, tmp_path):
    settings.BOROUGH_WAREHOUSE_DIR = str(tmp_path / "warehouse")
    # Show every count, however small, so that any detail that leaked would be on the page.
    open_data = settings.COUNCIL.open_data.model_copy(update={"threshold": 1})
    settings.COUNCIL = settings.COUNCIL.model_copy(update={"open_data": open_data})
    small = make_small_borough()
    call_command("insights", "build", quiet=True)
    user, _ = create_staff_account("analyst", ["data-analyst"])
    analyst = Client()
    sign_in_staff(analyst, user)

    pages = [Client().get("/how-our-services-are-doing").content.decode()]
    assert "Rent collected" in pages[0]
    for slug in DASHBOARDS:
        response = analyst.get(f"/staff/insights/dashboards/{slug}")
        assert response.status_code == 200, slug
        html = response.content.decode()
        assert "Showing " in html and "<svg" in html, slug
        pages.append(html)
        for link in re.findall(r'href="(/staff/insights/dashboards/[^"]+\.csv\?[^"]*)"', html):
            download = analyst.get(link.replace("&amp;", "&"))
            assert download.status_code == 200, link
            pages.append(download.content.decode())
    # Source IDs as short as "2" would be found in any page; the longer ones must not be.
    secrets = small.identifying | {i for i in small.raw_ids if len(i) >= 6}
    for text in pages:
        for secret in secrets:
            assert secret not in text, secret
