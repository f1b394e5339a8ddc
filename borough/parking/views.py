"""The resident permit journey (one question a page, answers kept in the session until "Pay")
and the price list. What every parking page shares is pages.py; the resident's permits
permit_views.py; visitor parking visitor_views.py; the enforcement page enforcement_views.py. Thin: the rules live in services.py, pricing.py, zones.py, registrations.py,
vehicles.py and the verification service."""

from __future__ import annotations

import datetime as dt
import logging
import uuid

from django.db import IntegrityError, transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from borough.core.access import public, resident_required
from borough.core.middleware import cacheable
from borough.parking import notices, pricing, services, zones
from borough.parking.forms import (
    ConfirmVehicleForm,
    DurationForm,
    VehicleForm,
    WhoForm,
)
from borough.parking.models import PermitApplication, Zone
from borough.parking.pages import (
    JUST_ISSUED_KEY,
    PURPOSE,
    UNTAXED,
    cfg,
    permit_url,
    proof_record,
    render_page,
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
from borough.places.forms import AddressChoiceForm, PostcodeForm
from borough.places.models import Property
from borough.places.queries import addresses_at
from borough.residents.verification.attempts import TooManyAttempts
from borough.residents.verification.engine import Applicant, ApplicantError
from borough.residents.verification.service import VerificationUnavailable, verify
from borough.transparency.coverage import RESIDENT_DATA, data_use
from borough.transparency.models import ActorKind

log = logging.getLogger(__name__)

SESSION_KEY = "parking_apply"
PERMIT_TYPE = "resident"


def _answers(request: HttpRequest) -> dict:
    return request.session.get(SESSION_KEY, {})


def _save(request: HttpRequest, **values) -> None:
    answers = {**_answers(request), **values}
    request.session[SESSION_KEY] = answers


def _need(request: HttpRequest, *keys: str):
    """The journey's answers so far, or a redirect to the first page if any of ``keys`` is
    missing (an expired session, or a page opened out of order)."""
    answers = _answers(request)
    if any(k not in answers for k in keys):
        return None
    return answers


def _journey(request: HttpRequest) -> None:
    """The journey's first pages (postcode, address) may be opened from a bookmark or the back
    button without "Start now": they begin a journey if the session holds none, so the answers
    given from there on reach "Check your answers"."""
    if "journey" not in _answers(request):
        _save(request, journey=uuid.uuid4().hex)


def _restart() -> HttpResponse:
    return redirect("parking:apply-expired")


# -- start ---------------------------------------------------------------------------------


@data_use(none="Information about parking permits")
@cacheable
@public
@require_GET
def start(request: HttpRequest) -> HttpResponse:
    return render_page(request, "start.html", {"page_title": "Apply for a resident parking permit"})


@data_use(none="The council's permit prices")
@public
@require_GET
def prices(request: HttpRequest) -> HttpResponse:
    """The resident permit's prices by band, from the council's profile, readable before
    starting (and without signing in)."""
    permit_type = pricing.permit_type(PERMIT_TYPE)
    return render_page(
        request,
        "prices.html",
        {
            "permit_type": permit_type,
            "rows": pricing.price_list(PERMIT_TYPE),
            "cfg": cfg(),
            "page_title": "Resident parking permit prices",
        },
    )


@data_use(
    none="The signed-in resident's own application, kept in their session: no officer or service reads anyone's data"
)
@public
@require_GET
def apply_expired(request: HttpRequest) -> HttpResponse:
    return render_page(
        request, "expired.html", {"page_title": "Your answers have not been saved"}, status=200
    )


@data_use(
    none="The signed-in resident's own application, kept in their session: no officer or service reads anyone's data"
)
@resident_required
@require_GET
def apply(request: HttpRequest) -> HttpResponse:
    request.session[SESSION_KEY] = {"journey": uuid.uuid4().hex}
    return redirect("parking:apply-postcode")


# -- address -------------------------------------------------------------------------------


@data_use(
    none="The signed-in resident's own application, kept in their session: no officer or service reads anyone's data"
)
@resident_required
@require_GET
def apply_postcode(request: HttpRequest) -> HttpResponse:
    _journey(request)
    form = PostcodeForm(request.GET or None)
    if request.GET and form.is_valid():
        return redirect(
            reverse("parking:apply-address") + "?postcode=" + form.cleaned_data["postcode"]
        )
    return render_page(
        request,
        "postcode.html",
        {
            "form": form if request.GET else None,
            "postcode_form": form,
            "page_title": "What is your postcode?",
        },
    )


@data_use(
    none="The signed-in resident's own application, kept in their session: no officer or service reads anyone's data"
)
@resident_required
@require_http_methods(["GET", "POST"])
def apply_address(request: HttpRequest) -> HttpResponse:
    postcode_form = PostcodeForm(request.GET)
    if not postcode_form.is_valid():
        return redirect("parking:apply-postcode")
    _journey(request)
    postcode = postcode_form.cleaned_data["postcode"]
    addresses = addresses_at(postcode)
    # the page's heading asks the question; the list's legend names what it holds
    form = AddressChoiceForm(addresses, request.POST or None, label="Address")
    if request.method == "POST" and addresses and form.is_valid():
        prop: Property = form.cleaned_data["uprn"]
        eligibility = zones.eligibility_for_resident_permit(prop)
        if not eligibility.eligible:
            _save(request, refused_uprn=prop.uprn)
            return render_page(
                request,
                "not_eligible.html",
                {
                    "page_title": "You cannot get a resident permit for this address",
                    "reason": eligibility.reason,
                    "address": prop.single_line(),
                    "postcode": postcode,
                },
            )
        _save(request, uprn=prop.uprn, zone=eligibility.zone.code, postcode=postcode)
        return redirect("parking:apply-zone")
    count = len(addresses)
    return render_page(
        request,
        "address.html",
        {
            "form": form if request.method == "POST" else None,
            "choice_form": form,
            "addresses": addresses,
            "postcode": postcode,
            "page_title": (
                f"Select your address in {postcode}"
                if count
                else f"No addresses found for {postcode}"
            ),
        },
    )


@data_use(
    none="The signed-in resident's own application, kept in their session: no officer or service reads anyone's data"
)
@resident_required
@require_GET
def apply_zone(request: HttpRequest) -> HttpResponse:
    answers = _need(request, "uprn", "zone")
    if answers is None:
        return _restart()
    zone = get_object_or_404(Zone, code=answers["zone"])
    prop = get_object_or_404(Property, pk=answers["uprn"])
    return render_page(
        request,
        "zone.html",
        {
            "zone": zone,
            "address": prop.single_line(),
            "page_title": f"Your address is in zone {zone.code}",
        },
    )


# -- who you are and the verification ------------------------------------------------------


@data_use(touches=RESIDENT_DATA, purposes=["parking_permit_residency_check"])
@resident_required
@require_http_methods(["GET", "POST"])
def apply_who(request: HttpRequest) -> HttpResponse:
    answers = _need(request, "uprn", "zone")
    if answers is None:
        return _restart()
    user = request.user
    # what the resident entered before (coming back to change it), else the account's name
    initial = {
        "first_name": answers.get("first_name", user.first_name),
        "surname": answers.get("surname", user.last_name),
    }
    if answers.get("date_of_birth"):
        born = dt.date.fromisoformat(answers["date_of_birth"])
        initial.update(dob_day=born.day, dob_month=born.month, dob_year=born.year)
    form = WhoForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        prop = get_object_or_404(Property, pk=answers["uprn"])
        applicant = Applicant(
            first_name=form.cleaned_data["first_name"],
            surname=form.cleaned_data["surname"],
            date_of_birth=form.date_of_birth,
            uprn=prop.uprn,
            postcode=prop.postcode,
        )
        started = timezone.now()
        try:
            verification = verify(
                applicant,
                PURPOSE,
                actor=user,
                actor_kind=ActorKind.RESIDENT,
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
            seconds = (timezone.now() - started).total_seconds()
            _save(
                request,
                first_name=form.cleaned_data["first_name"],
                surname=form.cleaned_data["surname"],
                date_of_birth=form.date_of_birth.isoformat(),
                verification=verification.reference if verification else "",
                decision=verification.decision if verification else "unavailable",
                unconfirmed=list(verification.unconfirmed) if verification else [],
                resident_id=(verification.resident_id or "") if verification else "",
                verification_seconds=round(seconds, 3),
            )
            return redirect("parking:apply-checked")
    return render_page(
        request, "who.html", {"form": form, "page_title": "What is your name and date of birth?"}
    )


@data_use(none="Shows the applicant the result of the check they just passed (recorded then)")
@resident_required
@require_GET
def apply_checked(request: HttpRequest) -> HttpResponse:
    answers = _need(request, "decision")
    if answers is None:
        return _restart()
    verified = answers["decision"] == "verified"
    # settled on name and address alone: the records' dates are not shown to the applicant
    name_and_address = verified and bool(answers.get("unconfirmed"))
    prop = Property.objects.filter(pk=answers.get("uprn")).first()
    return render_page(
        request,
        "checked.html",
        {
            "verified": verified,
            # what the resident entered, to check against their records and change
            "entered": {
                "name": f"{answers.get('first_name', '')} {answers.get('surname', '')}".strip(),
                "born": dt.date.fromisoformat(answers["date_of_birth"])
                if answers.get("date_of_birth")
                else None,
                "address": prop.single_line() if prop else "",
            },
            "name_and_address": name_and_address,
            "proof": proof_record(answers.get("verification", ""))
            if verified and not name_and_address
            else None,
            "proof_days": cfg().unverified_proof_days,
            "policy": cfg().not_found_policy
            if answers["decision"] == "not_found"
            else cfg().unverified_policy,
            "page_title": (
                "We have confirmed your address"
                if verified
                else "We could not confirm your address automatically"
            ),
        },
    )


# -- vehicle -------------------------------------------------------------------------------


@data_use(
    none="The signed-in resident's own application, kept in their session: no officer or service reads anyone's data"
)
@resident_required
@require_http_methods(["GET", "POST"])
def apply_vehicle(request: HttpRequest) -> HttpResponse:
    answers = _need(request, "decision")
    if answers is None:
        return _restart()
    form = VehicleForm(request.POST or None, initial={"vrm": answers.get("vrm_display", "")})
    if request.method == "POST" and form.is_valid():
        registration = form.cleaned_data["vrm"]
        try:
            vehicle = get_vehicle_lookup().lookup(registration.vrm)
        except VehicleNotFound:
            form.add_error(
                "vrm",
                "We cannot find a vehicle with that registration number. Check it and try again",
            )
        except InvalidRegistration as error:
            form.add_error("vrm", error.message)
        except VehicleLookupUnavailable:
            form.add_error(
                "vrm",
                "Sorry, we cannot check vehicles at the moment. Try again in a few minutes",
            )
        else:
            if vehicle.tax_status in UNTAXED:
                form.add_error(
                    "vrm",
                    f"DVLA records show this vehicle is not taxed ({vehicle.tax_status}). You can "
                    "only get a permit for a vehicle that is taxed",
                )
                return render_page(
                    request,
                    "vehicle.html",
                    {"form": form, "page_title": "What is your vehicle's registration number?"},
                )
            _save(
                request,
                vrm=registration.vrm,
                vrm_display=registration.display,
                vehicle=vehicle.raw,
            )
            return redirect("parking:apply-vehicle-confirm")
    return render_page(
        request,
        "vehicle.html",
        {"form": form, "page_title": "What is your vehicle's registration number?"},
    )


@data_use(
    none="The signed-in resident's own application, kept in their session: no officer or service reads anyone's data"
)
@resident_required
@require_http_methods(["GET", "POST"])
def apply_vehicle_confirm(request: HttpRequest) -> HttpResponse:
    answers = _need(request, "vrm", "vehicle")
    if answers is None:
        return _restart()
    vehicle = VehicleDetails.from_ves_json(answers["vehicle"])
    form = ConfirmVehicleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if form.cleaned_data["confirm"] == "no":
            return redirect("parking:apply-vehicle")
        return redirect("parking:apply-duration")
    return render_page(
        request,
        "vehicle_confirm.html",
        {
            "form": form,
            "vehicle": vehicle,
            "vrm": answers["vrm"],
            "page_title": "Check your vehicle's details",
        },
    )


def _quote(answers: dict, months: int):
    vehicle = VehicleDetails.from_ves_json(answers["vehicle"])
    already = services.live_resident_permits_at(answers["uprn"])
    return pricing.quote(PERMIT_TYPE, months, vehicle, household_permits_already=already)


@data_use(
    none="The signed-in resident's own application, kept in their session: no officer or service reads anyone's data"
)
@resident_required
@require_http_methods(["GET", "POST"])
def apply_duration(request: HttpRequest) -> HttpResponse:
    answers = _need(request, "vrm", "vehicle", "uprn")
    if answers is None:
        return _restart()
    durations = pricing.permit_type(PERMIT_TYPE).durations_months
    options = [
        (m, f"{m} months: {pricing.pounds(_quote(answers, m).total_pence)}") for m in durations
    ]
    form = DurationForm(options, request.POST or None)
    if request.method == "POST" and form.is_valid():
        _save(request, months=form.cleaned_data["months"])
        return redirect("parking:apply-check")
    return render_page(
        request,
        "duration.html",
        {"form": form, "page_title": "How long do you want the permit for?"},
    )


# -- check, pay, issue ---------------------------------------------------------------------


@data_use(
    none="The signed-in resident's own application, kept in their session: no officer or service reads anyone's data"
)
@resident_required
@require_http_methods(["GET", "POST"])
def apply_check(request: HttpRequest) -> HttpResponse:
    answers = _need(request, "journey", "uprn", "zone", "decision", "vrm", "vehicle", "months")
    if answers is None:
        return _restart()
    prop = get_object_or_404(Property, pk=answers["uprn"])
    zone = get_object_or_404(Zone, code=answers["zone"])
    quote = _quote(answers, answers["months"])
    problem = None
    try:
        services.check_household_rules(
            property_id=prop.uprn,
            vrm=answers["vrm"],
            permit_type=PERMIT_TYPE,
            max_per_household=cfg().max_resident_permits_per_household,
        )
    except services.PermitRuleError as error:
        problem = error.message
    if request.method == "POST" and problem is None:
        return _pay(request, _application_for_journey(request, answers, prop, zone, quote))
    return render_page(
        request,
        "check.html",
        {
            "answers": answers,
            "address": prop.single_line(),
            "zone": zone,
            "quote": quote,
            "problem": problem,
            "page_title": "Check your answers before paying",
        },
    )


def _pay(request: HttpRequest, application: PermitApplication) -> HttpResponse:
    """To the provider's card page for the application's payment: the live one if there is one
    (a second click takes no second payment), a new one after a declined or cancelled card. An
    application already paid for goes to its return page instead."""
    if application.status != PermitApplication.Status.AWAITING_PAYMENT:
        return redirect("parking:apply-paid", reference=application.reference)
    return to_card_page(
        request,
        application,
        purpose_key=f"permit-application:{application.reference}",
        amount_pence=application.price_pence,
        description=(
            f"Resident parking permit, zone {application.zone.code}, "
            f"{application.duration_months} months"
        ),
        paid_url=reverse("parking:apply-paid", kwargs={"reference": application.reference}),
    )


@data_use(
    none="The signed-in resident's own application, kept in their session: no officer or service reads anyone's data"
)
@resident_required
@require_POST
def apply_pay_again(request: HttpRequest, reference: str) -> HttpResponse:
    """ "Pay again" after a declined or cancelled card: the same application (its answers and
    price kept, whether or not the session still holds them), a new payment."""
    application = _mine(request, reference)
    if application.renews_id is not None:  # a renewal pays through its own pages
        raise Http404("No application of yours has that reference.")
    return _pay(request, application)


def _application_for_journey(request, answers, prop, zone, quote) -> PermitApplication:
    """The application of this journey: made on the first "Continue to payment", found again
    on a second (a double click, the back button, two tabs), so one journey is one
    application and one payment."""
    found = PermitApplication.objects.filter(journey=answers["journey"]).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return PermitApplication.objects.create(
                journey=answers["journey"],
                applicant=request.user,
                permit_type=PERMIT_TYPE,
                property=prop,
                zone=zone,
                first_name=answers["first_name"],
                surname=answers["surname"],
                date_of_birth=dt.date.fromisoformat(answers["date_of_birth"]),
                vrm=answers["vrm"],
                vehicle_snapshot=answers["vehicle"],
                vehicle_found=True,
                duration_months=answers["months"],
                **quote.application_fields(),
                verification_reference=answers.get("verification", ""),
                verification_decision=answers["decision"],
                resident_id=answers.get("resident_id", ""),
            )
    except IntegrityError:
        return PermitApplication.objects.get(journey=answers["journey"])


def _mine(request: HttpRequest, reference: str) -> PermitApplication:
    application = (
        PermitApplication.objects.filter(reference=reference, applicant=request.user)
        .select_related("zone")
        .first()
    )
    if application is None:
        raise Http404("No application of yours has that reference.")
    return application


@data_use(
    none="The signed-in resident's own application, kept in their session: no officer or service reads anyone's data"
)
@resident_required
@require_GET
def apply_paid(request: HttpRequest, reference: str) -> HttpResponse:
    """The payment provider's return URL. Safe to open any number of times: the payment's
    state is asked again, and the permit is issued at most once."""
    application = _mine(request, reference)
    payment = payments.payment_by_reference(application.payment_reference)
    payment = payments.refresh_payment(payment)
    if payment.status != "success":
        if payment.finished:
            return render_page(
                request,
                "payment_failed.html",
                {"application": application, "page_title": "Your payment was not taken"},
            )
        return render_page(
            request,
            "payment_pending.html",
            {"application": application, "page_title": "We are waiting for your payment"},
        )
    outcome = services.issue_permit(
        application.pk,
        verified=application.verification_decision == "verified" and application.vehicle_found,
        unverified_policy=cfg().unverified_policy,
        not_found_policy=cfg().not_found_policy,
        proof_days=cfg().unverified_proof_days,
        max_per_household=cfg().max_resident_permits_per_household,
    )
    if outcome.permit is not None and not outcome.already_done:
        notices.email_permit_issued(outcome.permit, permit_url(request, outcome.permit))
        request.session[JUST_ISSUED_KEY] = outcome.permit.number
    if outcome.permit is not None:
        return redirect("parking:permit", number=outcome.permit.number)
    return render_page(
        request,
        "held.html",
        {"application": outcome.application, "page_title": "Your application is with an officer"},
    )
