"""Housing's background jobs (Django's task API): ``borough housing daily`` enqueues
``daily_housing_jobs`` once a day (cron or a timer; ``docs/background-jobs.md``); the finance
page enqueues ``import_uploaded_statement`` for each statement file uploaded."""

from __future__ import annotations

import datetime as dt

from django_tasks import task

from borough.housing import services
from borough.housing.models import PaymentArrangement
from borough.housing.rent_weeks import monday_of
from borough.residents.verification.attempts import prune_expired


@task()
def daily_housing_jobs(day: str) -> dict:
    """This week's charges (posted once, however often it runs), every live arrangement's
    status brought up to date, rent-change notices to standing-order payers, and Direct Debit
    advance notices of changed amounts; failed identity checks older than every attempt
    limit's window are forgotten."""
    today = dt.date.fromisoformat(day)
    charges = services.post_weekly_charges(monday_of(today))
    changed = 0
    for arrangement in PaymentArrangement.objects.filter(status__in=["live", "breached"]):
        before = arrangement.status
        services.refresh_arrangement(arrangement, today=today)
        changed += arrangement.status != before
    from borough.housing.direct_debit import advance_notices
    from borough.housing.notices import standing_order_rent_change_notices

    notices = standing_order_rent_change_notices(today)
    dd_notices = advance_notices(today)
    return {
        "charges_posted": charges.posted,
        "arrangements_changed": changed,
        "rent_change_notices": len(notices),
        "direct_debit_notices": len(dd_notices),
        "failed_checks_forgotten": prune_expired(),
    }


@task()
def import_uploaded_statement(upload_id: int) -> str:
    """Import a statement file uploaded on the finance page (``statement_uploads.run_upload``:
    progress recorded on the upload as it goes, the file deleted once read)."""
    from borough.housing.statement_uploads import run_upload

    return run_upload(upload_id)
