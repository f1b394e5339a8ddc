"""Transparency's background jobs (Django's task API; ``docs/background-jobs.md``)."""

from __future__ import annotations

from django_tasks import task


@task()
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
def delete_expired_data_exports() -> int:
    """Delete the contents of every subject access export past its expiry."""
    from borough.transparency.export_services import delete_expired_exports

    return delete_expired_exports()
