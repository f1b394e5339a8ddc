from django.apps import AppConfig
from django.core import checks


class CoreConfig(AppConfig):
    name = "borough.core"
    label = "core"
    verbose_name = "Borough core"

    def ready(self) -> None:
        from borough.core.checks import check_email_settings
        from borough.core.ratelimit import check_rate_limit_settings

        checks.register(check_rate_limit_settings, checks.Tags.security)
        checks.register(check_email_settings)
