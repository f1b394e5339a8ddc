"""Every change to applications, permits and visitor sessions, each in one transaction, with
its audit event; and the enforcement check, which writes its data-use event.

The rules enforced here, also under concurrent requests:

- one permit per application: the application row is locked while the permit is issued, and
  ``Permit.application`` is one-to-one, so a second submission or a second return from the
  payment page finds the permit already issued and changes nothing;
- one live resident permit per vehicle: checked for a clear message, and guaranteed by the
  partial unique constraint ``one_live_resident_permit_per_vehicle``;
- at most ``max_resident_permits_per_household`` live resident permits per address: the
  property row is locked while counting, so two applications for one home are serialised;
- a permit is issued only once its payment has succeeded;
- a permit that automatic verification could not back is issued with proof due in
  ``unverified_proof_days`` days, or waits for an officer, as the council's profile says.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, connections, router, transaction
from django.db.models import Count, Sum
from django.db.models.signals import post_delete, post_save
from django.utils import timezone

from borough.core.dates import date_in_words
from borough.parking import pricing
from borough.parking.models import Permit, PermitApplication, PermitEvent, VisitorSession, Zone
from borough.parking.pricing import add_months
from borough.parking.vehicles import registration_display
from borough.places.models import Property
from borough.transparency.models import Action, ActorKind
from borough.transparency.services import lookup_and_record_data_use, record_data_use

RESIDENT = "resident"

logger = logging.getLogger(__name__)


class PermitRuleError(Exception):
    """An application breaks one of the council's permit rules; ``message`` is for the person."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def london_today() -> dt.date:
    return timezone.localdate()


def _event(application, action: str, *, permit=None, actor=None, detail: str = "") -> None:
    PermitEvent.objects.create(
        application=application, permit=permit, action=action, actor=actor, detail=detail[:500]
    )


def _create_permit(
    application: PermitApplication,
    *,
    starts_on: dt.date,
    status: str,
    proof_due_on: dt.date | None = None,
) -> Permit:
    """The permit of a paid application: its holder, type, home, zone and vehicle, from
    ``starts_on`` for the application's months (the last day is the day before the same date
    that many months on), paid what the application was priced at."""
    return Permit.objects.create(
        application=application,
        holder=application.applicant,
        permit_type=application.permit_type,
        property_id=application.property_id,
        zone=application.zone,
        vrm=application.vrm,
        starts_on=starts_on,
        ends_on=add_months(starts_on, application.duration_months) - dt.timedelta(days=1),
        status=status,
        proof_due_on=proof_due_on,
        paid_pence=application.price_pence,
    )


def live_resident_permits_at(property_id: int, *, exclude_permit_id: int | None = None) -> int:
    return (
        Permit.objects.filter(property_id=property_id, permit_type=RESIDENT, status__in=Permit.LIVE)
        .exclude(pk=exclude_permit_id)
        .count()
    )


def vehicle_has_resident_permit(vrm: str, *, exclude_permit_id: int | None = None) -> bool:
    """Has ``vrm`` a live resident permit, or a renewal waiting to start (other than
    ``exclude_permit_id``, the permit being renewed or changed)?"""
    return (
        Permit.objects.filter(
            vrm=vrm, permit_type=RESIDENT, status__in=(*Permit.LIVE, Permit.Status.SCHEDULED)
        )
        .exclude(pk=exclude_permit_id)
        .exists()
    )


def check_household_rules(
    *,
    property_id: int,
    vrm: str,
    permit_type: str,
    max_per_household: int,
    exclude_permit_id: int | None = None,
) -> None:
    """Raise ``PermitRuleError`` if a new live permit of ``permit_type`` for ``vrm`` at
    ``property_id`` would break the household or vehicle rule. ``exclude_permit_id``: the
    permit the new one replaces (a renewal), which counts for neither rule."""
    if permit_type != RESIDENT:
        return
    if vehicle_has_resident_permit(vrm, exclude_permit_id=exclude_permit_id):
        raise PermitRuleError(
            "vehicle_has_permit",
            "This vehicle already has a resident permit. A vehicle can only have one.",
        )
    if (
        live_resident_permits_at(property_id, exclude_permit_id=exclude_permit_id)
        >= max_per_household
    ):
        raise PermitRuleError(
            "household_limit",
            f"Your address already has {max_per_household} resident "
            f"permit{'s' if max_per_household != 1 else ''}, the most one household can have.",
        )


@dataclass(frozen=True)
class IssueOutcome:
    application: PermitApplication
    permit: Permit | None
    already_done: bool


def issue_permit(
    application_id: int,
    *,
    verified: bool,
    unverified_policy: str,
    proof_days: int,
    max_per_household: int,
    not_found_policy: str = "wait_for_officer",
    today: dt.date | None = None,
    starts_on: dt.date | None = None,
) -> IssueOutcome:
    """Issue the permit of a paid application, once. ``verified``: automatic verification
    confirmed both residency and the vehicle. Calling it again returns what the first call did.

    Not verified: ``unverified_policy`` says whether the permit is issued at once with proof due
    in ``proof_days`` or waits for an officer; an applicant the records do not know at all
    (``verification_decision`` "not_found") follows ``not_found_policy`` instead, which the
    shipped profile sets to wait for an officer.

    ``starts_on``: the permit's first day (default ``today``). A renewal (``application.renews``)
    starts the day after the renewed permit ends, unless ``starts_on`` says otherwise; the
    renewed permit counts for neither the household nor the vehicle rule. A permit that starts
    after ``today`` is SCHEDULED (``start_renewed_permits`` makes it live); a renewal that
    starts today takes over from the renewed permit at once."""
    today = today or london_today()
    with transaction.atomic():
        application = PermitApplication.objects.select_for_update().get(pk=application_id)
        existing = Permit.objects.filter(application=application).first()
        if existing is not None or application.status != PermitApplication.Status.AWAITING_PAYMENT:
            return IssueOutcome(application, existing, already_done=True)
        renewed = None
        if application.renews_id is not None:
            # Locked before the property, as every change to a permit and its home is.
            renewed = Permit.objects.select_for_update().get(pk=application.renews_id)
            if starts_on is None:
                starts_on = renewed.ends_on + dt.timedelta(days=1)
        starts_on = starts_on or today
        # Serialise applications for one home while counting its permits.
        Property.objects.select_for_update().filter(pk=application.property_id).first()
        try:
            if renewed is not None and renewed.status not in (*Permit.LIVE, Permit.Status.ENDED):
                raise PermitRuleError(
                    "renewed_permit_cancelled", "The permit being renewed has been cancelled."
                )
            check_household_rules(
                property_id=application.property_id,
                vrm=application.vrm,
                permit_type=application.permit_type,
                max_per_household=max_per_household,
                exclude_permit_id=application.renews_id,
            )
        except PermitRuleError as error:
            # Paid but the rules now say no (another application got there first): an
            # officer refunds it from the queue.
            application.status = PermitApplication.Status.NEEDS_OFFICER
            application.decision_reason = error.message
            application.save(update_fields=["status", "decision_reason", "updated_at"])
            _event(application, "held_rule", detail=error.code)
            return IssueOutcome(application, None, already_done=False)
        unknown = application.verification_decision == "not_found"
        policy = not_found_policy if unknown else unverified_policy
        if not verified and policy == "wait_for_officer":
            application.status = PermitApplication.Status.NEEDS_OFFICER
            application.decision_reason = (
                "The council's records do not know the applicant at this address."
                if unknown
                else "Automatic checks could not confirm the details."
            )
            application.save(update_fields=["status", "decision_reason", "updated_at"])
            _event(application, "held_for_officer")
            return IssueOutcome(application, None, already_done=False)
        if starts_on > today:
            status = Permit.Status.SCHEDULED
        else:
            status = Permit.Status.ACTIVE if verified else Permit.Status.PROOF_NEEDED
        try:
            with transaction.atomic():
                if renewed is not None and starts_on <= today:
                    _end_renewed_permit(renewed, actor=None)
                permit = _create_permit(
                    application,
                    starts_on=starts_on,
                    status=status,
                    proof_due_on=None
                    if verified
                    else max(today, starts_on) + dt.timedelta(days=proof_days),
                )
        except IntegrityError:
            # The vehicle's live permit was issued by a concurrent application.
            application.status = PermitApplication.Status.NEEDS_OFFICER
            application.decision_reason = "This vehicle already has a resident permit."
            application.save(update_fields=["status", "decision_reason", "updated_at"])
            _event(application, "held_rule", detail="vehicle_has_permit")
            return IssueOutcome(application, None, already_done=False)
        application.status = PermitApplication.Status.ISSUED
        application.save(update_fields=["status", "updated_at"])
        _event(
            application,
            "issued",
            permit=permit,
            detail="verified automatically"
            if verified
            else f"proof due by {date_in_words(permit.proof_due_on)}",
        )
        return IssueOutcome(application, permit, already_done=False)


# -- enforcement -------------------------------------------------------------------------


@dataclass(frozen=True)
class EnforcementAnswer:
    """What an enforcement officer may know: allowed or not, by what, until when. No names,
    no addresses."""

    vrm: str
    zone: str
    allowed: bool
    permit_type: str | None = None
    valid_until: str | None = None  # ISO date for permits, ISO time for visitor sessions

    def as_dict(self) -> dict:
        return {
            "vrm": self.vrm,
            "zone": self.zone,
            "allowed": self.allowed,
            "permit_type": self.permit_type,
            "valid_until": self.valid_until,
        }


#: How long a process keeps its list of active zones: a zone added or dropped by
#: ``borough parking load-zones`` (another process) is seen by the API within this time.
ZONE_CACHE_SECONDS = 60.0

# (monotonic time read, {code in capitals: zone}); replaced whole, so threads can share it.
_active_zones: tuple[float, dict[str, Zone]] | None = None


def active_zone(code: str) -> Zone | None:
    """The active zone with this code (any case), from a per-process copy of the active zones
    kept ``ZONE_CACHE_SECONDS`` and dropped whenever a ``Zone`` is saved or deleted in this
    process. The zones are shared between requests: read-only, and without their boundary."""
    global _active_zones
    cached = _active_zones
    if cached is None or time.monotonic() - cached[0] >= ZONE_CACHE_SECONDS:
        read_at = time.monotonic()
        zones: dict[str, Zone] = {}
        for zone in Zone.objects.filter(active=True).defer("boundary").order_by("code"):
            zones.setdefault(zone.code.upper(), zone)
        cached = _active_zones = (read_at, zones)
    return cached[1].get(code.strip().upper())


def forget_active_zones(**_) -> None:
    global _active_zones
    _active_zones = None


post_save.connect(forget_active_zones, sender=Zone, dispatch_uid="parking_active_zones_save")
post_delete.connect(forget_active_zones, sender=Zone, dispatch_uid="parking_active_zones_delete")


def check_vehicle(
    vrm: str,
    zone: Zone,
    *,
    actor=None,
    actor_kind: str = ActorKind.STAFF,
    actor_label: str = "",
    at: dt.datetime | None = None,
) -> EnforcementAnswer:
    """Is ``vrm`` allowed to park in ``zone`` now? One indexed look-up for permits (with the
    holder's resident ID, joined), one for visitor sessions if no permit; the look-up is written
    to the data-use log (the permit holder as the subject where a permit was found; otherwise an
    event with no resident). A permit found is recorded by the look-up's own statement on
    PostgreSQL (``lookup_and_record_data_use``): one round trip for the whole check. Never
    cached: every answer is read from the database."""
    at = at or timezone.now()
    today = timezone.localdate(at)
    event = {
        "actor": actor,
        "actor_kind": actor_kind,
        "actor_label": actor_label,
        "purpose": "parking_enforcement_check",
        "action": Action.ENFORCEMENT_CHECK,
        "datasets": ["parking_permits"],
    }
    # The permit look-up and its event in one statement (one round trip on PostgreSQL).
    sql, values = _permit_check_sql(vrm, zone.pk, today)
    permit = lookup_and_record_data_use(sql, values, from_row=_PERMIT_EVENT, **event)
    if permit is not None:
        permit_type, ends_on, _, _ = permit
        return EnforcementAnswer(vrm, zone.code, True, permit_type, ends_on.isoformat())
    else:
        session = (
            VisitorSession.objects.filter(
                vrm=vrm,
                zone_id=zone.pk,
                starts_at__lte=at,
                ends_at__gt=at,
                ended_early_at__isnull=True,
                status=VisitorSession.Status.BOOKED,
            )
            .order_by("-ends_at")
            .values_list("pk", "ends_at")
            .first()
        )
        if session is not None:
            answer = EnforcementAnswer(
                vrm, zone.code, True, "visitor", timezone.localtime(session[1]).isoformat()
            )
            reference = f"VS-{session[0]}"
        else:
            answer = EnforcementAnswer(vrm, zone.code, False)
            reference = ""
    record_data_use(
        subject_resident_ids=[],
        reference=reference,
        outcome="allowed" if answer.allowed else "not_allowed",
        **event,
    )
    return answer


#: A check that found a permit records the holder (when their resident ID is known), the
#: permit's number and "allowed", from the look-up's row (``permit_check_query``'s columns).
_PERMIT_EVENT = {
    "subject_resident_id": "coalesce(found.application__resident_id, '')",
    "reference": "found.number",
    "outcome": "'allowed'",
}


#: A renewal counts from its first day, whether or not it has been handed over yet.
_PERMIT_COUNTS = (*Permit.LIVE, Permit.Status.SCHEDULED)


def permit_check_query(vrm: str, zone_id: int, today: dt.date):
    """The enforcement check's permit look-up: the permit that lets ``vrm`` park in the zone
    today, latest-ending first, as (permit type, last day, number, holder's resident ID). One
    query (permit joined to its application), served by the index ``permit_check``."""
    return _permit_check_query(vrm, zone_id, started_by=today, ending_from=today)


def _permit_check_query(vrm: str, zone_id: int, *, started_by: dt.date, ending_from: dt.date):
    return (
        Permit.objects.filter(
            vrm=vrm,
            zone_id=zone_id,
            status__in=_PERMIT_COUNTS,
            starts_on__lte=started_by,
            ends_on__gte=ending_from,
        )
        .order_by("-ends_on")
        .values_list("permit_type", "ends_on", "number", "application__resident_id")[:1]
    )


# Stand-ins for the look-up's values while its SQL is compiled, found again among the parameters.
_STAND_INS = ("\x00vrm", -7_251_302, dt.date(1, 2, 3), dt.date(1, 4, 5))

# database alias -> (SQL, parameters, positions of vrm, zone, first day, last day)
_compiled_check: dict[str, tuple[str, tuple, tuple[int, ...]]] = {}


def _live_permit(vrm: str, zone_id: int, today: dt.date) -> tuple | None:
    """``permit_check_query(vrm, zone_id, today)``'s one row, or None."""
    connection = connections[router.db_for_read(Permit)]
    sql, values = _permit_check_sql(vrm, zone_id, today)
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        return cursor.fetchone()


def _permit_check_sql(vrm: str, zone_id: int, today: dt.date) -> tuple[str, list]:
    """``permit_check_query(vrm, zone_id, today)`` as SQL and parameters. Building a query's SQL
    costs the ORM more than PostgreSQL takes to run it, so this builds it once per process and
    database (from the same queryset) and puts in each check's values."""
    connection = connections[router.db_for_read(Permit)]
    compiled = _compiled_check.get(connection.alias)
    if compiled is None:
        compiled = _compiled_check[connection.alias] = _compile_check(connection)
    sql, params, slots = compiled
    values = list(params)
    day = connection.ops.adapt_datefield_value(today)
    for slot, value in zip(slots, (vrm, zone_id, day, day), strict=True):
        values[slot] = value
    return sql, values


def _compile_check(connection) -> tuple[str, tuple, tuple[int, ...]]:
    vrm, zone_id, started_by, ending_from = _STAND_INS
    queryset = _permit_check_query(vrm, zone_id, started_by=started_by, ending_from=ending_from)
    sql, params = queryset.query.get_compiler(connection=connection).as_sql()
    adapt = connection.ops.adapt_datefield_value
    wanted = (vrm, zone_id, adapt(started_by), adapt(ending_from))
    if any(params.count(value) != 1 for value in wanted):
        raise RuntimeError("The permit look-up's SQL does not take its values as expected.")
    return sql, tuple(params), tuple(params.index(value) for value in wanted)


# -- visitor sessions --------------------------------------------------------------------


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


# -- officers' decisions, cancellation and refunds ---------------------------------------


def _refund(application: PermitApplication, pence: int, reason: str) -> int:
    """Refund ``pence`` of the application's payment; returns what was refunded."""
    from borough.payments import services as payments

    if pence <= 0 or not application.payment_reference:
        return 0
    payment = payments.payment_by_reference(application.payment_reference)
    payments.refund_payment(payment, pence, reason)
    return pence


def approve_application(
    application_id: int, *, officer, reason: str, max_per_household: int, today=None
) -> Permit:
    """An officer issues the permit of an application waiting for them (evidence checked by
    hand). The household and vehicle rules still apply."""
    today = today or london_today()
    with transaction.atomic():
        application = PermitApplication.objects.select_for_update().get(pk=application_id)
        if application.status != PermitApplication.Status.NEEDS_OFFICER:
            raise PermitRuleError("not_waiting", "This application is not waiting for an officer.")
        Property.objects.select_for_update().filter(pk=application.property_id).first()
        check_household_rules(
            property_id=application.property_id,
            vrm=application.vrm,
            permit_type=application.permit_type,
            max_per_household=max_per_household,
        )
        permit = _create_permit(application, starts_on=today, status=Permit.Status.ACTIVE)
        application.status = PermitApplication.Status.ISSUED
        application.decision_reason = reason
        application.decided_by = officer
        application.save(update_fields=["status", "decision_reason", "decided_by", "updated_at"])
        _event(application, "approved", permit=permit, actor=officer, detail=reason)
        return permit


def refuse_application(application_id: int, *, officer, reason: str) -> PermitApplication:
    """An officer refuses an application waiting for them; what was paid is refunded in full."""
    if not reason.strip():
        raise PermitRuleError("reason", "Enter the reason for refusing the application")
    with transaction.atomic():
        application = PermitApplication.objects.select_for_update().get(pk=application_id)
        if application.status != PermitApplication.Status.NEEDS_OFFICER:
            raise PermitRuleError("not_waiting", "This application is not waiting for an officer.")
        refunded = _refund(application, application.price_pence, f"Application refused: {reason}")
        application.status = PermitApplication.Status.REFUSED
        application.decision_reason = reason
        application.decided_by = officer
        application.save(update_fields=["status", "decision_reason", "decided_by", "updated_at"])
        _event(
            application,
            "refused",
            actor=officer,
            detail=f"{reason} (refunded {pricing.pounds(refunded)})",
        )
        return application


def cancel_permit(permit_id: int, *, actor, reason: str, today=None, cfg=None) -> Permit:
    """Cancel a live permit: it stops at once; whole unused months are refunded less the
    admin fee (``pricing.refund``). Cancelling a cancelled permit changes nothing."""
    from borough.parking import pricing

    today = today or london_today()
    with transaction.atomic():
        permit = Permit.objects.select_for_update().select_related("application").get(pk=permit_id)
        if permit.status == Permit.Status.CANCELLED:
            return permit
        owed = pricing.refund(permit.paid_pence, permit.starts_on, permit.ends_on, today, cfg)
        refunded = _refund(permit.application, owed.pence, f"Permit cancelled: {reason}")
        permit.status = Permit.Status.CANCELLED
        permit.cancelled_at = timezone.now()
        permit.cancel_reason = reason[:200]
        permit.refunded_pence += refunded
        permit.save(
            update_fields=[
                "status",
                "cancelled_at",
                "cancel_reason",
                "refunded_pence",
                "updated_at",
            ]
        )
        _event(
            permit.application,
            "cancelled",
            permit=permit,
            actor=actor,
            detail=f"{reason}; {owed.explanation}",
        )
        return permit


def accept_proof(permit_id: int, *, officer) -> Permit:
    """An officer accepts the proof sent for a permit issued without automatic verification."""
    with transaction.atomic():
        permit = Permit.objects.select_for_update().get(pk=permit_id)
        if permit.status != Permit.Status.PROOF_NEEDED:
            return permit
        permit.status = Permit.Status.ACTIVE
        permit.proof_due_on = None
        permit.save(update_fields=["status", "proof_due_on", "updated_at"])
        permit.proofs.filter(decision="").update(
            decision="accepted", decided_by=officer, decided_at=timezone.now()
        )
        _event(permit.application, "proof_accepted", permit=permit, actor=officer)
        return permit


def cancel_unproven_permits(today=None, cfg=None) -> list[str]:
    """Cancel every permit whose proof was due before ``today`` and not accepted (with the
    refund of unused months); returns their numbers. Safe to run any number of times."""
    today = today or london_today()
    due = Permit.objects.filter(status=Permit.Status.PROOF_NEEDED, proof_due_on__lt=today)
    cancelled = []
    for permit_id, number in due.values_list("pk", "number"):
        cancel_permit(
            permit_id,
            actor=None,
            reason="No proof of address was accepted by the date it was due",
            today=today,
            cfg=cfg,
        )
        cancelled.append(number)
    return cancelled


# -- the resident manages their permit ---------------------------------------------------
#
# Cancelling, changing the vehicle or the address, renewing, sending proof and saying the
# council record is wrong. Locks are always taken permit first, then its renewal, then a
# property, so two of these at once wait for each other rather than deadlock.

MANAGEABLE = (*Permit.LIVE, Permit.Status.SCHEDULED)


def scheduled_renewal(permit_id: int) -> Permit | None:
    """The renewal of this permit that has been paid for and has not started yet, if any."""
    return (
        Permit.objects.filter(application__renews_id=permit_id, status=Permit.Status.SCHEDULED)
        .order_by("starts_on")
        .first()
    )


def current_verification_reference(permit: Permit) -> str:
    """The verification that backs the permit's current address: the application's, or after
    a move the move's ("" when none could be made)."""
    if permit.moved_at is not None:
        return permit.verification_reference
    return permit.application.verification_reference


def _end_renewed_permit(renewed: Permit, *, actor) -> None:
    """The renewed permit stops being live (its renewal takes over); ``renewed`` is locked."""
    if renewed.status not in Permit.LIVE:
        return
    renewed.status = Permit.Status.ENDED
    renewed.save(update_fields=["status", "updated_at"])
    _event(renewed.application, "ended_renewed", permit=renewed, actor=actor)


def hand_over_renewal(renewal_id: int, *, today: dt.date | None = None) -> Permit:
    """On or after its first day, a SCHEDULED renewal becomes live (ACTIVE, or PROOF_NEEDED if
    its proof is due) and the permit it renews ENDS, in one transaction. Before that day, or
    done already, it changes nothing."""
    today = today or london_today()
    renewed_id = (
        Permit.objects.filter(pk=renewal_id).values_list("application__renews_id", flat=True).get()
    )
    with transaction.atomic():
        renewed = None
        if renewed_id is not None:
            renewed = Permit.objects.select_for_update().get(pk=renewed_id)
        renewal = (
            Permit.objects.select_for_update().select_related("application").get(pk=renewal_id)
        )
        if renewal.status != Permit.Status.SCHEDULED or renewal.starts_on > today:
            return renewal
        if renewed is not None:
            _end_renewed_permit(renewed, actor=None)
        renewal.status = (
            Permit.Status.PROOF_NEEDED if renewal.proof_due_on else Permit.Status.ACTIVE
        )
        renewal.save(update_fields=["status", "updated_at"])
        _event(renewal.application, "renewal_started", permit=renewal)
        return renewal


def start_renewed_permits(today: dt.date | None = None) -> list[str]:
    """Hand over to every renewal whose first day has come (``hand_over_renewal``); returns
    their numbers. Safe to run any number of times: run it daily. The enforcement check does
    not wait for it: it accepts a renewal from its first day."""
    today = today or london_today()
    due = Permit.objects.filter(status=Permit.Status.SCHEDULED, starts_on__lte=today)
    started = []
    for permit_id, number in due.values_list("pk", "number"):
        if hand_over_renewal(permit_id, today=today).status != Permit.Status.SCHEDULED:
            started.append(number)
    return started


def cancel_permit_and_renewal(
    permit_id: int, *, actor, reason: str, today=None, cfg=None
) -> Permit:
    """Cancel a permit (``cancel_permit``: the refund of whole unused months less the admin
    fee) and the renewal of it waiting to start, if any (all its months unused). Cancelling a
    cancelled permit changes nothing."""
    with transaction.atomic():
        permit = cancel_permit(permit_id, actor=actor, reason=reason, today=today, cfg=cfg)
        renewal = scheduled_renewal(permit_id)
        if renewal is not None:
            cancel_permit(
                renewal.pk,
                actor=actor,
                reason=f"{reason} (the permit it renews was cancelled)",
                today=today,
                cfg=cfg,
            )
        return permit


def check_permit_manageable(permit: Permit, *, today: dt.date) -> None:
    """A live permit that has not ended: one whose vehicle or address can be changed."""
    if permit.status not in Permit.LIVE:
        raise PermitRuleError("not_live", "This permit is not active, so it cannot be changed.")
    if permit.ends_on < today:
        raise PermitRuleError("ended", "This permit has ended, so it cannot be changed.")


# -- change of vehicle


@dataclass(frozen=True)
class VehicleChangePrice:
    """What changing a permit's vehicle costs, and why."""

    charge_pence: int
    months_left: int
    new_band: str
    old_band: str
    explanation: str


def _half_up(numerator: int, denominator: int) -> int:
    return (2 * numerator + denominator) // (2 * denominator)


def current_vehicle_snapshot(permit: Permit) -> dict:
    """The DVLA data of the permit's vehicle as last priced: the latest change applied, or the
    application's."""
    change = permit.vehicle_changes.filter(status="applied").order_by("-applied_at", "-pk").first()
    return change.vehicle_snapshot if change is not None else permit.application.vehicle_snapshot


def vehicle_change_price(
    permit: Permit, new_vehicle, *, today=None, cfg=None
) -> VehicleChangePrice:
    """The rule: the new vehicle pays the difference between its price and the old vehicle's
    (both at today's prices, for the permit's length, without household surcharges, which do
    not change with the vehicle) for the whole months the permit has left: the months a
    cancellation today would refund (``pricing.refund``), to the penny, halves up. Nothing is
    refunded when the new vehicle is cheaper. The council's profile has no change-of-vehicle
    fee, so none is charged."""
    from borough.parking import pricing
    from borough.parking.vehicles import VehicleDetails

    today = today or london_today()
    months = permit.application.duration_months
    new = pricing.quote(permit.permit_type, months, new_vehicle, cfg=cfg)
    snapshot = current_vehicle_snapshot(permit)
    if snapshot.get("registrationNumber"):
        old = pricing.quote(
            permit.permit_type, months, VehicleDetails.from_ves_json(snapshot), cfg=cfg
        )
        old_pence, old_band = old.total_pence, old.band.band if old.band else ""
    else:  # no DVLA data was held for the old vehicle: what was paid for it
        old_pence, old_band = permit.paid_pence, ""
    left = pricing.refund(
        permit.paid_pence, permit.starts_on, permit.ends_on, today, cfg
    ).unused_months
    new_band = new.band.band if new.band else ""
    difference = new.total_pence - old_pence
    per = f"A {months}-month permit costs {pricing.pounds(new.total_pence)} for the new vehicle"
    per += f" (band {new_band})" if new_band else ""
    per += f" and {pricing.pounds(old_pence)} for the old one"
    per += f" (band {old_band})." if old_band else "."
    if left == 0:
        return VehicleChangePrice(
            0,
            0,
            new_band,
            old_band,
            f"{per} Your permit is in its last month, so there is nothing to pay.",
        )
    if difference <= 0:
        return VehicleChangePrice(
            0,
            left,
            new_band,
            old_band,
            f"{per} The new vehicle costs the same or less, so "
            "there is nothing to pay. We do not refund the difference.",
        )
    charge = _half_up(difference * left, months)
    months_text = f"{left} month" if left == 1 else f"{left} months"
    return VehicleChangePrice(
        charge,
        left,
        new_band,
        old_band,
        f"{per} You pay the difference for the {months_text} your permit has left: "
        f"{pricing.pounds(charge)}.",
    )


def _check_vehicle_change(permit: Permit, new_vrm: str, *, today: dt.date) -> None:
    check_permit_manageable(permit, today=today)
    if scheduled_renewal(permit.pk) is not None:
        raise PermitRuleError(
            "renewal_scheduled",
            "You have already renewed this permit, so its vehicle cannot be changed until the "
            "renewal starts. Contact the parking team if you need to change it sooner.",
        )
    if new_vrm == permit.vrm:
        raise PermitRuleError("same_vehicle", "This vehicle is already on your permit.")
    if vehicle_has_resident_permit(new_vrm, exclude_permit_id=permit.pk):
        raise PermitRuleError(
            "vehicle_has_permit",
            "This vehicle already has a resident permit. A vehicle can only have one.",
        )


def request_vehicle_change(
    permit_id: int,
    *,
    actor,
    new_vrm: str,
    vehicle_snapshot: dict,
    price: VehicleChangePrice,
    today: dt.date | None = None,
):
    """Record a request to move the permit to ``new_vrm`` at ``price``. With nothing to pay it
    is applied at once; otherwise ``apply_vehicle_change`` applies it once the payment has
    succeeded. Raises ``PermitRuleError`` if the permit or vehicle cannot change."""
    from borough.parking.models import VehicleChange

    today = today or london_today()
    with transaction.atomic():
        permit = Permit.objects.select_for_update().select_related("application").get(pk=permit_id)
        _check_vehicle_change(permit, new_vrm, today=today)
        change = VehicleChange.objects.create(
            permit=permit,
            requested_by=actor,
            old_vrm=permit.vrm,
            new_vrm=new_vrm,
            vehicle_snapshot=vehicle_snapshot,
            charge_pence=price.charge_pence,
            explanation=price.explanation[:500],
        )
        _event(
            permit.application,
            "vehicle_change_requested",
            permit=permit,
            actor=actor,
            detail=f"{change.reference}: {pricing.pounds(price.charge_pence)} to pay",
        )
    if change.charge_pence == 0:
        change = apply_vehicle_change(change.pk, today=today)
    return change


def apply_vehicle_change(change_id: int, *, today: dt.date | None = None):
    """Put the requested vehicle on the permit, once (its payment, if any, has succeeded). If
    the rules no longer allow it (another permit took the vehicle meanwhile, or the permit was
    cancelled), the change is refused and what was paid for it refunded in full. Applying it
    again changes nothing."""
    from borough.parking.models import VehicleChange
    from borough.payments import services as payments

    today = today or london_today()
    with transaction.atomic():
        permit_id = VehicleChange.objects.values_list("permit_id", flat=True).get(pk=change_id)
        permit = Permit.objects.select_for_update().select_related("application").get(pk=permit_id)
        change = VehicleChange.objects.select_for_update().get(pk=change_id)
        if change.status != VehicleChange.Status.AWAITING_PAYMENT:
            return change
        problem = None
        try:
            _check_vehicle_change(permit, change.new_vrm, today=today)
            if change.old_vrm != permit.vrm:
                raise PermitRuleError(
                    "vehicle_changed", "The permit's vehicle was changed by another request."
                )
            with transaction.atomic():
                permit.vrm = change.new_vrm
                permit.save(update_fields=["vrm", "updated_at"])
        except PermitRuleError as error:
            problem = error
        except IntegrityError:  # the vehicle's live permit was issued by a concurrent request
            problem = PermitRuleError(
                "vehicle_has_permit",
                "This vehicle already has a resident permit. A vehicle can only have one.",
            )
        if problem is not None:
            permit.refresh_from_db(fields=["vrm"])
            if change.charge_pence and change.payment_reference:
                payments.refund_payment(
                    payments.payment_by_reference(change.payment_reference),
                    change.charge_pence,
                    f"Change of vehicle {change.reference} not made",
                )
            change.status = VehicleChange.Status.REFUSED
            change.refused_reason = problem.message[:200]
            change.save(update_fields=["status", "refused_reason"])
            _event(
                permit.application,
                "vehicle_change_refused",
                permit=permit,
                detail=f"{change.reference}: {problem.code}",
            )
            return change
        change.status = VehicleChange.Status.APPLIED
        change.applied_at = timezone.now()
        change.save(update_fields=["status", "applied_at"])
        # The registrations are in this audit row only: never in a log line.
        _event(
            permit.application,
            "vehicle_changed",
            permit=permit,
            actor=change.requested_by,
            detail=f"{registration_display(change.old_vrm)} to {registration_display(change.new_vrm)}; "
            f"paid {pricing.pounds(change.charge_pence)} "
            f"({change.reference})",
        )
    logger.info("Vehicle change %s applied", change.reference)
    return change


# -- proof of address, and a record the resident says is wrong

PROOF_KINDS = {
    "council_tax_bill": "Council tax bill",
    "tenancy_agreement": "Tenancy agreement",
    "utility_bill": "Utility bill less than 3 months old",
    "v5c": "V5C vehicle log book",
}


@dataclass(frozen=True)
class ProofAllowance:
    """What a permit may still take as proof under the profile's limits
    (``proof_max_files``, ``proof_max_file_mb``, ``proof_max_total_mb``)."""

    max_files: int
    max_file_bytes: int
    max_total_bytes: int
    sent_files: int
    sent_bytes: int

    @property
    def files_left(self) -> int:
        return max(self.max_files - self.sent_files, 0)

    @property
    def bytes_left(self) -> int:
        return max(self.max_total_bytes - self.sent_bytes, 0)

    def refusal(self, size: int) -> str | None:
        """Why one more file of ``size`` bytes cannot be taken, or None."""
        if self.files_left == 0:
            return (
                f"You have already sent {self.max_files} documents for this permit, the most "
                "we can take. An officer will check them"
            )
        if size > self.max_file_bytes:
            return f"The selected file must be smaller than {megabytes(self.max_file_bytes)}"
        if size > self.bytes_left:
            return (
                f"The selected file is too big to send with the documents you have already sent: "
                f"all of them together must be smaller than {megabytes(self.max_total_bytes)}. "
                f"Send a file smaller than {megabytes(self.bytes_left)}"
            )
        return None


def megabytes(size: int) -> str:
    """10MB, 2.5MB: whole megabytes where they are whole, else one decimal place."""
    return f"{size / (1024 * 1024):.1f}".removesuffix(".0") + "MB"


def proof_allowance(permit: Permit) -> ProofAllowance:
    """The permit's proof limits and what it holds already; refused documents do not count."""
    rules = settings.COUNCIL.parking
    held = permit.proofs.exclude(decision="rejected").aggregate(
        files=Count("pk"), size=Sum("size_bytes")
    )
    return ProofAllowance(
        max_files=rules.proof_max_files,
        max_file_bytes=rules.proof_max_file_mb * 1024 * 1024,
        max_total_bytes=rules.proof_max_total_mb * 1024 * 1024,
        sent_files=held["files"],
        sent_bytes=held["size"] or 0,
    )


def add_proof(permit_id: int, *, actor, kind: str, file, content_type: str):
    """Keep a document the holder sent as proof, for an officer (``accept_proof``). Only a
    permit waiting for proof takes one, and only within the profile's limits on the number of
    documents and their size (``proof_allowance``), counted under the permit's row lock so two
    uploads at once cannot pass them together. ``file`` is a Django ``File`` already checked
    as a PDF or image (``borough.core.documents``) with a name of ours (never the resident's
    file name, which may say anything)."""
    from borough.parking.models import ProofUpload

    if kind not in PROOF_KINDS:
        raise PermitRuleError("kind", "Select what the document is")
    with transaction.atomic():
        permit = Permit.objects.select_for_update().select_related("application").get(pk=permit_id)
        if permit.status != Permit.Status.PROOF_NEEDED:
            raise PermitRuleError("not_needed", "This permit does not need proof.")
        refusal = proof_allowance(permit).refusal(file.size)
        if refusal:
            raise PermitRuleError("proof_limit", refusal)
        proof = ProofUpload.objects.create(
            permit=permit,
            kind=kind,
            file=file,
            content_type=content_type,
            size_bytes=file.size,
        )
        _event(permit.application, "proof_uploaded", permit=permit, actor=actor, detail=kind)
        return proof


def report_record_wrong(permit_id: int, *, actor, message: str):
    """The holder says the council record that confirmed their address is wrong: kept for an
    officer, with the verification it concerns. The message is theirs: it is stored, not
    logged, and not copied into the audit trail."""
    from borough.parking.models import RecordDispute

    message = message.strip()
    if not message:
        raise PermitRuleError("message", "Enter what is wrong with the record")
    with transaction.atomic():
        permit = Permit.objects.select_for_update().select_related("application").get(pk=permit_id)
        reference = current_verification_reference(permit)
        if not reference:
            raise PermitRuleError("no_record", "No council record confirmed this address.")
        dispute = RecordDispute.objects.create(
            permit=permit, verification_reference=reference, message=message[:500]
        )
        _event(permit.application, "record_disputed", permit=permit, actor=actor, detail=reference)
        return dispute


# -- change of address


def move_permit(
    permit_id: int,
    *,
    actor,
    property_id: int,
    zone_id: int,
    verified: bool,
    verification_reference: str,
    proof_days: int,
    max_per_household: int,
    today: dt.date | None = None,
) -> Permit:
    """Move a permit (and its renewal waiting to start) to the holder's new home in the same
    zone. Re-verified there: if council records confirm it the permit is ACTIVE; if not,
    PROOF_NEEDED with proof due in ``proof_days`` days. The new home's permits are counted with
    its row locked, so the household limit holds. A home in another zone is not a move: the
    permit is cancelled (``cancel_permit_and_renewal``)."""
    today = today or london_today()
    with transaction.atomic():
        permit = Permit.objects.select_for_update().select_related("application").get(pk=permit_id)
        check_permit_manageable(permit, today=today)
        renewal = scheduled_renewal(permit.pk)
        if renewal is not None:
            renewal = Permit.objects.select_for_update().get(pk=renewal.pk)
        if zone_id != permit.zone_id:
            raise PermitRuleError("other_zone", "Your new address is in a different zone.")
        if property_id == permit.property_id:
            raise PermitRuleError("same_address", "This is the address on your permit already.")
        Property.objects.select_for_update().filter(pk=property_id).first()
        if live_resident_permits_at(property_id) >= max_per_household:
            raise PermitRuleError(
                "household_limit",
                f"Your new address already has {max_per_household} resident "
                f"permit{'s' if max_per_household != 1 else ''}, the most one household can "
                "have. Contact the parking team.",
            )
        old_property = permit.property_id
        permit.property_id = property_id
        permit.verification_reference = verification_reference
        permit.status = Permit.Status.ACTIVE if verified else Permit.Status.PROOF_NEEDED
        due = today + dt.timedelta(days=proof_days)
        if permit.proof_due_on is not None:
            due = min(due, permit.proof_due_on)  # a move does not put off proof already due
        permit.proof_due_on = None if verified else due
        permit.moved_at = timezone.now()
        permit.save(
            update_fields=[
                "property",
                "verification_reference",
                "moved_at",
                "status",
                "proof_due_on",
                "updated_at",
            ]
        )
        if renewal is not None:
            renewal.property_id = property_id
            renewal.verification_reference = verification_reference
            renewal.moved_at = permit.moved_at
            renewal.proof_due_on = (
                None if verified else renewal.starts_on + dt.timedelta(days=proof_days)
            )
            renewal.save(
                update_fields=[
                    "property",
                    "verification_reference",
                    "moved_at",
                    "proof_due_on",
                    "updated_at",
                ]
            )
        _event(
            permit.application,
            "address_changed",
            permit=permit,
            actor=actor,
            detail=f"UPRN {old_property} to {property_id}; "
            + (
                "verified automatically"
                if verified
                else f"proof due by {date_in_words(permit.proof_due_on)}"
            ),
        )
        return permit
