from django.apps import AppConfig


def rent_for_account_page(user):
    """The tenant's rent accounts for their account page (``borough.core.account_summary``),
    read through ``accounts.summary``, which records the view in the data-use log."""
    from django.urls import reverse
    from django.utils import timezone

    from borough.core.account_summary import AccountItem, AccountSection
    from borough.housing import accounts

    items = []
    for account in accounts.accounts_of(user):
        summary = accounts.summary(account, user, today=timezone.localdate())
        balance = summary.balance_pence
        if balance > 0:
            detail = f"You owe {accounts.pounds(balance)}"
        elif balance < 0:
            detail = f"{accounts.pounds(-balance)} in credit"
        else:
            detail = "Nothing owed"
        items.append(
            AccountItem(
                title=f"Rent account {account.payment_reference}",
                detail=f"{account.tenancy.property.single_line()}. {detail}",
                url=reverse("housing:account", kwargs={"reference": account.payment_reference}),
                attention="In arrears" if summary.arrears_pence > 0 else "",
            )
        )
    return AccountSection(
        heading="Rent",
        items=items,
        empty="Your account is not linked to a rent account.",
        start=None if items else ("Find your rent account", reverse("housing:link")),
    )


def _check_service_user_name(app_configs=None, **kwargs) -> list:
    """``direct_debit.check_service_user_name``, imported when ``borough check`` runs: the Bacs
    calendar and modulus checking it loads (holidays, uk_mod_check) would otherwise slow the
    start of every command."""
    from borough.housing.direct_debit import check_service_user_name

    return check_service_user_name(app_configs, **kwargs)


class HousingConfig(AppConfig):
    name = "borough.housing"
    label = "housing"
    verbose_name = "Housing (tenancies, rent accounts, Direct Debit, bank statements)"

    def ready(self) -> None:
        from django.core import checks

        from borough.core.account_summary import register as register_account_section
        from borough.housing.card_payments import post_on_success
        from borough.housing.linking import tell_tenants_when_checks_lock
        from borough.payments.signals import payment_succeeded
        from borough.residents.verification.signals import checks_locked

        register_account_section("housing", rent_for_account_page)
        checks_locked.connect(tell_tenants_when_checks_lock, dispatch_uid="housing-tenants-told")
        payment_succeeded.connect(post_on_success, dispatch_uid="housing-rent-card-payment")
        checks.register(_check_service_user_name)
