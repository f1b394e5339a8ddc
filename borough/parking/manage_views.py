"""The resident manages a permit from its page: cancel it, change its vehicle, renew it, send
proof of address, say the council record that confirmed the address is wrong, and report a move.

Thin, as views.py is: the rules live in services.py (every change, in a transaction, with its
``PermitEvent``), pricing.py and zones.py. Only the holder's own permits: another permit number
is a 404. Answers between pages are kept in the session under the permit's number. Registration
numbers, addresses and what the resident writes are never logged.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import uuid

from django.conf import settings
from django.contrib import messages
from django.db import IntegrityError, transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from borough.core.access import resident_required
from borough.core.dates import date_in_words
from borough.parking import notices, permit_changes, pricing, services, zones
from borough.parking.forms import (
    ConfirmVehicleForm,
    DurationForm,
    ProofForm,
    RecordWrongForm,
    VehicleForm,
    WhoForm,
)
from borough.parking.models import Permit, PermitApplication, VehicleChange
from borough.parking.vehicles import (
    InvalidRegistration,
    VehicleDetails,
    VehicleLookupUnavailable,
    VehicleNotFound,
    get_vehicle_lookup,
    registration_display,
)
from borough.parking.views import (
    PAGE_HELPERS,
    PURPOSE,
    UNTAXED,
    _permit_url,
    _proof_record,
    _too_many,
    to_card_page,
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

SESSION_KEY = "parking_manage"
RESIDENT_CANCEL_REASON = "Cancelled by the resident"
NOT_FOUND_MESSAGE = "We cannot find a vehicle with that registration number. Check it and try again"
UNAVAILABLE_MESSAGE = "Sorry, we cannot check vehicles at the moment. Try again in a few minutes"


def cfg():
    return settings.COUNCIL.parking


def _today() -> dt.date:
    return services.london_today()


def _render(request, template: str, context: dict, status: int = 200) -> HttpResponse:
    return render(
        request,
        f"parking/manage/{template}",
        {**PAGE_HELPERS, **context},
        status=status,
    )


def _my_permit(request: HttpRequest, number: str) -> Permit:
    """The signed-in resident's permit with this number, or 404. A renewal of theirs whose first
    day has come is handed over first, so every page sees the permits as they now are."""
    due = Permit.objects.filter(
        holder=request.user, status=Permit.Status.SCHEDULED, starts_on__lte=_today()
    ).values_list("pk", flat=True)
    for renewal_id in due:
        permit_changes.hand_over_renewal(renewal_id)
    found = (
        Permit.objects.filter(number=number, holder=request.user)
        .select_related("zone", "application")
        .first()
    )
    if found is None:
        raise Http404("No permit of yours has that number.")
    return found


def _state(request: HttpRequest, permit: Permit) -> dict:
    return request.session.get(SESSION_KEY, {}).get(permit.number, {})


def _save(request: HttpRequest, permit: Permit, **values) -> None:
    everything = request.session.get(SESSION_KEY, {})
    everything[permit.number] = {**everything.get(permit.number, {}), **values}
    request.session[SESSION_KEY] = everything


def _forget(request: HttpRequest, permit: Permit, *keys: str) -> None:
    everything = request.session.get(SESSION_KEY, {})
    mine = everything.get(permit.number, {})
    for key in keys:
        mine.pop(key, None)
    everything[permit.number] = mine
    request.session[SESSION_KEY] = everything


def _refunded(permits: list[Permit | None]) -> int:
    """What has been refunded so far on these permits (read again from the database)."""
    ids = [p.pk for p in permits if p is not None]
    return sum(Permit.objects.filter(pk__in=ids).values_list("refunded_pence", flat=True))


def _tell(request: HttpRequest, title: str, text: str) -> None:
    """A success banner for the next page the resident sees (the permit's page)."""
    messages.success(request, text, extra_tags=title)


def _to_permit(permit: Permit) -> HttpResponse:
    return redirect("parking:permit", number=permit.number)


def _cannot(request, permit: Permit, title: str, message: str) -> HttpResponse:
    return _render(
        request, "cannot.html", {"permit": permit, "message": message, "page_title": title}
    )


def _payment_pages(request, payment, *, what: str, check_url: str, again_url: str):
    """The page for a payment that has not succeeded, or None if it has."""
    if payment.status == "success":
        return None
    context = {"what": what, "check_url": check_url, "again_url": again_url}
    if payment.finished:
        return _render(
            request, "payment_failed.html", {**context, "page_title": "Your payment was not taken"}
        )
    return _render(
        request,
        "payment_pending.html",
        {**context, "page_title": "We are waiting for your payment"},
    )


# -- cancel ----------------------------------------------------------------------------------


@data_use(none="The signed-in resident's own permit: no officer or service reads anyone's data")
@resident_required
@require_http_methods(["GET", "POST"])
def cancel(request: HttpRequest, number: str) -> HttpResponse:
    """What will be refunded, and a button. Cancelling a cancelled permit changes nothing."""
    permit = _my_permit(request, number)
    if permit.status not in permit_changes.MANAGEABLE:
        return _to_permit(permit)
    today = _today()
    renewal = permit_changes.scheduled_renewal(permit.pk)
    problem = None
    if request.method == "POST":
        refunded_before = _refunded([permit, renewal])
        try:
            permit_changes.cancel_permit_and_renewal(
                permit.pk, actor=request.user, reason=RESIDENT_CANCEL_REASON
            )
        except (PaymentProviderError, payments.RefundNotAllowed):
            log.exception("Refund failed while cancelling permit %s", permit.number)
            problem = "Sorry, we cannot cancel your permit at the moment. Try again later."
        else:
            permit.refresh_from_db()
            refunded = _refunded([permit, renewal]) - refunded_before
            notices.email_permit_cancelled(permit, refunded, today, _permit_url(request, permit))
            _tell(
                request,
                f"Permit {permit.number} is cancelled",
                f"It stopped on {date_in_words(today)}. "
                f"{notices.refund_sentence(refunded, today)} We have emailed you the details.",
            )
            return _to_permit(permit)
    return _render(
        request,
        "cancel.html",
        {
            "permit": permit,
            "refund": pricing.refund(permit.paid_pence, permit.starts_on, permit.ends_on, today),
            "renewal": renewal,
            "renewal_refund": renewal
            and pricing.refund(renewal.paid_pence, renewal.starts_on, renewal.ends_on, today),
            "problem": problem,
            "page_title": f"Are you sure you want to cancel permit {permit.number}?",
        },
    )


# -- change of vehicle ---------------------------------------------------------------------


def _vehicle_change_problem(request, permit: Permit):
    try:
        permit_changes.check_permit_manageable(permit, today=_today())
    except services.PermitRuleError as error:
        return _cannot(request, permit, "You cannot change the vehicle", error.message)
    if permit_changes.scheduled_renewal(permit.pk) is not None:
        return _cannot(
            request,
            permit,
            "You cannot change the vehicle yet",
            "You have already renewed this permit, so its vehicle cannot be changed until the "
            "renewal starts. Contact the parking team if you need to change it sooner.",
        )
    return None


@data_use(none="The signed-in resident's own permit: no officer or service reads anyone's data")
@resident_required
@require_http_methods(["GET", "POST"])
def vehicle(request: HttpRequest, number: str) -> HttpResponse:
    permit = _my_permit(request, number)
    if (problem := _vehicle_change_problem(request, permit)) is not None:
        return problem
    state = _state(request, permit)
    form = VehicleForm(request.POST or None, initial={"vrm": state.get("new_vrm_display", "")})
    if request.method == "POST" and form.is_valid():
        registration = form.cleaned_data["vrm"]
        try:
            found = get_vehicle_lookup().lookup(registration.vrm)
        except VehicleNotFound:
            form.add_error("vrm", NOT_FOUND_MESSAGE)
        except InvalidRegistration as error:
            form.add_error("vrm", error.message)
        except VehicleLookupUnavailable:
            form.add_error("vrm", UNAVAILABLE_MESSAGE)
        else:
            if found.tax_status in UNTAXED:
                form.add_error(
                    "vrm",
                    f"DVLA records show this vehicle is not taxed ({found.tax_status}). You can "
                    "only get a permit for a vehicle that is taxed",
                )
            elif registration.vrm == permit.vrm:
                form.add_error("vrm", "This vehicle is already on your permit")
            elif services.vehicle_has_resident_permit(
                registration.vrm, exclude_permit_id=permit.pk
            ):
                form.add_error(
                    "vrm",
                    "This vehicle already has a resident permit. A vehicle can only have one",
                )
            else:
                _save(
                    request,
                    permit,
                    new_vrm=registration.vrm,
                    new_vrm_display=registration.display,
                    new_vehicle=found.raw,
                )
                _forget(request, permit, "change")
                return redirect("parking:manage-vehicle-confirm", number=permit.number)
    return _render(
        request,
        "vehicle.html",
        {
            "permit": permit,
            "form": form,
            "page_title": "What is the new vehicle's registration number?",
        },
    )


@data_use(none="The signed-in resident's own permit: no officer or service reads anyone's data")
@resident_required
@require_http_methods(["GET", "POST"])
def vehicle_confirm(request: HttpRequest, number: str) -> HttpResponse:
    permit = _my_permit(request, number)
    state = _state(request, permit)
    if "new_vehicle" not in state:
        return redirect("parking:manage-vehicle", number=permit.number)
    form = ConfirmVehicleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if form.cleaned_data["confirm"] == "no":
            return redirect("parking:manage-vehicle", number=permit.number)
        return redirect("parking:manage-vehicle-check", number=permit.number)
    return _render(
        request,
        "vehicle_confirm.html",
        {
            "permit": permit,
            "form": form,
            "vehicle": VehicleDetails.from_ves_json(state["new_vehicle"]),
            "vrm": state["new_vrm"],
            "page_title": "Check the new vehicle's details",
        },
    )


@data_use(none="The signed-in resident's own permit: no officer or service reads anyone's data")
@resident_required
@require_http_methods(["GET", "POST"])
def vehicle_check(request: HttpRequest, number: str) -> HttpResponse:
    """The price difference, and "Pay" (or "Change vehicle" when there is nothing to pay)."""
    permit = _my_permit(request, number)
    if (problem := _vehicle_change_problem(request, permit)) is not None:
        return problem
    state = _state(request, permit)
    if "new_vehicle" not in state:
        return redirect("parking:manage-vehicle", number=permit.number)
    new_vehicle = VehicleDetails.from_ves_json(state["new_vehicle"])
    try:
        price = permit_changes.vehicle_change_price(permit, new_vehicle)
    except pricing.PricingError:
        return _cannot(
            request,
            permit,
            "You cannot change the vehicle online",
            "We cannot work out the price for this change. Contact the parking team.",
        )
    error = None
    if request.method == "POST":
        change = (
            VehicleChange.objects.filter(
                reference=state.get("change", ""),
                permit=permit,
                new_vrm=state["new_vrm"],
                charge_pence=price.charge_pence,
            ).first()
            if state.get("change")
            else None
        )
        just_made = change is None or change.status == VehicleChange.Status.REFUSED
        try:
            if just_made:
                change = permit_changes.request_vehicle_change(
                    permit.pk,
                    actor=request.user,
                    new_vrm=state["new_vrm"],
                    vehicle_snapshot=state["new_vehicle"],
                    price=price,
                )
                _save(request, permit, change=change.reference)
        except services.PermitRuleError as rule:
            error = rule.message
        else:
            if change.status == VehicleChange.Status.APPLIED:
                return _vehicle_changed(request, permit, change, just_made=just_made)
            return to_card_page(
                request,
                change,
                purpose_key=f"permit-vehicle-change:{change.reference}",
                amount_pence=change.charge_pence,
                description=f"Change of vehicle on parking permit {permit.number}",
                paid_url=reverse(
                    "parking:manage-vehicle-paid", kwargs={"reference": change.reference}
                ),
            )
    return _render(
        request,
        "vehicle_check.html",
        {
            "permit": permit,
            "price": price,
            "new_vrm": state["new_vrm"],
            "problem": error,
            "page_title": "Check the change of vehicle",
        },
    )


def _vehicle_changed(
    request, permit: Permit, change: VehicleChange, *, just_made: bool
) -> HttpResponse:
    """The change is made: the journey's answers forgotten; if this request made it, the
    resident is told on their permit's page and by email (opening the payment's return page
    again tells them nothing new)."""
    _forget(request, permit, "change", "new_vrm", "new_vrm_display", "new_vehicle")
    if just_made:
        permit.refresh_from_db()
        notices.email_vehicle_changed(
            permit, change.old_vrm, change.charge_pence, _permit_url(request, permit)
        )
        paid = (
            f"You paid {pricing.pounds(change.charge_pence)}."
            if change.charge_pence
            else "There was nothing to pay."
        )
        _tell(
            request,
            "Vehicle changed",
            f"Permit {permit.number} is now for {registration_display(change.new_vrm)}. It no "
            f"longer covers {registration_display(change.old_vrm)}. {paid} "
            "We have emailed you the details.",
        )
    return _to_permit(permit)


@data_use(none="The signed-in resident's own permit: no officer or service reads anyone's data")
@resident_required
@require_GET
def vehicle_paid(request: HttpRequest, reference: str) -> HttpResponse:
    """The payment's return URL: safe to open any number of times; the change is made once."""
    change = (
        VehicleChange.objects.filter(reference=reference, permit__holder=request.user)
        .select_related("permit")
        .first()
    )
    if change is None or not change.payment_reference:
        raise Http404("No change of vehicle of yours has that reference.")
    permit = change.permit
    payment = payments.refresh_payment(payments.payment_by_reference(change.payment_reference))
    page = _payment_pages(
        request,
        payment,
        what=f"the change of vehicle on permit {permit.number}",
        check_url=request.path,
        again_url=reverse("parking:manage-vehicle-check", kwargs={"number": permit.number}),
    )
    if page is not None:
        return page
    waiting = change.status == VehicleChange.Status.AWAITING_PAYMENT
    change = permit_changes.apply_vehicle_change(change.pk)
    if change.status == VehicleChange.Status.APPLIED:
        return _vehicle_changed(request, permit, change, just_made=waiting)
    return _cannot(
        request,
        permit,
        "We could not change the vehicle",
        f"{change.refused_reason} We have refunded the {pricing.pounds(change.charge_pence)} "
        "you paid for the change.",
    )


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
    problem = renewal_problem(permit, _today())
    if problem is not None:
        title, message = problem
        over = permit.status not in permit_changes.MANAGEABLE or permit.ends_on < _today()
        return None, _render(
            request,
            "renew_closed.html",
            {"permit": permit, "message": message, "can_apply": over, "page_title": title},
        )
    state = _state(request, permit).get("renew", {})
    if any(key not in state for key in needed):
        return None, redirect("parking:manage-renew", number=permit.number)
    return state, None


def _save_renewal(request, permit: Permit, **values) -> None:
    _save(request, permit, renew={**_state(request, permit).get("renew", {}), **values})


@data_use(none="The signed-in resident's own permit: no officer or service reads anyone's data")
@resident_required
@require_GET
def renew(request: HttpRequest, number: str) -> HttpResponse:
    permit = _my_permit(request, number)
    state, response = _renewal_gate(request, permit)
    if response is not None:
        return response
    if "journey" not in state:
        _save_renewal(request, permit, journey=uuid.uuid4().hex)
    starts = permit.ends_on + dt.timedelta(days=1)
    return _render(
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
    permit = _my_permit(request, number)
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
            return _too_many(request, refusal)
        except ApplicantError as error:
            form.add_error("first_name" if error.field != "surname" else "surname", error.message)
        except VerificationUnavailable:
            verification = None
        if not form.errors and verification is not None and verification.lockout is not None:
            return _too_many(request, verification.lockout)
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
    return _render(
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
    permit = _my_permit(request, number)
    state, response = _renewal_gate(request, permit, "journey", "decision")
    if response is not None:
        return response
    if request.method == "GET" or "vehicle" not in state:
        try:
            found = get_vehicle_lookup().lookup(permit.vrm)
        except (VehicleNotFound, InvalidRegistration):
            return _cannot(
                request, permit, "You cannot renew this permit online", NOT_FOUND_MESSAGE
            )
        except VehicleLookupUnavailable:
            return _cannot(
                request, permit, "We cannot renew permits at the moment", UNAVAILABLE_MESSAGE
            )
        if found.tax_status in UNTAXED:
            return _cannot(
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
        return _cannot(request, permit, "You cannot renew this permit", str(error))
    form = DurationForm(options, request.POST or None)
    if request.method == "POST" and form.is_valid():
        _save_renewal(request, permit, months=form.cleaned_data["months"])
        return redirect("parking:manage-renew-check", number=permit.number)
    return _render(
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
                band=quote.band.band if quote.band else "",
                band_reason=quote.band.reason if quote.band else "",
                price_pence=quote.total_pence,
                price_lines=[[text, pence] for text, pence in quote.lines],
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
    permit = _my_permit(request, number)
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
    return _render(
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
    page = _payment_pages(
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
    _forget(request, renewed, "renew")
    if outcome.permit is not None:
        return _to_permit(outcome.permit)
    return render(
        request,
        "parking/held.html",
        {"application": outcome.application, "page_title": "Your renewal is with an officer"},
    )


# -- proof of address ----------------------------------------------------------------------


@data_use(none="The signed-in resident's own permit: no officer or service reads anyone's data")
@resident_required
@require_http_methods(["GET", "POST"])
def proof(request: HttpRequest, number: str) -> HttpResponse:
    permit = _my_permit(request, number)
    if permit.status != Permit.Status.PROOF_NEEDED:
        return _cannot(
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
    return _render(
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
    permit = _my_permit(request, number)
    return _render(
        request, "proof_sent.html", {"permit": permit, "page_title": "We have your document"}
    )


# -- the council record is wrong -----------------------------------------------------------


@data_use(none="The signed-in resident's own permit: no officer or service reads anyone's data")
@resident_required
@require_http_methods(["GET", "POST"])
def record_wrong(request: HttpRequest, number: str) -> HttpResponse:
    permit = _my_permit(request, number)
    record = _proof_record(permit_changes.current_verification_reference(permit))
    if record is None:
        raise Http404("No council record confirmed this permit's address.")
    form = RecordWrongForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        permit_changes.report_record_wrong(
            permit.pk, actor=request.user, message=form.cleaned_data["message"]
        )
        return redirect("parking:manage-record-wrong-sent", number=permit.number)
    return _render(
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
    permit = _my_permit(request, number)
    return _render(
        request,
        "record_wrong_sent.html",
        {"permit": permit, "page_title": "We will check the record"},
    )


# -- change of address ---------------------------------------------------------------------


def _move_problem(request, permit: Permit):
    try:
        permit_changes.check_permit_manageable(permit, today=_today())
    except services.PermitRuleError as error:
        return _cannot(request, permit, "You cannot change the address", error.message)
    return None


@data_use(none="The signed-in resident's own permit: no officer or service reads anyone's data")
@resident_required
@require_GET
def move(request: HttpRequest, number: str) -> HttpResponse:
    permit = _my_permit(request, number)
    if (problem := _move_problem(request, permit)) is not None:
        return problem
    form = PostcodeForm(request.GET or None)
    if request.GET and form.is_valid():
        return redirect(
            reverse("parking:manage-move-address", kwargs={"number": permit.number})
            + "?postcode="
            + form.cleaned_data["postcode"]
        )
    return _render(
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
    permit = _my_permit(request, number)
    if (problem := _move_problem(request, permit)) is not None:
        return problem
    postcode_form = PostcodeForm(request.GET)
    if not postcode_form.is_valid():
        return redirect("parking:manage-move", number=permit.number)
    postcode = postcode_form.cleaned_data["postcode"]
    addresses = addresses_at(postcode)
    form = AddressChoiceForm(addresses, request.POST or None, label="New address")
    if request.method == "POST" and addresses and form.is_valid():
        _save(request, permit, move_uprn=form.cleaned_data["uprn"].uprn, move_postcode=postcode)
        return redirect("parking:manage-move-check", number=permit.number)
    return _render(
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
    permit = _my_permit(request, number)
    if (problem := _move_problem(request, permit)) is not None:
        return problem
    state = _state(request, permit)
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
            _forget(request, permit, "move_uprn", "move_postcode")
            return _to_permit(permit)
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
    today = _today()
    return _render(
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
    permit = _my_permit(request, number)
    state = _state(request, permit)
    new_home = Property.objects.filter(pk=state.get("move_uprn")).first()
    eligibility = zones.eligibility_for_resident_permit(new_home) if new_home else None
    return _render(
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
