from django.apps import AppConfig


class ResidentsConfig(AppConfig):
    name = "borough.residents"
    label = "residents"
    verbose_name = "Residents (source datasets and the resident index)"

    def ready(self) -> None:
        from django.core import checks

        from borough.residents.verification.attempts import check_attempt_limit_settings
        from borough.residents.verification.policies import check_verification_policies

        checks.register(check_attempt_limit_settings, checks.Tags.security)
        checks.register(check_verification_policies)
