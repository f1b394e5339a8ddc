from django.apps import AppConfig


class InsightsConfig(AppConfig):
    name = "borough.insights"
    label = "insights"
    verbose_name = "Insight (warehouse, dashboards, what-ifs, open data)"
