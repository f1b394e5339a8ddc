"""Insight: the warehouse's dashboards and what-ifs in the staff site, open data in public."""

from django.urls import path

from borough.insights import dashboards_views, opendata_views, public_views, whatif_views

app_name = "insights"

urlpatterns: list = [
    # Open data, what-ifs and decision notes (in-policy): keep this block together.
    path("open-data", opendata_views.index, name="open-data"),
    path("open-data/<str:file_name>", opendata_views.download, name="open-data-file"),
    path("staff/insights/what-ifs/permits", whatif_views.permits, name="whatif-permits"),
    path(
        "staff/insights/what-ifs/permits/save",
        whatif_views.permits_save,
        name="whatif-permits-save",
    ),
    path(
        "staff/insights/what-ifs/direct-debit",
        whatif_views.direct_debit,
        name="whatif-direct-debit",
    ),
    path(
        "staff/insights/what-ifs/direct-debit/save",
        whatif_views.direct_debit_save,
        name="whatif-direct-debit-save",
    ),
    path("staff/insights/decision-notes", whatif_views.notes, name="decision-notes"),
    path(
        "staff/insights/decision-notes/<int:note_id>",
        whatif_views.note,
        name="decision-note",
    ),
    # End of the in-policy block.
    # Dashboards and the public "How our services are doing" page (dashboards*.py, public*.py).
    path("staff/insights/dashboards/", dashboards_views.dashboard_list, name="dashboards"),
    path(
        "staff/insights/dashboards/<slug:dashboard>",
        dashboards_views.dashboard_page,
        name="dashboard",
    ),
    path(
        "staff/insights/dashboards/<slug:dashboard>/<slug:chart>.csv",
        dashboards_views.dashboard_csv,
        name="dashboard-csv",
    ),
    path("how-our-services-are-doing", public_views.how_we_are_doing, name="public-figures"),
    # End of dashboards and the public page.
]
