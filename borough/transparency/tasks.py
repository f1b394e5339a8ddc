"""The data-use log's background jobs (Django's task API). Arguments are dates, never objects.

``borough transparency purge --queue`` enqueues ``daily_retention_purge`` (run it from cron or
a systemd timer once a day); with ``BOROUGH_TASKS=database`` a ``borough db_worker`` runs it."""

from __future__ import annotations

from django.utils import timezone
from django_tasks import task

from borough.transparency.retention import purge


@task()
def daily_retention_purge() -> dict:
    """Purge the data-use events past the council's retention periods; the run's counts."""
    _rules, counts, run = purge(timezone.now())
    return {"run": run.pk, "purged": run.total, "kinds": len(counts)}
