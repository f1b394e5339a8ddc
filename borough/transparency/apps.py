from django.apps import AppConfig


class TransparencyConfig(AppConfig):
    name = "borough.transparency"
    label = "transparency"
    verbose_name = "Transparency (the data-use log)"
