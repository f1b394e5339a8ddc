"""Insight: the warehouse's dashboards and what-ifs in the staff site, open data in public."""

app_name = "insights"

urlpatterns: list = []
