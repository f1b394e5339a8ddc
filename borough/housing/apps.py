from django.apps import AppConfig


class HousingConfig(AppConfig):
    name = "borough.housing"
    label = "housing"
    verbose_name = "Housing (tenancies, rent accounts, Direct Debit, bank statements)"

    def ready(self) -> None:
        from django.core import checks

        from borough.housing.card_payments import post_on_success
        from borough.housing.direct_debit import check_service_user_name
        from borough.housing.linking import tell_tenants_when_checks_lock
        from borough.payments.signals import payment_succeeded
        from borough.residents.verification.signals import checks_locked

        checks_locked.connect(tell_tenants_when_checks_lock, dispatch_uid="housing-tenants-told")
        payment_succeeded.connect(post_on_success, dispatch_uid="housing-rent-card-payment")
        checks.register(check_service_user_name)
