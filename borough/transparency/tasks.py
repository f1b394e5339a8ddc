"""Transparency's background jobs (Django's task API; ``docs/background-jobs.md``). Arguments are
IDs and dates, never objects.

``borough transparency purge --queue`` enqueues ``daily_retention_purge`` (run it from cron or a
systemd timer once a day); with ``BOROUGH_TASKS=database`` a ``borough db_worker`` runs it. The
same daily job anonymises the records of source datasets and services past their periods
(``record_retention``) and deletes the subject access exports past their expiry."""

from __future__ import annotations

from django_tasks import task

from borough.transparency.coverage import RESIDENT_DATA, data_use


@task()
@data_use(touches=RESIDENT_DATA, purposes=["subject_access_export"])
def prepare_data_export(export_id: int) -> str:
    """Gather a subject access export and store it encrypted (``export_services.prepare``). If
    it fails, the export says so (the resident can ask again) and the job fails."""
    from borough.transparency.export_services import mark_failed, prepare

    try:
        return prepare(export_id)
    except Exception:
        mark_failed(export_id)
        raise


@task()
@data_use(none="Deletes expired copies; reads no one's data")
def delete_expired_data_exports() -> int:
    """Delete the contents of every subject access export past its expiry."""
    from borough.transparency.export_services import delete_expired_exports

    return delete_expired_exports()


@task()
@data_use(touches=RESIDENT_DATA, purposes=["data_use_retention_purge", "records_retention_purge"])
def daily_retention_purge() -> dict:
    """Purge the data-use events past the council's retention periods and anonymise the records
    past theirs; the run's counts."""
    from django.utils import timezone

    from borough.transparency.export_services import delete_expired_exports
    from borough.transparency.retention import purge

    done = purge(timezone.now())
    expired = delete_expired_exports()
    return {
        "run": done.run.pk,
        "purged": done.run.total,
        "kinds": len(done.counts),
        "anonymised": done.records_total,
        "exports_deleted": expired,
    }
