"""The public "How our services are doing" page: headline figures from the warehouse, each with
its period and how it is counted; small figures not published; no warehouse said plainly."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from borough.insights.tests import dashboards_warehouse
from borough.insights.tests.dashboards_warehouse import REGISTRATION, RESIDENT_NAME

_small_warehouse_root = dashboards_warehouse._small_warehouse_root
small_warehouse = dashboards_warehouse.small_warehouse
no_warehouse = dashboards_warehouse.no_warehouse

pytestmark = pytest.mark.django_db


def _figures(html: str) -> dict[str, str]:
    return dict(
        re.findall(
            r'<h2 class="govuk-heading-m"[^>]*>([^<]+)</h2>\s*<p class="govuk-heading-xl[^"]*">([^<]+)</p>',
            html,
        )
    )


def test_anyone_sees_the_headline_figures_with_their_period_and_how_they_are_counted(
    small_warehouse,
):
    response = Client().get("/how-our-services-are-doing")
    assert response.status_code == 200
    html = response.content.decode()
    assert _figures(html) == {
        # 22 of 25 permit applications decided with no officer
        "Applications decided automatically": "88%",
        # the median of 22 one-minute waits and 3 two-day waits
        "Time to get a parking permit": "1 minute",
        # 25 accounts × 3 months × £100, less the two November payments missed and the one
        # reversed
        "Rent collected": "£7,200.00",
        # 9 of 12 responses satisfied or very satisfied
        "How people rated our services": "75%",
    }
    assert "96% of the rent and charges due" in html
    assert html.count("Period: September 2026 to November 2026.") == 4
    assert html.count("How we count this") == 4
    assert RESIDENT_NAME not in html and REGISTRATION not in html


def test_a_figure_resting_on_too_few_people_is_not_published(small_warehouse, settings):
    open_data = settings.COUNCIL.open_data.model_copy(update={"threshold": 13})
    settings.COUNCIL = settings.COUNCIL.model_copy(update={"open_data": open_data})
    html = Client().get("/how-our-services-are-doing").content.decode()
    figures = _figures(html)
    assert figures["How people rated our services"] == "[c]"  # 12 responses
    assert figures["Applications decided automatically"] == "88%"  # 25 applications
    assert figures["Rent collected"] == "£7,200.00"  # 25 accounts paid
    assert "it would rest on fewer than 13 people" in html


def test_the_page_says_when_nothing_has_been_published_yet(no_warehouse):
    response = Client().get("/how-our-services-are-doing")
    assert response.status_code == 200
    assert "We have not published any figures yet." in response.content.decode()


def test_a_figure_with_nothing_to_count_says_so_instead_of_c():
    from borough.insights.public import NOTHING, _share

    assert _share(0, 0, 10) == NOTHING  # no one: not "[c]", which would say a few people
    assert _share(3, 7, 10) == "[c]"
    assert _share(9, 12, 10) == "75%"
