"""Visitor parking sessions: a household's allowance of hours a year, a session started (paid
or free), booked once paid, ended early by the host; each change in one transaction."""

from __future__ import annotations

import datetime as dt
import math

from django.db import transaction
from django.utils import timezone

from borough.parking.models import VisitorSession, Zone
from borough.parking.services import PermitRuleError
from borough.places.models import Property

#: A session waiting for its payment holds its hours this long (GOV.UK Pay's payments expire
#: after 90 minutes): one abandoned on the card page gives them back after that.
UNPAID_SESSION_HOLDS = dt.timedelta(minutes=90)


def visitor_hours_used(property_id: int, year: int) -> int:
    """The household's visitor hours taken in ``year``: booked sessions' hours used, and those
    of sessions still being paid for."""
    held_since = timezone.now() - UNPAID_SESSION_HOLDS
    total = 0
    for session in VisitorSession.objects.filter(property_id=property_id, starts_at__year=year):
        unpaid = session.status == VisitorSession.Status.AWAITING_PAYMENT
        if not unpaid or session.created_at >= held_since:
            total += session.hours_used
    return total


def start_visitor_session(
    *,
    host,
    property_id: int,
    zone: Zone,
    vrm: str,
    hours: int,
    allowance_hours: int,
    max_hours: int,
    starts_at: dt.datetime | None = None,
    price_per_hour_pence: int = 0,
) -> VisitorSession:
    """Start a visitor's session of ``hours`` hours, taken from the address's yearly
    allowance; the address row is locked so two sessions cannot overspend it. At a price per
    hour the session waits for its payment (``book_paid_visitor_session``) and enforcement does
    not see it until then."""
    if hours < 1 or hours > max_hours:
        raise PermitRuleError("hours", f"Enter a number of hours from 1 to {max_hours}")
    starts_at = starts_at or timezone.now()
    with transaction.atomic():
        Property.objects.select_for_update().filter(pk=property_id).first()
        used = visitor_hours_used(property_id, timezone.localtime(starts_at).year)
        if used + hours > allowance_hours:
            left = max(allowance_hours - used, 0)
            raise PermitRuleError(
                "allowance",
                f"You have {left} visitor hour{'s' if left != 1 else ''} left this year",
            )
        return VisitorSession.objects.create(
            host=host,
            property_id=property_id,
            zone=zone,
            vrm=vrm,
            starts_at=starts_at,
            ends_at=starts_at + dt.timedelta(hours=hours),
            hours_used=hours,
            price_pence=hours * price_per_hour_pence,
            status=VisitorSession.Status.AWAITING_PAYMENT
            if price_per_hour_pence
            else VisitorSession.Status.BOOKED,
        )


def book_paid_visitor_session(session_id: int) -> VisitorSession:
    """A session whose payment has succeeded is booked (at most once)."""
    with transaction.atomic():
        session = VisitorSession.objects.select_for_update().get(pk=session_id)
        if session.status == VisitorSession.Status.AWAITING_PAYMENT:
            session.status = VisitorSession.Status.BOOKED
            session.save(update_fields=["status"])
        return session


def end_visitor_session(session_id: int, *, host, at: dt.datetime | None = None) -> VisitorSession:
    """End a session early; whole unused hours go back to the allowance (all of them for a
    session booked ahead and cancelled before it starts), and what was paid for them is
    refunded: only the hours used are charged. Ending an ended or past session, or one not yet
    paid for, changes nothing."""
    from borough.payments import services as payments

    at = at or timezone.now()
    with transaction.atomic():
        session = VisitorSession.objects.select_for_update().get(pk=session_id, host=host)
        if (
            session.ended_early_at is not None
            or session.ends_at <= at
            or session.status != VisitorSession.Status.BOOKED
        ):
            return session
        per_hour = session.price_pence // session.hours_used if session.hours_used else 0
        if at <= session.starts_at:  # booked ahead, cancelled before it starts: nothing used
            used, at = 0, session.starts_at
        else:
            used = max(1, math.ceil((at - session.starts_at).total_seconds() / 3600))
        unused = max(session.hours_used - used, 0)
        refund = min(unused * per_hour, session.price_pence - session.refunded_pence)
        if refund > 0 and session.payment_reference:
            payments.refund_payment(
                payments.payment_by_reference(session.payment_reference),
                refund,
                f"Visitor session {session.pk}: {unused} unused hours",
            )
            session.refunded_pence += refund
        session.ended_early_at = at
        session.ends_at = at
        session.hours_used = min(session.hours_used, used)
        session.save(update_fields=["ended_early_at", "ends_at", "hours_used", "refunded_pence"])
        return session
