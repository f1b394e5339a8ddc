"""The public "How our services are doing" page (``/how-our-services-are-doing``)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from borough.core.access import public
from borough.insights import public as figures
from borough.insights import warehouse


@public
def how_we_are_doing(request: HttpRequest) -> HttpResponse:
    period, headlines = None, []
    try:
        con = warehouse.connect()
    except warehouse.WarehouseMissing:
        con = None
    if con is not None:
        with con:
            period, headlines = figures.headlines(
                con, settings.COUNCIL.insights.disclosure_threshold
            )
    return render(
        request,
        "insights/public/how_we_are_doing.html",
        {
            "period": figures.period_in_words(period) if period else "",
            "headlines": headlines,
            "page_title": "How our services are doing",
        },
    )
