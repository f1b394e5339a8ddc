"""Subject access exports: asking for one, preparing it in the background, downloading it, and
deleting it when it expires. Every step is recorded in the data-use log (purpose
``subject_access_export``, UK GDPR Article 15 under Article 6(1)(c)).

The document is prepared by a background job (``tasks.prepare_data_export``), always, so a
resident with years of rent entries waits on a job, not on a page; with the ``immediate`` task
backend (the default, and the tests) it is ready when the page that asked for it loads. It is
stored encrypted (Fernet, with a key derived from ``SECRET_KEY``) in the database, never under
static files, and deleted ``EXPIRES_AFTER`` after it was prepared. A changed ``SECRET_KEY`` makes
exports prepared before it unreadable: they are treated as expired.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import logging

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from borough.transparency.export import accounts_of_residents, collect, datasets_in, record_count
from borough.transparency.export_models import DataExport, SubjectAccessRequest
from borough.transparency.models import Action, ActorKind
from borough.transparency.services import record_data_use

log = logging.getLogger(__name__)

EXPIRES_AFTER = dt.timedelta(days=7)
PURPOSE = "subject_access_export"
JOB_LABEL = "Subject access export job"


def _fernet() -> Fernet:
    key = hashlib.sha256(b"borough-data-export\x00" + settings.SECRET_KEY.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def seal_payload(document: dict) -> str:
    return _fernet().encrypt(json.dumps(document, ensure_ascii=False).encode()).decode("ascii")


def open_payload(export: DataExport) -> dict | None:
    """The export's document, or None if it is gone (expired, or encrypted under an old key)."""
    if not export.payload_encrypted:
        return None
    try:
        return json.loads(_fernet().decrypt(export.payload_encrypted.encode("ascii")))
    except InvalidToken:
        return None


def _record(
    export: DataExport, *, actor, actor_kind: str, action: str, outcome: str, datasets=()
) -> None:
    record_data_use(
        subject_resident_ids=export.resident_ids,
        actor=actor,
        actor_kind=actor_kind,
        actor_label="" if actor is not None else JOB_LABEL,
        purpose=PURPOSE,
        action=action,
        datasets=datasets,
        reference=export.reference,
        outcome=outcome,
    )


def _enqueue(export: DataExport) -> None:
    from borough.transparency.tasks import prepare_data_export

    transaction.on_commit(lambda: prepare_data_export.enqueue(export.pk))


def _new_export(actor, actor_kind: str, **fields) -> DataExport:
    with transaction.atomic():
        export = DataExport.objects.create(requested_at=timezone.now(), **fields)
        _record(
            export, actor=actor, actor_kind=actor_kind, action=Action.EXPORT, outcome="requested"
        )
        _enqueue(export)
    return export


def request_resident_export(user, resident_ids: list[str]) -> DataExport:
    """A resident asks for a copy of their data: ``resident_ids`` are the IDs their account has
    proven (``export.proven_resident_ids``), never IDs taken from the request."""
    if not resident_ids:
        raise ValueError("This account has not proven any resident ID.")
    return _new_export(user, ActorKind.RESIDENT, account=user, resident_ids=list(resident_ids))


def request_officer_export(sar: SubjectAccessRequest, officer) -> DataExport:
    """An officer prepares the copy of the data for a subject access request."""
    return _new_export(officer, ActorKind.STAFF, request=sar, resident_ids=[sar.resident_id])


def prepare(export_id: int) -> str:
    """Gather the data and store it encrypted. Run by the background job."""
    with transaction.atomic():
        export = DataExport.objects.select_for_update().get(pk=export_id)
        if export.status != DataExport.Status.PREPARING:
            return export.status
        # A resident's export covers their own account, not other accounts that proved the
        # same resident ID; an officer's covers every account that proved it.
        if export.account_id:
            accounts = [export.account]
        else:
            accounts = accounts_of_residents(export.resident_ids)
        document = collect(export.resident_ids, accounts)
        document["reference"] = export.reference
        now = timezone.now()
        export.payload_encrypted = seal_payload(document)
        export.records = record_count(document)
        export.status = DataExport.Status.READY
        export.ready_at = now
        export.expires_at = now + EXPIRES_AFTER
        export.save()
        _record(
            export,
            actor=None,
            actor_kind=ActorKind.SYSTEM,
            action=Action.EXPORT,
            outcome="prepared",
            datasets=datasets_in(document),
        )
    log.info("data export %s prepared: %d records", export.reference, export.records)
    return export.status


def mark_failed(export_id: int) -> None:
    """An export whose preparation failed: said on its page. Logs its reference only."""
    failed = DataExport.objects.filter(pk=export_id, status=DataExport.Status.PREPARING)
    if failed.update(status=DataExport.Status.FAILED):
        log.warning("data export %s could not be prepared", export_id)


def is_expired(export: DataExport, now: dt.datetime | None = None) -> bool:
    now = now or timezone.now()
    if export.status == DataExport.Status.EXPIRED:
        return True
    return export.expires_at is not None and export.expires_at <= now


def expire(export: DataExport) -> None:
    """Delete an expired export's contents (the row stays, to say it expired)."""
    DataExport.objects.filter(pk=export.pk).update(
        status=DataExport.Status.EXPIRED, payload_encrypted=""
    )
    export.status, export.payload_encrypted = DataExport.Status.EXPIRED, ""


def delete_expired_exports(now: dt.datetime | None = None) -> int:
    """Delete the contents of every export past its expiry; how many."""
    now = now or timezone.now()
    return (
        DataExport.objects.filter(expires_at__lte=now)
        .exclude(status=DataExport.Status.EXPIRED)
        .update(status=DataExport.Status.EXPIRED, payload_encrypted="")
    )


def record_download(export: DataExport, *, user, kind: str) -> None:
    """Count and record one download (``kind``: json, pdf or html) before it is sent."""
    actor_kind = ActorKind.RESIDENT if getattr(user, "is_resident", False) else ActorKind.STAFF
    with transaction.atomic():
        DataExport.objects.filter(pk=export.pk).update(downloads=F("downloads") + 1)
        _record(
            export,
            actor=user,
            actor_kind=actor_kind,
            action=Action.EXPORT if kind != "html" else Action.VIEWED_RECORDS,
            outcome=f"downloaded_{kind}",
        )
