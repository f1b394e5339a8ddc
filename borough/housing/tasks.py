"""Housing's background jobs (Django's task API): ``borough housing daily`` enqueues
``daily_housing_jobs`` once a day (cron or a timer; ``docs/background-jobs.md``); the finance
page enqueues ``import_uploaded_statement`` for each statement file uploaded."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q
from django_tasks import task

from borough.housing import accounts, services
from borough.housing.models import PaymentArrangement, RentAccount
from borough.housing.rent_weeks import monday_of
from borough.residents.verification.attempts import prune_expired
from borough.transparency.coverage import RESIDENT_DATA, data_use
from borough.transparency.models import Action


@task()
@data_use(touches=RESIDENT_DATA, purposes=["housing_rent_account_administration"])
def daily_housing_jobs(day: str) -> dict:
    """This week's charges (posted once, however often it runs), every live arrangement's
    status brought up to date, rent-change notices to standing-order payers, and Direct Debit
    advance notices of changed amounts; failed identity checks older than every attempt
    limit's window are forgotten."""
    today = dt.date.fromisoformat(day)
    charges = services.post_weekly_charges(monday_of(today))
    changed = []
    for arrangement in PaymentArrangement.objects.filter(status__in=["live", "breached"]):
        before = arrangement.status
        services.refresh_arrangement(arrangement, today=today)
        if arrangement.status != before:
            changed.append(arrangement.account_id)
    accounts.record_tenants_use(
        RentAccount.objects.filter(pk__in=changed).values("tenancy_id"),
        None,
        purpose="housing_rent_account_administration",
        action=Action.UPDATED_RECORDS,
        reference=f"arrangements-{today:%Y-%m-%d}",
        label="Borough payment arrangements",
    )
    from borough.housing.direct_debit import advance_notices
    from borough.housing.notices import standing_order_rent_change_notices

    notices = standing_order_rent_change_notices(today)
    dd_notices = advance_notices(today)
    sent_to = RentAccount.objects.filter(
        Q(payment_reference__in=notices) | Q(mandates__reference__in=dd_notices)
    )
    accounts.record_tenants_use(
        sent_to.values("tenancy_id"),
        None,
        purpose="housing_rent_account_administration",
        action=Action.SENT_NOTICE,
        reference=f"rent-notices-{today:%Y-%m-%d}",
        label="Borough rent notices",
    )
    return {
        "charges_posted": charges.posted,
        "arrangements_changed": len(changed),
        "rent_change_notices": len(notices),
        "direct_debit_notices": len(dd_notices),
        "failed_checks_forgotten": prune_expired(),
    }


@task()
@data_use(touches=RESIDENT_DATA, purposes=["housing_payment_matching"])
def import_uploaded_statement(upload_id: int) -> str:
    """Import a statement file uploaded on the finance page (``statement_uploads.run_upload``:
    progress recorded on the upload as it goes, the file deleted once read)."""
    from borough.housing.statement_uploads import run_upload

    return run_upload(upload_id)
