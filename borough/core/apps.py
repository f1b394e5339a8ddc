from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "borough.core"
    label = "core"
    verbose_name = "Borough core"
