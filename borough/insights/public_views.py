"""The public "How our services are doing" page (``/how-our-services-are-doing``)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from borough.core.access import public
from borough.insights import public as figures
from borough.insights import warehouse
from borough.insights.dashboards import RESULTS
from borough.transparency.coverage import data_use


@data_use(none="Headline figures from the pseudonymised warehouse, small counts hidden")
@public
def how_we_are_doing(request: HttpRequest) -> HttpResponse:
    period, headlines = None, []
    build = warehouse.current_build()
    if build is not None:
        threshold = settings.COUNCIL.open_data.threshold

        def work_out():
            with warehouse.reader(build) as con:
                return figures.headlines(con, threshold)

        # A build never changes: its figures are worked out once and kept.
        period, headlines = RESULTS.get_or_make((str(build), "public", threshold), work_out)
    return render(
        request,
        "insights/public/how_we_are_doing.html",
        {
            "period": figures.period_in_words(period) if period else "",
            "headlines": headlines,
            "page_title": "How our services are doing",
        },
    )
