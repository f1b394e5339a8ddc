""" "This is wrong": a resident's request to put a record right (UK GDPR Article 16), routed to
the staff area that owns the record's dataset, and that team's answer.

The record must be one in the resident's own export (the key is looked up there, never taken
on trust), so a request cannot name another resident's record. An officer reading a request is
a use of the resident's data and is recorded.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from borough.core.roles import areas_for
from borough.transparency.export_models import DataExport, RectificationRequest
from borough.transparency.models import Action, ActorKind
from borough.transparency.services import record_data_use

#: The data-use log's service for each staff area that answers corrections.
AREA_SERVICES = {
    "parking": "parking",
    "housing": "housing",
    "finance": "housing",
    "residents": "residents",
    "transparency": "transparency",
}
#: The staff areas that may hold a correction queue.
CORRECTION_AREAS = tuple(AREA_SERVICES)


class AlreadyAnswered(ValueError):
    pass


class CorrectionAlreadyOpen(ValueError):
    """The account already has a request waiting about this record."""

    def __init__(self, correction: RectificationRequest):
        super().__init__(f"{correction.reference} is still waiting for an answer")
        self.correction = correction


def open_correction_of(user, record: dict) -> RectificationRequest | None:
    """``user``'s request about ``record`` (an export's record) still waiting for an answer.
    A record's key names the same record in every copy of the data, so a new copy does not
    make a second request possible."""
    return RectificationRequest.objects.filter(
        account=user,
        dataset=record["dataset"][:60],
        record_key=record["key"][:200],
        status=RectificationRequest.Status.OPEN,
    ).first()


def ask_for_correction(
    *, user, export: DataExport, record: dict, what_is_wrong: str, should_be: str
) -> RectificationRequest:
    """Send a correction of ``record`` to the team that holds it. An account has at most one
    open request per record (a database constraint, so two submissions at once cannot make
    two): asking again while one waits raises ``CorrectionAlreadyOpen`` and stores nothing."""
    existing = open_correction_of(user, record)
    if existing is not None:
        raise CorrectionAlreadyOpen(existing)
    area = record["area"] if record["area"] in AREA_SERVICES else "residents"
    try:
        with transaction.atomic():
            return RectificationRequest.objects.create(
                account=user,
                resident_ids=list(export.resident_ids),
                export=export,
                record_key=record["key"][:200],
                record_title=record["title"][:200],
                dataset=record["dataset"][:60],
                dataset_title=record["dataset_title"][:200],
                owner=record["owner"][:200],
                area=area,
                what_is_wrong=what_is_wrong,
                should_be=should_be,
                created_at=timezone.now(),
            )
    except IntegrityError:
        # Another submission opened the request between the check and the insert.
        existing = open_correction_of(user, record)
        if existing is None:
            raise
        raise CorrectionAlreadyOpen(existing) from None


def queue_for(user, *, status: str = RectificationRequest.Status.OPEN):
    """The requests of the areas this officer works in, oldest first."""
    areas = [area for area in areas_for(user) if area in AREA_SERVICES]
    return RectificationRequest.objects.filter(area__in=areas, status=status).order_by(
        "created_at", "id"
    )


def record_officer_view(request_: RectificationRequest, officer) -> None:
    record_data_use(
        subject_resident_ids=request_.resident_ids,
        actor=officer,
        actor_kind=ActorKind.STAFF,
        purpose="staff_view_records",
        service=AREA_SERVICES[request_.area],
        action=Action.VIEWED_RECORDS,
        datasets=[request_.dataset],
        reference=request_.reference,
    )


def answer(request_id: int, *, officer, status: str, text: str) -> RectificationRequest:
    with transaction.atomic():
        item = RectificationRequest.objects.select_for_update().get(pk=request_id)
        if item.status != RectificationRequest.Status.OPEN:
            raise AlreadyAnswered("This request has already been answered.")
        item.status = status
        item.answer = text
        item.answered_by = officer
        item.answered_at = timezone.now()
        item.save(update_fields=["status", "answer", "answered_by", "answered_at"])
        return item
