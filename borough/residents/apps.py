from django.apps import AppConfig


class ResidentsConfig(AppConfig):
    name = "borough.residents"
    label = "residents"
    verbose_name = "Residents (source datasets and the resident index)"
