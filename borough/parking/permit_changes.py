"""The resident manages their permit: renewal, cancellation with its renewal, a change of
vehicle (priced for the rest of the term), proof of address, "this record is wrong" and a
change of address; each change in one transaction with its audit event. Locks are always
taken permit first, then its renewal, then a property, so two of these at once wait for each
other rather than deadlock."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Sum
from django.utils import timezone

from borough.core.dates import date_in_words
from borough.parking import pricing
from borough.parking.models import Permit
from borough.parking.registrations import registration_display
from borough.parking.services import (
    PermitRuleError,
    audit_event,
    cancel_permit,
    end_renewed_permit,
    live_resident_permits_at,
    london_today,
    vehicle_has_resident_permit,
)
from borough.places.models import Property

logger = logging.getLogger(__name__)

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
            end_renewed_permit(renewed, actor=None)
        renewal.status = (
            Permit.Status.PROOF_NEEDED if renewal.proof_due_on else Permit.Status.ACTIVE
        )
        renewal.save(update_fields=["status", "updated_at"])
        audit_event(renewal.application, "renewal_started", permit=renewal)
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
        audit_event(
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
            audit_event(
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
        audit_event(
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
        audit_event(permit.application, "proof_uploaded", permit=permit, actor=actor, detail=kind)
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
        audit_event(
            permit.application, "record_disputed", permit=permit, actor=actor, detail=reference
        )
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
        audit_event(
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
