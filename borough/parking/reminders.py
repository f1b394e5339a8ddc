"""Emails that go out on a timetable: renewal reminders before a permit expires, and
reminders that proof of address is due. Each is sent at most once per permit and milestone
(a ``PermitEvent`` records it), so the daily run can be repeated, or missed for a day and
caught up, without sending anything twice."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse

from borough.core.dates import date_in_words
from borough.parking.models import Permit, PermitEvent

SITE_URL_SETTING = "BOROUGH_SITE_URL"


def _site() -> str:
    return getattr(settings, SITE_URL_SETTING, "") or "http://127.0.0.1:8000"


def _claim(permit: Permit, action: str) -> bool:
    """Record that ``action`` is being sent for ``permit``; False if it already was."""
    with transaction.atomic():
        locked = Permit.objects.select_for_update().get(pk=permit.pk)
        if PermitEvent.objects.filter(permit=locked, action=action).exists():
            return False
        PermitEvent.objects.create(
            application_id=locked.application_id, permit=locked, action=action
        )
        return True


def send_renewal_reminders(today: dt.date, *, days_before: list[int] | None = None) -> list[str]:
    """For each milestone (days before expiry, largest first), email the holders of live
    permits that have reached it and not had it. Returns "NUMBER:DAYS" for each email sent."""
    days_before = sorted(
        days_before or settings.COUNCIL.parking.reminder_days_before_expiry, reverse=True
    )
    sent = []
    for days in days_before:
        due = (
            Permit.objects.filter(
                status__in=Permit.LIVE,
                ends_on__gte=today,
                ends_on__lte=today + dt.timedelta(days=days),
            )
            # renewed already: the renewal is waiting to start
            .exclude(renewal_applications__permit__status=Permit.Status.SCHEDULED)
            .select_related("holder", "zone")
        )
        for permit in due:
            # a permit inside a smaller milestone already does not need the bigger one
            left = (permit.ends_on - today).days
            if any(left <= smaller for smaller in days_before if smaller < days):
                continue
            if not permit.holder.email or not _claim(permit, f"reminder_renew_{days}"):
                continue
            url = _site() + reverse("parking:permit", kwargs={"number": permit.number})
            send_mail(
                f"Your parking permit {permit.number} ends on {date_in_words(permit.ends_on)}",
                f"Your resident parking permit for zone {permit.zone.code} ends on "
                f"{date_in_words(permit.ends_on)}, in {left} day{'s' if left != 1 else ''}.\n\n"
                f"You can renew it now: {url}",
                None,
                [permit.holder.email],
            )
            sent.append(f"{permit.number}:{days}")
    return sent


def send_proof_reminders(today: dt.date, *, days_before: int = 7) -> list[str]:
    """Remind holders of permits waiting for proof, ``days_before`` days before it is due."""
    sent = []
    due = Permit.objects.filter(
        status=Permit.Status.PROOF_NEEDED,
        proof_due_on__gte=today,
        proof_due_on__lte=today + dt.timedelta(days=days_before),
    ).select_related("holder")
    for permit in due:
        if not permit.holder.email or not _claim(permit, "reminder_proof"):
            continue
        url = _site() + reverse("parking:permit", kwargs={"number": permit.number})
        send_mail(
            f"Send proof of address for parking permit {permit.number}",
            f"We still need proof of your address for parking permit {permit.number}. Send it by "
            f"{date_in_words(permit.proof_due_on)} or the permit will be cancelled.\n\n{url}",
            None,
            [permit.holder.email],
        )
        sent.append(permit.number)
    return sent
