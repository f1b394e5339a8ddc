"""The resident sends proof of address, says the council record that confirmed the address is
wrong, or reports a move (the new home checked against the council's records). Only the
holder's own permits: another permit number is a 404."""

from __future__ import annotations

import logging
import secrets

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from borough.core.access import resident_required
from borough.parking import permit_changes, pricing, services, zones
from borough.parking.forms import (
    ProofForm,
    RecordWrongForm,
)
from borough.parking.manage_pages import (
    back_to_permit,
    cannot_page,
    cfg,
    forget_answers,
    own_permit,
    render_page,
    save_answers,
    saved_answers,
    today_in_london,
)
from borough.parking.models import Permit
from borough.parking.pages import (
    PURPOSE,
    proof_record,
)
from borough.payments import services as payments
from borough.payments.providers import PaymentProviderError
from borough.places.forms import AddressChoiceForm, PostcodeForm
from borough.places.models import Property
from borough.places.queries import addresses_at
from borough.residents.verification.attempts import TooManyAttempts
from borough.residents.verification.engine import Applicant, ApplicantError
from borough.residents.verification.service import VerificationUnavailable, verify
from borough.transparency.coverage import RESIDENT_DATA, data_use
from borough.transparency.models import ActorKind

log = logging.getLogger(__name__)

# -- proof of address ----------------------------------------------------------------------


@data_use(none="The signed-in resident's own permit: no officer or service reads anyone's data")
@resident_required
@require_http_methods(["GET", "POST"])
def proof(request: HttpRequest, number: str) -> HttpResponse:
    permit = own_permit(request, number)
    if permit.status != Permit.Status.PROOF_NEEDED:
        return cannot_page(
            request,
            permit,
            "This permit does not need proof",
            "We do not need any documents for this permit.",
        )
    allowance = permit_changes.proof_allowance(permit)
    form = ProofForm(
        permit_changes.PROOF_KINDS, allowance, request.POST or None, request.FILES or None
    )
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        # Our own name: the resident's file name may say anything about them.
        upload.name = f"{secrets.token_hex(16)}.{form.extension}"
        try:
            permit_changes.add_proof(
                permit.pk,
                actor=request.user,
                kind=form.cleaned_data["kind"],
                file=upload,
                content_type=form.content_type,
            )
        except services.PermitRuleError as error:
            form.add_error("file" if error.code == "proof_limit" else "kind", error.message)
        else:
            return redirect("parking:manage-proof-sent", number=permit.number)
    return render_page(
        request,
        "proof.html",
        {
            "permit": permit,
            "form": form,
            "kinds": permit_changes.PROOF_KINDS,
            "sent": permit.proofs.all(),
            "allowance": allowance,
            "megabytes": permit_changes.megabytes,
            "page_title": "Send proof of your address",
        },
    )


@data_use(none="The signed-in resident's own permit: no officer or service reads anyone's data")
@resident_required
@require_GET
def proof_sent(request: HttpRequest, number: str) -> HttpResponse:
    permit = own_permit(request, number)
    return render_page(
        request, "proof_sent.html", {"permit": permit, "page_title": "We have your document"}
    )


# -- the council record is wrong -----------------------------------------------------------


@data_use(none="The signed-in resident's own permit: no officer or service reads anyone's data")
@resident_required
@require_http_methods(["GET", "POST"])
def record_wrong(request: HttpRequest, number: str) -> HttpResponse:
    permit = own_permit(request, number)
    record = proof_record(permit_changes.current_verification_reference(permit))
    if record is None:
        raise Http404("No council record confirmed this permit's address.")
    form = RecordWrongForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        permit_changes.report_record_wrong(
            permit.pk, actor=request.user, message=form.cleaned_data["message"]
        )
        return redirect("parking:manage-record-wrong-sent", number=permit.number)
    return render_page(
        request,
        "record_wrong.html",
        {
            "permit": permit,
            "record": record,
            "form": form,
            "page_title": "Tell us the record is wrong",
        },
    )


@data_use(none="The signed-in resident's own permit: no officer or service reads anyone's data")
@resident_required
@require_GET
def record_wrong_sent(request: HttpRequest, number: str) -> HttpResponse:
    permit = own_permit(request, number)
    return render_page(
        request,
        "record_wrong_sent.html",
        {"permit": permit, "page_title": "We will check the record"},
    )


# -- change of address ---------------------------------------------------------------------


def _move_problem(request, permit: Permit):
    try:
        permit_changes.check_permit_manageable(permit, today=today_in_london())
    except services.PermitRuleError as error:
        return cannot_page(request, permit, "You cannot change the address", error.message)
    return None


@data_use(none="The signed-in resident's own permit: no officer or service reads anyone's data")
@resident_required
@require_GET
def move(request: HttpRequest, number: str) -> HttpResponse:
    permit = own_permit(request, number)
    if (problem := _move_problem(request, permit)) is not None:
        return problem
    form = PostcodeForm(request.GET or None)
    if request.GET and form.is_valid():
        return redirect(
            reverse("parking:manage-move-address", kwargs={"number": permit.number})
            + "?postcode="
            + form.cleaned_data["postcode"]
        )
    return render_page(
        request,
        "move_postcode.html",
        {
            "permit": permit,
            "form": form if request.GET else None,
            "postcode_form": form,
            "page_title": "What is your new postcode?",
        },
    )


@data_use(none="The signed-in resident's own permit: no officer or service reads anyone's data")
@resident_required
@require_http_methods(["GET", "POST"])
def move_address(request: HttpRequest, number: str) -> HttpResponse:
    permit = own_permit(request, number)
    if (problem := _move_problem(request, permit)) is not None:
        return problem
    postcode_form = PostcodeForm(request.GET)
    if not postcode_form.is_valid():
        return redirect("parking:manage-move", number=permit.number)
    postcode = postcode_form.cleaned_data["postcode"]
    addresses = addresses_at(postcode)
    form = AddressChoiceForm(addresses, request.POST or None, label="New address")
    if request.method == "POST" and addresses and form.is_valid():
        save_answers(
            request, permit, move_uprn=form.cleaned_data["uprn"].uprn, move_postcode=postcode
        )
        return redirect("parking:manage-move-check", number=permit.number)
    return render_page(
        request,
        "move_address.html",
        {
            "permit": permit,
            "form": form if request.method == "POST" else None,
            "choice_form": form,
            "addresses": addresses,
            "postcode": postcode,
            "page_title": (
                f"Select your new address in {postcode}"
                if addresses
                else f"No addresses found for {postcode}"
            ),
        },
    )


@data_use(touches=RESIDENT_DATA, purposes=["parking_permit_residency_check"])
@resident_required
@require_http_methods(["GET", "POST"])
def move_check(request: HttpRequest, number: str) -> HttpResponse:
    """What happens to the permit: it moves (same zone, eligible) or is cancelled with a
    refund (another zone, or an address that cannot have a permit)."""
    permit = own_permit(request, number)
    if (problem := _move_problem(request, permit)) is not None:
        return problem
    state = saved_answers(request, permit)
    if "move_uprn" not in state:
        return redirect("parking:manage-move", number=permit.number)
    new_home = get_object_or_404(Property, pk=state["move_uprn"])
    eligibility = zones.eligibility_for_resident_permit(new_home)
    moves = eligibility.eligible and eligibility.zone.pk == permit.zone_id
    error = None
    if request.method == "POST" and moves:
        verification = _verify_new_home(request, permit, new_home)
        try:
            permit_changes.move_permit(
                permit.pk,
                actor=request.user,
                property_id=new_home.uprn,
                zone_id=eligibility.zone.pk,
                verified=verification is not None and verification.decision == "verified",
                verification_reference=verification.reference if verification else "",
                proof_days=cfg().unverified_proof_days,
                max_per_household=cfg().max_resident_permits_per_household,
            )
        except services.PermitRuleError as rule:
            error = rule.message
        else:
            forget_answers(request, permit, "move_uprn", "move_postcode")
            return back_to_permit(permit)
    elif request.method == "POST":
        if eligibility.eligible:
            reason = f"Moved to an address in zone {eligibility.zone.code}"
        else:
            reason = "Moved to an address that cannot have a resident permit"
        try:
            permit_changes.cancel_permit_and_renewal(permit.pk, actor=request.user, reason=reason)
        except (PaymentProviderError, payments.RefundNotAllowed):
            log.exception("Refund failed while cancelling permit %s", permit.number)
            error = "Sorry, we cannot cancel your permit at the moment. Try again later."
        else:
            return redirect("parking:manage-move-done", number=permit.number)
    today = today_in_london()
    return render_page(
        request,
        "move_check.html",
        {
            "permit": permit,
            "moves": moves,
            "eligibility": eligibility,
            "new_address": new_home.single_line(),
            "postcode": state.get("move_postcode", new_home.postcode),
            "refund": pricing.refund(permit.paid_pence, permit.starts_on, permit.ends_on, today),
            "proof_days": cfg().unverified_proof_days,
            "problem": error,
            "page_title": "Check your change of address",
        },
    )


def _verify_new_home(request, permit: Permit, home: Property):
    """The verification of the holder (as they applied) at the new address, or None if the
    records cannot be checked now (then proof is asked for)."""
    application = permit.application
    try:
        return verify(
            Applicant(
                first_name=application.first_name,
                surname=application.surname,
                date_of_birth=application.date_of_birth,
                uprn=home.uprn,
                postcode=home.postcode,
            ),
            PURPOSE,
            actor=request.user,
            actor_kind=ActorKind.RESIDENT,
            caller_reference=permit.number,
        )
    except (ApplicantError, VerificationUnavailable, TooManyAttempts):
        return None


@data_use(none="The signed-in resident's own permit: no officer or service reads anyone's data")
@resident_required
@require_GET
def move_done(request: HttpRequest, number: str) -> HttpResponse:
    permit = own_permit(request, number)
    state = saved_answers(request, permit)
    new_home = Property.objects.filter(pk=state.get("move_uprn")).first()
    eligibility = zones.eligibility_for_resident_permit(new_home) if new_home else None
    return render_page(
        request,
        "move_done.html",
        {
            "permit": permit,
            "eligibility": eligibility,
            "new_address": new_home.single_line() if new_home else "",
            "page_title": "Your permit has been cancelled"
            if permit.status == Permit.Status.CANCELLED
            else f"Permit {permit.number}",
        },
    )
