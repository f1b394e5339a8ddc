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
import math
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from borough.parking.models import Permit, PermitApplication, PermitEvent, VisitorSession, Zone
from borough.parking.pricing import add_months
from borough.places.models import Property
from borough.transparency.models import Action, ActorKind
from borough.transparency.services import record_data_use

RESIDENT = "resident"


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


def live_resident_permits_at(property_id: int) -> int:
    return Permit.objects.filter(
        property_id=property_id, permit_type=RESIDENT, status__in=Permit.LIVE
    ).count()


def check_household_rules(
    *, property_id: int, vrm: str, permit_type: str, max_per_household: int
) -> None:
    """Raise ``PermitRuleError`` if a new live permit of ``permit_type`` for ``vrm`` at
    ``property_id`` would break the household or vehicle rule."""
    if permit_type != RESIDENT:
        return
    if Permit.objects.filter(vrm=vrm, permit_type=RESIDENT, status__in=Permit.LIVE).exists():
        raise PermitRuleError(
            "vehicle_has_permit",
            "This vehicle already has a resident permit. A vehicle can only have one.",
        )
    if live_resident_permits_at(property_id) >= max_per_household:
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
    today: dt.date | None = None,
) -> IssueOutcome:
    """Issue the permit of a paid application, once. ``verified``: automatic verification
    confirmed both residency and the vehicle. Calling it again returns what the first call did."""
    today = today or london_today()
    with transaction.atomic():
        application = PermitApplication.objects.select_for_update().get(pk=application_id)
        existing = Permit.objects.filter(application=application).first()
        if existing is not None or application.status != PermitApplication.Status.AWAITING_PAYMENT:
            return IssueOutcome(application, existing, already_done=True)
        # Serialise applications for one home while counting its permits.
        Property.objects.select_for_update().filter(pk=application.property_id).first()
        try:
            check_household_rules(
                property_id=application.property_id,
                vrm=application.vrm,
                permit_type=application.permit_type,
                max_per_household=max_per_household,
            )
        except PermitRuleError as error:
            # Paid but the rules now say no (another application got there first): an
            # officer refunds it from the queue.
            application.status = PermitApplication.Status.NEEDS_OFFICER
            application.decision_reason = error.message
            application.save(update_fields=["status", "decision_reason", "updated_at"])
            _event(application, "held_rule", detail=error.code)
            return IssueOutcome(application, None, already_done=False)
        if not verified and unverified_policy == "wait_for_officer":
            application.status = PermitApplication.Status.NEEDS_OFFICER
            application.decision_reason = "Automatic checks could not confirm the details."
            application.save(update_fields=["status", "decision_reason", "updated_at"])
            _event(application, "held_for_officer")
            return IssueOutcome(application, None, already_done=False)
        try:
            with transaction.atomic():
                permit = Permit.objects.create(
                    application=application,
                    holder=application.applicant,
                    permit_type=application.permit_type,
                    property_id=application.property_id,
                    zone=application.zone,
                    vrm=application.vrm,
                    starts_on=today,
                    ends_on=add_months(today, application.duration_months) - dt.timedelta(days=1),
                    status=Permit.Status.ACTIVE if verified else Permit.Status.PROOF_NEEDED,
                    proof_due_on=None if verified else today + dt.timedelta(days=proof_days),
                    paid_pence=application.price_pence,
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
            detail="verified automatically" if verified else f"proof due by {permit.proof_due_on}",
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


def check_vehicle(
    vrm: str,
    zone: Zone,
    *,
    actor=None,
    actor_kind: str = ActorKind.STAFF,
    actor_label: str = "",
    at: dt.datetime | None = None,
) -> EnforcementAnswer:
    """Is ``vrm`` allowed to park in ``zone`` now? One indexed look-up for permits, one for
    visitor sessions; the look-up is written to the data-use log (the permit holder as the
    subject where a permit or session was found; otherwise an event with no resident)."""
    at = at or timezone.now()
    today = timezone.localdate(at)
    permit = (
        Permit.objects.filter(
            vrm=vrm, zone=zone, status__in=Permit.LIVE, starts_on__lte=today, ends_on__gte=today
        )
        .select_related("application")
        .only("permit_type", "ends_on", "application__resident_id", "number")
        .order_by("-ends_on")
        .first()
    )
    subjects: list[str] = []
    if permit is not None:
        answer = EnforcementAnswer(
            vrm, zone.code, True, permit.permit_type, permit.ends_on.isoformat()
        )
        if permit.application.resident_id:
            subjects = [permit.application.resident_id]
        reference = permit.number
    else:
        session = (
            VisitorSession.objects.filter(
                vrm=vrm, zone=zone, starts_at__lte=at, ends_at__gt=at, ended_early_at__isnull=True
            )
            .order_by("-ends_at")
            .first()
        )
        if session is not None:
            answer = EnforcementAnswer(
                vrm, zone.code, True, "visitor", timezone.localtime(session.ends_at).isoformat()
            )
            reference = f"VS-{session.pk}"
        else:
            answer = EnforcementAnswer(vrm, zone.code, False)
            reference = ""
    record_data_use(
        subject_resident_ids=subjects,
        actor=actor,
        actor_kind=actor_kind,
        actor_label=actor_label,
        purpose="parking_enforcement_check",
        action=Action.ENFORCEMENT_CHECK,
        datasets=["parking_permits"],
        reference=reference,
        outcome="allowed" if answer.allowed else "not_allowed",
    )
    return answer


# -- visitor sessions --------------------------------------------------------------------


def visitor_hours_used(property_id: int, year: int) -> int:
    total = 0
    for session in VisitorSession.objects.filter(property_id=property_id, starts_at__year=year):
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
) -> VisitorSession:
    """Start a visitor's session of ``hours`` hours, taken from the address's yearly
    allowance; the address row is locked so two sessions cannot overspend it."""
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
        )


def end_visitor_session(session_id: int, *, host, at: dt.datetime | None = None) -> VisitorSession:
    """End a session early; whole unused hours go back to the allowance. Ending an ended or
    past session changes nothing."""
    at = at or timezone.now()
    with transaction.atomic():
        session = VisitorSession.objects.select_for_update().get(pk=session_id, host=host)
        if session.ended_early_at is not None or session.ends_at <= at:
            return session
        used = max(1, math.ceil((at - session.starts_at).total_seconds() / 3600))
        session.ended_early_at = at
        session.ends_at = at
        session.hours_used = min(session.hours_used, used)
        session.save(update_fields=["ended_early_at", "ends_at", "hours_used"])
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
        permit = Permit.objects.create(
            application=application,
            holder=application.applicant,
            permit_type=application.permit_type,
            property_id=application.property_id,
            zone=application.zone,
            vrm=application.vrm,
            starts_on=today,
            ends_on=add_months(today, application.duration_months) - dt.timedelta(days=1),
            status=Permit.Status.ACTIVE,
            paid_pence=application.price_pence,
        )
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
        _event(application, "refused", actor=officer, detail=f"{reason} (refunded {refunded}p)")
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
        permit.save(update_fields=["status", "cancelled_at", "cancel_reason", "refunded_pence"])
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
        permit.save(update_fields=["status", "proof_due_on"])
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
