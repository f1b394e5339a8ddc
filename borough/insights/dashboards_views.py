"""The staff dashboards' pages and CSV downloads (``/staff/insights/dashboards/…``).

They read only the published warehouse, which holds pseudonymised keys and no one's identity,
and show only counts of at least the disclosure threshold; so they read no resident's data and
write nothing to the data-use log.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from borough.core.access import staff_area
from borough.insights import aggregates, dashboards_queries, warehouse
from borough.insights.dashboards import DASHBOARDS, RESULTS, Context
from borough.insights.dashboards_forms import DashboardFiltersForm
from borough.transparency.coverage import data_use


def _dashboard(slug: str):
    try:
        return DASHBOARDS[slug]
    except KeyError:
        raise Http404("There is no such dashboard.") from None


def build_id() -> str | None:
    build = warehouse.current_build()
    return build.name if build else None


@data_use(none="Reads the pseudonymised warehouse: counts and sums, small counts hidden")
@staff_area("insights")
def dashboard_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "insights/dashboards/index.html",
        {
            "dashboards": DASHBOARDS.values(),
            "build": build_id(),
            "page_title": "Dashboards",
        },
    )


def _charts(request: HttpRequest, dashboard):
    """The filter form and, when it is valid, the dashboard's charts; (None, None) with no
    warehouse. Results are kept per build (``RESULTS``)."""
    build = warehouse.current_build()
    if build is None:
        return None, None
    try:
        con = warehouse.reader(build)
    except warehouse.WarehouseMissing:
        return None, None
    with con:
        # A warehouse built before the summary tables existed has none until the next build.
        if not RESULTS.get_or_make((str(build), "summaries"), lambda: aggregates.present(con)):
            return None, None
        months, wards = RESULTS.get_or_make(
            (str(build), "filters"),
            lambda: (dashboards_queries.months(con), dashboards_queries.wards(con)),
        )
        form = DashboardFiltersForm(request.GET, months=months, wards=wards)
        charts = []
        if form.is_valid():
            context = Context.from_profile(timezone.localdate(), str(build))
            filters = form.filters()
            charts = RESULTS.get_or_make(
                (str(build), dashboard.slug, filters, context),
                lambda: dashboard.charts(con, filters, context),
            )
    return form, charts


@data_use(none="Reads the pseudonymised warehouse: counts and sums, small counts hidden")
@staff_area("insights")
def dashboard_page(request: HttpRequest, dashboard: str) -> HttpResponse:
    board = _dashboard(dashboard)
    form, charts = _charts(request, board)
    return render(
        request,
        "insights/dashboards/dashboard.html",
        {
            "dashboard": board,
            "form": form,
            "charts": charts,
            "build": build_id(),
            "page_title": board.title,
        },
        status=400 if form is not None and form.errors else 200,
    )


@data_use(none="Reads the pseudonymised warehouse: counts and sums, small counts hidden")
@staff_area("insights")
def dashboard_csv(request: HttpRequest, dashboard: str, chart: str) -> HttpResponse:
    """One chart's table as CSV, under the same filters as the page that links to it."""
    form, charts = _charts(request, _dashboard(dashboard))
    if form is None:
        raise Http404("No warehouse has been built yet.")
    if form.errors:
        problems = "; ".join(e for errors in form.errors.values() for e in errors)
        return HttpResponse(problems, status=400, content_type="text/plain; charset=utf-8")
    found = next((c for c in charts if c.slug == chart), None)
    if found is None:
        raise Http404("This dashboard has no such chart.")
    filters = form.filters()
    ward = "all-wards" if filters.ward is None else (filters.ward or "ward-not-known")
    name = f"{found.slug}_{filters.start:%Y-%m}_{filters.end:%Y-%m}_{ward}.csv"
    response = HttpResponse(found.csv(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
