from django.apps import AppConfig


class HousingConfig(AppConfig):
    name = "borough.housing"
    label = "housing"
    verbose_name = "Housing (tenancies, rent accounts, Direct Debit, bank statements)"
