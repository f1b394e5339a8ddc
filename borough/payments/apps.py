from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "borough.payments"
    label = "payments"
    verbose_name = "Payments (GOV.UK Pay and the local provider)"
