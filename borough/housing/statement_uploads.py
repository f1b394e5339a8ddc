"""Statement files uploaded on the finance page, imported by a background job.

The rules:

- an upload is refused before it is stored if it is bigger than the limit the page states
  (:func:`upload_limit_bytes`, the setting ``BOROUGH_STATEMENT_UPLOAD_MAX_BYTES``);
- the file is kept in the default storage only until the job has read it, then deleted (it
  holds payers' names and account numbers): imported or refused, it does not stay;
- the job (``tasks.import_uploaded_statement``) is queued when the upload's transaction commits
  and records on the upload what it is doing and how far it has got, committed as it goes, so
  the upload's page shows progress while a large file is read and matched;
- the import itself is ``statement_import.import_statement``: all or nothing, never twice. A refused
  file's message names the file and the problem; an unexpected failure says nothing was
  imported and gives the upload's number for the council's ICT (the log has its type, never
  the file's contents).
"""

from __future__ import annotations

import logging
import uuid
from pathlib import Path

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from borough.housing import statement_import
from borough.housing.models import StatementUpload

logger = logging.getLogger(__name__)

Status = StatementUpload.Status

#: The default size limit: a day's statement of 100,000 entries in camt.053 is about 60MB.
DEFAULT_LIMIT_BYTES = 200 * 1024 * 1024


def upload_limit_bytes() -> int:
    return int(getattr(settings, "BOROUGH_STATEMENT_UPLOAD_MAX_BYTES", DEFAULT_LIMIT_BYTES))


def size_text(size: int) -> str:
    """A size as the page states it: 200MB, 1KB."""
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):,.0f}MB"
    return f"{max(1, round(size / 1024))}KB"


def start_upload(file: UploadedFile, *, format: str, user) -> StatementUpload:
    """Store the uploaded file and queue its import (when this transaction commits)."""
    from borough.housing.tasks import import_uploaded_statement

    if file.size is not None and file.size > upload_limit_bytes():
        raise ValueError(f"{file.name} is bigger than {size_text(upload_limit_bytes())}")
    name = f"statement-uploads/{uuid.uuid4().hex}{Path(file.name or '').suffix[:10]}"
    with transaction.atomic():
        stored = default_storage.save(name, file)
        upload = StatementUpload.objects.create(
            file_name=(file.name or "upload")[:255],
            size_bytes=file.size or 0,
            format=format,
            stored_name=stored,
            stage=Status.QUEUED.label,
            requested_by=user,
        )
        transaction.on_commit(lambda: import_uploaded_statement.enqueue(upload.pk))
    return upload


def run_upload(upload_id: int) -> str:
    """Import an uploaded statement, recording progress on the upload; returns its status.
    Running it again for an upload that has finished changes nothing."""
    upload = StatementUpload.objects.select_related("requested_by").get(pk=upload_id)
    if upload.finished or not upload.stored_name:
        return upload.status
    StatementUpload.objects.filter(pk=upload.pk).update(status=Status.RUNNING)
    last = {"stage": "", "percent": -1}

    def progress(stage: str, percent: int) -> None:
        # Committed as it goes (outside the import's own transaction), at most every 5%.
        if stage != last["stage"] or percent - last["percent"] >= 5 or percent == 100:
            last.update(stage=stage, percent=percent)
            StatementUpload.objects.filter(pk=upload.pk).update(
                stage=stage, progress_percent=percent
            )

    status, message, record = Status.REFUSED, "", None
    try:
        with default_storage.open(upload.stored_name, "rb") as handle:
            result = statement_import.import_statement(
                handle,
                file_name=upload.file_name,
                format=upload.format or None,
                user=upload.requested_by,
                progress=progress,
            )
        status, message, record = Status.DONE, result.summary(), result.record
    except statement_import.ImportRefused as refused:
        message = str(refused)
    except Exception as error:
        logger.error("Statement upload %s failed: %s", upload.pk, type(error).__name__)
        message = statement_import.nothing_imported(
            f"{upload.file_name} could not be imported because of an unexpected error. Tell "
            f"the council's ICT team (statement upload {upload.pk})"
        )
        raise
    finally:
        default_storage.delete(upload.stored_name)
        StatementUpload.objects.filter(pk=upload.pk).update(
            status=status,
            message=message,
            statement_import=record,
            stored_name="",
            stage=Status(status).label,
            progress_percent=100,
            finished_at=timezone.now(),
        )
    return status
