"""Notices tenants get on a timetable: before the rent changes (each April), a tenant who pays
by standing order is told the new amount for their frequency, because their bank keeps paying
the old one until they change it (the classic April shortfall). Each notice is sent once."""

from __future__ import annotations

import datetime as dt

from django.core.mail import send_mail
from django.db import IntegrityError, transaction

from borough.housing import reconcile, services
from borough.housing.accounts import FREQUENCY_NAMES, pounds, standing_order_amounts
from borough.housing.models import ChargeRate, RentAccount, TenantNotice


def standing_order_rent_change_notices(today: dt.date, *, lead_days: int = 28) -> list[str]:
    """Email tenants paying by standing order whose charges change within ``lead_days``: the
    new weekly charge and the new standing-order amount. Returns the accounts' references."""
    sent = []
    changing = (
        ChargeRate.objects.filter(
            effective_from__gt=today, effective_from__lte=today + dt.timedelta(days=lead_days)
        )
        .values_list("account_id", "effective_from")
        .distinct()
    )
    for account_id, effective in sorted(set(changing)):
        account = RentAccount.objects.select_related("tenancy").get(pk=account_id)
        if account.closed_on:
            continue
        check = reconcile.check_standing_order(account, today=today)
        if check.frequency is None:
            continue  # not paying by standing order
        emails = [t.email for t in account.tenancy.tenants.all() if t.email]
        if not emails:
            continue
        key = f"so-rent-change:{account.pk}:{effective.isoformat()}"
        new_weekly = sum(services.weekly_charge_pence(account, effective).values())
        amount = standing_order_amounts(account, today=effective)[check.frequency]
        subject = f"Your rent changes on {effective:%-d %B %Y}: change your standing order"
        try:
            with transaction.atomic():
                TenantNotice.objects.create(account=account, key=key, subject=subject)
                send_mail(
                    subject,
                    f"From {effective:%-d %B %Y} your rent and charges will be "
                    f"{pounds(new_weekly)} a week.\n\n"
                    f"You pay by standing order ({FREQUENCY_NAMES[check.frequency].lower()}). "
                    f"Please change it to {pounds(amount)} from your first payment after that "
                    f"date, with the reference {account.payment_reference}.",
                    None,
                    emails,
                )
        except IntegrityError:
            continue  # sent already
        sent.append(account.payment_reference)
    return sent
