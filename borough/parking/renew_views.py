"""The resident renews a permit from its page: who lives there now (checked against the
council's records), how long for, the price, payment; the renewal starts when the permit ends.
Only the holder's own permits: another permit number is a 404."""

from __future__ import annotations

import datetime as dt
import uuid

from django.db import IntegrityError, transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from borough.core.access import resident_required
from borough.core.dates import date_in_words
from borough.parking import permit_changes, pricing, services, zones
from borough.parking.forms import (
    DurationForm,
    WhoForm,
)
from borough.parking.manage_pages import (
    NOT_FOUND_MESSAGE,
    UNAVAILABLE_MESSAGE,
    back_to_permit,
    cannot_page,
    cfg,
    forget_answers,
    own_permit,
    payment_pages,
    render_page,
    save_answers,
    saved_answers,
    today_in_london,
)
from borough.parking.models import Permit, PermitApplication
from borough.parking.pages import (
    PURPOSE,
    UNTAXED,
    to_card_page,
    too_many_page,
)
from borough.parking.registrations import InvalidRegistration
from borough.parking.vehicles import (
    VehicleDetails,
    VehicleLookupUnavailable,
    VehicleNotFound,
    get_vehicle_lookup,
)
from borough.payments import services as payments
from borough.places.models import Property
from borough.residents.verification.attempts import TooManyAttempts
from borough.residents.verification.engine import Applicant, ApplicantError
from borough.residents.verification.service import VerificationUnavailable, verify
from borough.transparency.coverage import RESIDENT_DATA, data_use
from borough.transparency.models import ActorKind

# -- renew -----------------------------------------------------------------------------------


def renewal_problem(permit: Permit, today: dt.date) -> tuple[str, str] | None:
    """Why this permit cannot be renewed now (a title and an explanation), or None."""
    renewal = permit_changes.scheduled_renewal(permit.pk)
    if renewal is not None:
        return (
            "You have already renewed this permit",
            f"Your renewal, permit {renewal.number}, starts on {date_in_words(renewal.starts_on)}.",
        )
    if permit.status == Permit.Status.PROOF_NEEDED:
        return (
            "You cannot renew this permit yet",
            "Send proof of your address first. You can renew once an officer has accepted it.",
        )
    if permit.status != Permit.Status.ACTIVE or permit.ends_on < today:
        return (
            "You cannot renew this permit",
            "This permit has ended or was cancelled. You can apply for a new permit.",
        )
    opens = permit.ends_on - dt.timedelta(days=cfg().renewal_window_days)
    if today < opens:
        return (
            "You cannot renew this permit yet",
            f"You can renew it from {date_in_words(opens)}, {cfg().renewal_window_days} days before "
            f"it ends on {date_in_words(permit.ends_on)}.",
        )
    eligibility = zones.eligibility_for_resident_permit(Property.objects.get(pk=permit.property_id))
    if not eligibility.eligible:
        return ("You cannot renew this permit", eligibility.reason)
    return None


def _renewal_gate(request, permit: Permit, *needed: str):
    """(state, None) when the renewal can go on with these answers; else (None, a response)."""
    problem = renewal_problem(permit, today_in_london())
    if problem is not None:
        title, message = problem
        over = permit.status not in permit_changes.MANAGEABLE or permit.ends_on < today_in_london()
        return None, render_page(
            request,
            "renew_closed.html",
            {"permit": permit, "message": message, "can_apply": over, "page_title": title},
        )
    state = saved_answers(request, permit).get("renew", {})
    if any(key not in state for key in needed):
        return None, redirect("parking:manage-renew", number=permit.number)
    return state, None


def _save_renewal(request, permit: Permit, **values) -> None:
    save_answers(
        request, permit, renew={**saved_answers(request, permit).get("renew", {}), **values}
    )


@data_use(none="The signed-in resident's own permit: no officer or service reads anyone's data")
@resident_required
@require_GET
def renew(request: HttpRequest, number: str) -> HttpResponse:
    permit = own_permit(request, number)
    state, response = _renewal_gate(request, permit)
    if response is not None:
        return response
    if "journey" not in state:
        _save_renewal(request, permit, journey=uuid.uuid4().hex)
    starts = permit.ends_on + dt.timedelta(days=1)
    return render_page(
        request,
        "renew.html",
        {
            "permit": permit,
            "starts": starts,
            "page_title": f"Renew permit {permit.number}",
        },
    )


@data_use(touches=RESIDENT_DATA, purposes=["parking_permit_residency_check"])
@resident_required
@require_http_methods(["GET", "POST"])
def renew_who(request: HttpRequest, number: str) -> HttpResponse:
    """The name and date of birth, checked again with the council's records for the address."""
    permit = own_permit(request, number)
    _, response = _renewal_gate(request, permit, "journey")
    if response is not None:
        return response
    application = permit.application
    born = application.date_of_birth
    initial = {
        "first_name": application.first_name,
        "surname": application.surname,
        "dob_day": str(born.day),
        "dob_month": str(born.month),
        "dob_year": str(born.year),
    }
    form = WhoForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        prop = Property.objects.get(pk=permit.property_id)
        applicant = Applicant(
            first_name=form.cleaned_data["first_name"],
            surname=form.cleaned_data["surname"],
            date_of_birth=form.date_of_birth,
            uprn=prop.uprn,
            postcode=prop.postcode,
        )
        verification = None
        try:
            verification = verify(
                applicant, PURPOSE, actor=request.user, actor_kind=ActorKind.RESIDENT
            )
        except TooManyAttempts as refusal:
            return too_many_page(request, refusal)
        except ApplicantError as error:
            form.add_error("first_name" if error.field != "surname" else "surname", error.message)
        except VerificationUnavailable:
            verification = None
        if not form.errors and verification is not None and verification.lockout is not None:
            return too_many_page(request, verification.lockout)
        if not form.errors:
            _save_renewal(
                request,
                permit,
                first_name=form.cleaned_data["first_name"],
                surname=form.cleaned_data["surname"],
                date_of_birth=form.date_of_birth.isoformat(),
                verification=verification.reference if verification else "",
                decision=verification.decision if verification else "unavailable",
                resident_id=(verification.resident_id or "") if verification else "",
            )
            return redirect("parking:manage-renew-duration", number=permit.number)
    return render_page(
        request,
        "renew_who.html",
        {"permit": permit, "form": form, "page_title": "What is your name and date of birth?"},
    )


def _renewal_quote(permit: Permit, vehicle: VehicleDetails, months: int) -> pricing.Quote:
    already = services.live_resident_permits_at(permit.property_id, exclude_permit_id=permit.pk)
    return pricing.quote(permit.permit_type, months, vehicle, household_permits_already=already)


@data_use(none="The signed-in resident's own permit: no officer or service reads anyone's data")
@resident_required
@require_http_methods(["GET", "POST"])
def renew_duration(request: HttpRequest, number: str) -> HttpResponse:
    """How long for, priced at today's prices from DVLA's data for the vehicle today."""
    permit = own_permit(request, number)
    state, response = _renewal_gate(request, permit, "journey", "decision")
    if response is not None:
        return response
    if request.method == "GET" or "vehicle" not in state:
        try:
            found = get_vehicle_lookup().lookup(permit.vrm)
        except (VehicleNotFound, InvalidRegistration):
            return cannot_page(
                request, permit, "You cannot renew this permit online", NOT_FOUND_MESSAGE
            )
        except VehicleLookupUnavailable:
            return cannot_page(
                request, permit, "We cannot renew permits at the moment", UNAVAILABLE_MESSAGE
            )
        if found.tax_status in UNTAXED:
            return cannot_page(
                request,
                permit,
                "You cannot renew this permit",
                f"DVLA records show this vehicle is not taxed ({found.tax_status}). You can "
                "only get a permit for a vehicle that is taxed.",
            )
        _save_renewal(request, permit, vehicle=found.raw)
        state = {**state, "vehicle": found.raw}
    vehicle_now = VehicleDetails.from_ves_json(state["vehicle"])
    try:
        options = [
            (m, f"{m} months: {pricing.pounds(_renewal_quote(permit, vehicle_now, m).total_pence)}")
            for m in pricing.permit_type(permit.permit_type).durations_months
        ]
    except pricing.PricingError as error:
        return cannot_page(request, permit, "You cannot renew this permit", str(error))
    form = DurationForm(options, request.POST or None)
    if request.method == "POST" and form.is_valid():
        _save_renewal(request, permit, months=form.cleaned_data["months"])
        return redirect("parking:manage-renew-check", number=permit.number)
    return render_page(
        request,
        "renew_duration.html",
        {"permit": permit, "form": form, "page_title": "How long do you want to renew it for?"},
    )


def _renewal_application(request, permit: Permit, state: dict, quote) -> PermitApplication:
    """The renewal's application for this journey: made once, however often "Pay" is pressed."""
    existing = PermitApplication.objects.filter(journey=state["journey"]).first()
    if existing is not None:
        return existing
    eligibility = zones.eligibility_for_resident_permit(Property.objects.get(pk=permit.property_id))
    try:
        with transaction.atomic():
            return PermitApplication.objects.create(
                journey=state["journey"],
                applicant=request.user,
                permit_type=permit.permit_type,
                property_id=permit.property_id,
                zone=eligibility.zone,
                first_name=state["first_name"],
                surname=state["surname"],
                date_of_birth=dt.date.fromisoformat(state["date_of_birth"]),
                vrm=permit.vrm,
                vehicle_snapshot=state["vehicle"],
                vehicle_found=True,
                duration_months=state["months"],
                **quote.application_fields(),
                verification_reference=state.get("verification", ""),
                verification_decision=state["decision"],
                resident_id=state.get("resident_id", ""),
                renews=permit,
            )
    except IntegrityError:
        return PermitApplication.objects.get(journey=state["journey"])


@data_use(none="The signed-in resident's own permit: no officer or service reads anyone's data")
@resident_required
@require_http_methods(["GET", "POST"])
def renew_check(request: HttpRequest, number: str) -> HttpResponse:
    permit = own_permit(request, number)
    state, response = _renewal_gate(request, permit, "journey", "decision", "vehicle", "months")
    if response is not None:
        return response
    quote = _renewal_quote(permit, VehicleDetails.from_ves_json(state["vehicle"]), state["months"])
    starts = permit.ends_on + dt.timedelta(days=1)
    ends = pricing.add_months(starts, state["months"]) - dt.timedelta(days=1)
    problem = None
    try:
        services.check_household_rules(
            property_id=permit.property_id,
            vrm=permit.vrm,
            permit_type=permit.permit_type,
            max_per_household=cfg().max_resident_permits_per_household,
            exclude_permit_id=permit.pk,
        )
    except services.PermitRuleError as error:
        problem = error.message
    if request.method == "POST" and problem is None:
        application = _renewal_application(request, permit, state, quote)
        if application.status != PermitApplication.Status.AWAITING_PAYMENT:
            return redirect("parking:manage-renew-paid", reference=application.reference)
        return to_card_page(
            request,
            application,
            purpose_key=f"permit-application:{application.reference}",
            amount_pence=application.price_pence,
            description=f"Renewal of parking permit {permit.number}, "
            f"{application.duration_months} months",
            paid_url=reverse(
                "parking:manage-renew-paid", kwargs={"reference": application.reference}
            ),
        )
    return render_page(
        request,
        "renew_check.html",
        {
            "permit": permit,
            "quote": quote,
            "starts": starts,
            "ends": ends,
            "verified": state["decision"] == "verified",
            "policy": cfg().not_found_policy
            if state["decision"] == "not_found"
            else cfg().unverified_policy,
            "proof_days": cfg().unverified_proof_days,
            "problem": problem,
            "page_title": "Check your renewal",
        },
    )


@data_use(none="The signed-in resident's own permit: no officer or service reads anyone's data")
@resident_required
@require_GET
def renew_paid(request: HttpRequest, reference: str) -> HttpResponse:
    """The renewal payment's return URL: safe to open again; the renewal is issued once."""
    application = PermitApplication.objects.filter(
        reference=reference, applicant=request.user, renews__isnull=False
    ).first()
    if application is None or not application.payment_reference:
        raise Http404("No renewal of yours has that reference.")
    renewed = application.renews
    payment = payments.refresh_payment(payments.payment_by_reference(application.payment_reference))
    page = payment_pages(
        request,
        payment,
        what=f"the renewal of permit {renewed.number}",
        check_url=request.path,
        again_url=reverse("parking:manage-renew-check", kwargs={"number": renewed.number}),
    )
    if page is not None:
        return page
    outcome = services.issue_permit(
        application.pk,
        verified=application.verification_decision == "verified" and application.vehicle_found,
        unverified_policy=cfg().unverified_policy,
        not_found_policy=cfg().not_found_policy,
        proof_days=cfg().unverified_proof_days,
        max_per_household=cfg().max_resident_permits_per_household,
    )
    forget_answers(request, renewed, "renew")
    if outcome.permit is not None:
        return back_to_permit(outcome.permit)
    return render(
        request,
        "parking/held.html",
        {"application": outcome.application, "page_title": "Your renewal is with an officer"},
    )
