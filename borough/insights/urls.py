"""Insight: the warehouse's dashboards and what-ifs in the staff site, open data in public."""

from django.urls import path

from borough.insights import dashboards_views, public_views

app_name = "insights"

urlpatterns: list = [
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
