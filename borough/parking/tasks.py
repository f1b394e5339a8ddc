"""Parking's background jobs (Django's task API). Arguments are IDs and dates, never objects.

``borough parking daily`` enqueues ``daily_permit_jobs`` (run it from cron or a systemd timer
once a day); with ``BOROUGH_TASKS=database`` a ``borough db_worker`` process runs it."""

from __future__ import annotations

import datetime as dt

from django_tasks import task

from borough.parking import reminders, services
from borough.residents.verification.attempts import prune_expired


@task()
def daily_permit_jobs(day: str) -> dict:
    """Renewals whose first day has come take over, then renewal reminders, proof reminders,
    and cancelling permits whose proof never came; failed identity checks older than every
    attempt limit's window are forgotten."""
    today = dt.date.fromisoformat(day)
    return {
        "renewals_started": len(services.start_renewed_permits(today)),
        "renewal_reminders": len(reminders.send_renewal_reminders(today)),
        "proof_reminders": len(reminders.send_proof_reminders(today)),
        "cancelled_unproven": len(services.cancel_unproven_permits(today)),
        "failed_checks_forgotten": prune_expired(),
    }
