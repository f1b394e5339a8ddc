"""Parking's background jobs (Django's task API). Arguments are IDs and dates, never objects.

``borough parking daily`` enqueues ``daily_permit_jobs`` (run it from cron or a systemd timer
once a day); with ``BOROUGH_TASKS=database`` a ``borough db_worker`` process runs it."""

from __future__ import annotations

import datetime as dt

from django_tasks import task

from borough.parking import permit_changes, reminders, services
from borough.parking.models import Permit
from borough.residents.verification.attempts import prune_expired
from borough.transparency.batches import record_batch_use
from borough.transparency.coverage import RESIDENT_DATA, data_use
from borough.transparency.models import Action


@task()
@data_use(touches=RESIDENT_DATA, purposes=["parking_permit_administration"])
def daily_permit_jobs(day: str) -> dict:
    """Renewals whose first day has come take over, then renewal reminders, proof reminders,
    and cancelling permits whose proof never came; failed identity checks older than every
    attempt limit's window are forgotten."""
    today = dt.date.fromisoformat(day)
    started = permit_changes.start_renewed_permits(today)
    record_permit_jobs(started, Action.UPDATED_RECORDS, f"renewals-{day}")
    renewal_reminders = reminders.send_renewal_reminders(today)
    proof_reminders = reminders.send_proof_reminders(today)
    record_permit_jobs(
        [sent.split(":")[0] for sent in renewal_reminders] + proof_reminders,
        Action.SENT_NOTICE,
        f"reminders-{day}",
    )
    cancelled = services.cancel_unproven_permits(today)
    record_permit_jobs(cancelled, Action.UPDATED_RECORDS, f"cancelled-unproven-{day}")
    return {
        "renewals_started": len(started),
        "renewal_reminders": len(renewal_reminders),
        "proof_reminders": len(proof_reminders),
        "cancelled_unproven": len(cancelled),
        "failed_checks_forgotten": prune_expired(),
    }


def record_permit_jobs(numbers: list[str], action: str, reference: str) -> int:
    """A daily job used these permits' holders' data: one action, recorded per batch."""
    holders = Permit.objects.filter(number__in=numbers).values_list(
        "application__resident_id", flat=True
    )
    return record_batch_use(
        holders.iterator(),
        actor_label="Borough daily permit jobs",
        purpose="parking_permit_administration",
        action=action,
        datasets=["parking_permits"],
        reference=reference,
    )
