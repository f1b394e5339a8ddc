"""Which data-use events a resident may see, and the data protection officer's release of a
held-back one.

A restricted event (``record_data_use(restriction_reason_code=…)``, for an investigation) is
held back from its resident until its ``hidden_until`` date (UK time, from the first moment of
that day) or until the data protection officer releases it. The hold is part of the event row,
written at insert; a release is a new row (``EventDisclosure``), never a change, and is itself
recorded as a data-use event. Estonia's Data Tracker (``hiddenUntil``, ``disclose``) is the model.

``visible_to_resident`` is the only filter a resident's pages may use.
"""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from borough.core.models import User
from borough.core.roles import may_enter
from borough.transparency.models import Action, ActorKind, DataUseEvent, EventDisclosure
from borough.transparency.services import record_data_use

REASON_MAX = 1000


class ReleaseError(ValueError):
    """A release that cannot be made; the message says why, for the officer."""


def _released() -> Exists:
    return Exists(EventDisclosure.objects.filter(event_id=OuterRef("pk")))


def visible_to_resident(queryset: QuerySet, now: dt.datetime) -> QuerySet:
    """``queryset`` (of ``DataUseEvent``) narrowed to what its resident may see at ``now``:
    ordinary events, restricted events whose date has come, and released ones."""
    today = timezone.localdate(now)
    # "Released" is asked as one uncorrelated ``IN``, not ``_released()``'s ``EXISTS``: both
    # select the same events (``event_id`` is never null), but PostgreSQL's planner prices an
    # ``EXISTS`` under ``OR`` as a scan of the releases for every event, so a resident with
    # 20,000 events got a count priced high enough to be JIT-compiled (twice the time), and an
    # ``IN`` it prices as one hash of the releases. docs/data-use-log.md, "Speed".
    released = Q(pk__in=EventDisclosure.objects.values("event_id"))
    return queryset.filter(Q(restriction_reason_code="") | Q(hidden_until__lte=today) | released)


def held_events(now: dt.datetime) -> QuerySet:
    """Restricted events still held back at ``now``, oldest first, without the system's own
    records of the holds (each follows its event when that is released)."""
    today = timezone.localdate(now)
    return (
        DataUseEvent.objects.exclude(restriction_reason_code="")
        .exclude(action=Action.HELD_BACK)
        .filter(Q(hidden_until__isnull=True) | Q(hidden_until__gt=today))
        .exclude(_released())
        .order_by("occurred_at", "id")
    )


def release_event(
    event_id: int, *, officer: User, reason: str, now: dt.datetime | None = None
) -> EventDisclosure:
    """Release the held-back event ``event_id`` (and the record of its hold) to its resident.

    Only a staff member with the Data protection area may; the reason is required. Records the
    release as a ``data_use_disclosure`` event, in the same transaction.
    """
    if not officer.is_authenticated or not may_enter(officer, "transparency"):
        raise ReleaseError("Only the data protection officer can release a held-back entry.")
    reason = (reason or "").strip()
    if not reason:
        raise ReleaseError("Enter why you are releasing this entry")
    if len(reason) > REASON_MAX:
        raise ReleaseError(f"The reason must be {REASON_MAX} characters or fewer")
    now = now or timezone.now()
    event = held_events(now).filter(pk=event_id).first()
    if event is None:
        raise ReleaseError("This entry is not held back: it may have been released already")
    holds = DataUseEvent.objects.filter(
        action=Action.HELD_BACK,
        reference=f"action:{event.action_id}",
        subject_resident_id=event.subject_resident_id,
    ).values_list("pk", flat=True)
    try:
        with transaction.atomic():
            disclosure = EventDisclosure.objects.create(
                event_id=event.pk, released_at=now, released_by=officer, reason=reason
            )
            EventDisclosure.objects.bulk_create(
                [
                    EventDisclosure(
                        event_id=pk, released_at=now, released_by=officer, reason=reason
                    )
                    for pk in holds
                ]
            )
            record_data_use(
                subject_resident_ids=[event.subject_resident_id]
                if event.subject_resident_id
                else [],
                actor=officer,
                actor_kind=ActorKind.STAFF,
                actor_label="Data protection officer",
                purpose="data_use_disclosure",
                action=Action.RELEASED,
                datasets=["data_use_log"],
                reference=f"event:{event.pk}",
            )
    except IntegrityError:
        raise ReleaseError(
            "This entry is not held back: it may have been released already"
        ) from None
    return disclosure
