"""Charts drawn ahead: once a build is published, every dashboard's charts for its default view
(the last 12 months, all wards) and then for each ward are drawn and kept in the build's folder,
so that the first view of a page after a build reads its SVGs instead of drawing them.

vl-convert costs tens of milliseconds of CPU a chart whatever the warehouse's size, which is most
of a page drawn from nothing; a drawing kept here costs a file read. A drawing is found by the
SHA-256 of its chart's whole Vega-Lite spec (``charts.kept_drawing``), so it can only be served
for exactly the figures it shows, and a new build starts with none. Pages never write drawings:
a view no one drew ahead (another period) is drawn in the request as before.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from pathlib import Path

from django.utils import timezone

from borough.insights import aggregates, dashboards_queries, warehouse
from borough.insights.charts import draw_svg, keep_drawing, kept_drawing
from borough.insights.dashboards import DASHBOARDS, Context
from borough.insights.dashboards_forms import DashboardFiltersForm
from borough.insights.dashboards_queries import Filters


@dataclass
class Drawn:
    views: int = 0
    charts: int = 0
    drawn: int = 0
    seconds: float = 0.0
    skipped: str = ""


def views(con, *, wards: bool = True) -> list[Filters]:
    """The filters drawn ahead, as a page's form makes them: the default view first, then (with
    ``wards``) the same period for each ward."""
    months, ward_list = dashboards_queries.months(con), dashboards_queries.wards(con)
    form = DashboardFiltersForm({}, months=months, wards=ward_list)
    if not form.is_valid():
        return []
    default = form.filters()
    codes = [code for code, _ in ward_list] if wards else []
    return [default] + [Filters(default.start, default.end, code) for code in codes]


def draw_ahead(
    build: Path | None = None, *, wards: bool = True, today: dt.date | None = None
) -> Drawn:
    """Draw and keep the charts of every dashboard's default view (and, with ``wards``, of each
    ward's) for ``build`` (the published one by default). Nothing is drawn for a build that is
    no longer the published one: its drawings would never be read."""
    started = time.perf_counter()
    result = Drawn()
    current = warehouse.current_build()
    build = build or current
    if build is None or build != current:
        result.skipped = "not the published build"
        return result
    context = Context.from_profile(today or timezone.localdate(), str(build))
    with warehouse.reader(build) as con:
        if not aggregates.present(con):
            result.skipped = "no summary tables"
            return result
        for filters in views(con, wards=wards):
            result.views += 1
            for dashboard in DASHBOARDS.values():
                for chart in dashboard.charts(con, filters, context):
                    result.charts += 1
                    spec = chart.spec_json()
                    if kept_drawing(build, spec) is None:
                        # Not through the page's in-process cache: this process draws each
                        # chart once and has no page to serve it to.
                        keep_drawing(build, spec, draw_svg.__wrapped__(spec))
                        result.drawn += 1
    result.seconds = time.perf_counter() - started
    return result
