"""Subject access requests that come in by letter, email or phone: recording them, their
statutory deadline, the queue, and answering them with the same export a resident gets.

The deadline is one calendar month from the day the request was received (ICO guidance): the
corresponding date next month, or the last day of next month if it has no such date (31 January
-> 28 or 29 February). A complex request may be extended by two further months (three months
from receipt, by the same rule), with the reason recorded, but only within the first month: UK
GDPR Art. 12(3) has the person told of an extension within one month of receipt, so once the
statutory deadline has passed the request stays overdue and cannot be extended.
"""

from __future__ import annotations

import calendar
import datetime as dt

from django.db import transaction
from django.utils import timezone

from borough.core.dates import date_in_words
from borough.transparency.export_models import SubjectAccessRequest

#: A request due within this many days is tagged "due soon" in the queue.
DUE_SOON_DAYS = 7


def add_months(day: dt.date, months: int) -> dt.date:
    """The corresponding date ``months`` calendar months later, or that month's last day."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def statutory_deadline(received_on: dt.date) -> dt.date:
    return add_months(received_on, 1)


def extended_deadline(received_on: dt.date) -> dt.date:
    return add_months(received_on, 3)


def tag(request: SubjectAccessRequest, today: dt.date) -> str:
    """ "overdue", "due_soon" or "" for an open request; "" once complete."""
    if request.status != SubjectAccessRequest.Status.OPEN:
        return ""
    if request.deadline < today:
        return "overdue"
    if (request.deadline - today).days <= DUE_SOON_DAYS:
        return "due_soon"
    return ""


def queue(*, include_complete: bool = False):
    """Open requests, soonest deadline first (an extension moves a request back)."""
    from django.db.models.functions import Coalesce

    requests = SubjectAccessRequest.objects.annotate(
        deadline_on=Coalesce("extended_due_on", "due_on")
    )
    if not include_complete:
        requests = requests.filter(status=SubjectAccessRequest.Status.OPEN)
    return requests.order_by("deadline_on", "id")


def record_request(*, officer, **details) -> SubjectAccessRequest:
    """Record a request; its deadline is set from the day it was received."""
    return SubjectAccessRequest.objects.create(
        created_by=officer,
        created_at=timezone.now(),
        due_on=statutory_deadline(details["received_on"]),
        **details,
    )


class RequestClosed(ValueError):
    """A change to a request already complete."""


class ExtensionTooLate(ValueError):
    """An extension asked for after the first month, when it can no longer be notified in time."""


def can_still_extend(request: SubjectAccessRequest, today: dt.date) -> bool:
    """Whether ``today`` is within the first month from receipt (the statutory deadline day
    included), the only time an extension may be made (UK GDPR Art. 12(3))."""
    return today <= request.due_on


def extend(request_id: int, *, reason: str, today: dt.date | None = None) -> SubjectAccessRequest:
    """Extend a complex request by two months, once, with its reason, and only within the
    first month from receipt (``ExtensionTooLate`` after it)."""
    today = today or timezone.localdate()
    with transaction.atomic():
        request = SubjectAccessRequest.objects.select_for_update().get(pk=request_id)
        if request.status != SubjectAccessRequest.Status.OPEN:
            raise RequestClosed("This request is complete: it cannot be extended.")
        if request.extended_due_on is not None:
            raise RequestClosed("This request has already been extended.")
        if not can_still_extend(request, today):
            raise ExtensionTooLate(too_late_words(request))
        request.extended_due_on = extended_deadline(request.received_on)
        request.extension_reason = reason
        request.save(update_fields=["extended_due_on", "extension_reason"])
        return request


def too_late_words(request: SubjectAccessRequest) -> str:
    """Why an overdue request cannot be extended, as the officer reads it."""
    return (
        "You cannot extend this request: an extension must be made within one month of "
        f"receiving it, and that month ended on {date_in_words(request.due_on)}. The request is "
        "overdue: send the copy of their data as soon as you can"
    )


def complete(request_id: int, *, officer) -> SubjectAccessRequest:
    """Mark a request complete; only once an export for it is ready."""
    with transaction.atomic():
        request = SubjectAccessRequest.objects.select_for_update().get(pk=request_id)
        if request.status != SubjectAccessRequest.Status.OPEN:
            raise RequestClosed("This request is already complete.")
        if not request.exports.filter(status="ready").exists():
            raise RequestClosed("Prepare the copy of their data before marking this complete.")
        request.status = SubjectAccessRequest.Status.COMPLETE
        request.completed_at = timezone.now()
        request.completed_by = officer
        request.save(update_fields=["status", "completed_at", "completed_by"])
        return request
