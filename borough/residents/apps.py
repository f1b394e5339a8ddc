from django.apps import AppConfig

#: The system check tag of the verification policies' check (``borough check`` runs it; so do
#: ``runserver`` and every command but ``borough residents``).
VERIFICATION_TAG = "verification_policies"


class ResidentsConfig(AppConfig):
    name = "borough.residents"
    label = "residents"
    verbose_name = "Residents (source datasets and the resident index)"

    def ready(self) -> None:
        from django.core import checks

        from borough.residents.verification.attempts import check_attempt_limit_settings
        from borough.residents.verification.policies import check_verification_policies

        checks.register(check_attempt_limit_settings, checks.Tags.security)
        # tagged, so that the residents commands, which load and link data and verify no one,
        # run without it: a council sets up its policies after loading its datasets
        checks.register(check_verification_policies, VERIFICATION_TAG)
