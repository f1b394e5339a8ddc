"""Applications and permits: issuing, officers' decisions, cancellation and refunds, each in
one transaction with its audit event. The enforcement check is in ``enforcement``, visitor
sessions in ``visitor_sessions``, and what a resident changes on their permit in
``permit_changes``.

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
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from borough.core.dates import date_in_words
from borough.parking import pricing
from borough.parking.models import Permit, PermitApplication, PermitEvent
from borough.parking.pricing import add_months
from borough.places.models import Property

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


def audit_event(application, action: str, *, permit=None, actor=None, detail: str = "") -> None:
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


def end_renewed_permit(renewed: Permit, *, actor) -> None:
    """The renewed permit stops being live (its renewal takes over); ``renewed`` is locked."""
    if renewed.status not in Permit.LIVE:
        return
    renewed.status = Permit.Status.ENDED
    renewed.save(update_fields=["status", "updated_at"])
    audit_event(renewed.application, "ended_renewed", permit=renewed, actor=actor)


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
            audit_event(application, "held_rule", detail=error.code)
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
            audit_event(application, "held_for_officer")
            return IssueOutcome(application, None, already_done=False)
        if starts_on > today:
            status = Permit.Status.SCHEDULED
        else:
            status = Permit.Status.ACTIVE if verified else Permit.Status.PROOF_NEEDED
        try:
            with transaction.atomic():
                if renewed is not None and starts_on <= today:
                    end_renewed_permit(renewed, actor=None)
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
            audit_event(application, "held_rule", detail="vehicle_has_permit")
            return IssueOutcome(application, None, already_done=False)
        application.status = PermitApplication.Status.ISSUED
        application.save(update_fields=["status", "updated_at"])
        audit_event(
            application,
            "issued",
            permit=permit,
            detail="verified automatically"
            if verified
            else f"proof due by {date_in_words(permit.proof_due_on)}",
        )
        return IssueOutcome(application, permit, already_done=False)


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
        audit_event(application, "approved", permit=permit, actor=officer, detail=reason)
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
        audit_event(
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
        audit_event(
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
        audit_event(permit.application, "proof_accepted", permit=permit, actor=officer)
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
