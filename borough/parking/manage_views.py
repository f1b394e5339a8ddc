"""The resident manages a permit from its page: cancel it, or change its vehicle. Renewing is in
``renew_views``; proof of address, "this record is wrong" and a move in ``address_views``; what
the pages share in ``manage_pages``.

Thin, as views.py is: the rules live in permit_changes.py (every change, in a transaction, with its
``PermitEvent``), pricing.py and zones.py. Only the holder's own permits: another permit number
is a 404. Answers between pages are kept in the session under the permit's number. Registration
numbers, addresses and what the resident writes are never logged.
"""

from __future__ import annotations

import logging

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from borough.core.access import resident_required
from borough.core.dates import date_in_words
from borough.parking import notices, permit_changes, pricing, services
from borough.parking.forms import (
    ConfirmVehicleForm,
    VehicleForm,
)
from borough.parking.manage_pages import (
    NOT_FOUND_MESSAGE,
    RESIDENT_CANCEL_REASON,
    UNAVAILABLE_MESSAGE,
    back_to_permit,
    cannot_page,
    forget_answers,
    own_permit,
    payment_pages,
    refunded_so_far,
    render_page,
    save_answers,
    saved_answers,
    tell,
    today_in_london,
)
from borough.parking.models import Permit, VehicleChange
from borough.parking.pages import (
    UNTAXED,
    permit_url,
    to_card_page,
)
from borough.parking.registrations import InvalidRegistration, registration_display
from borough.parking.vehicles import (
    VehicleDetails,
    VehicleLookupUnavailable,
    VehicleNotFound,
    get_vehicle_lookup,
)
from borough.payments import services as payments
from borough.payments.providers import PaymentProviderError
from borough.transparency.coverage import data_use

log = logging.getLogger(__name__)

# -- cancel ----------------------------------------------------------------------------------


@data_use(none="The signed-in resident's own permit: no officer or service reads anyone's data")
@resident_required
@require_http_methods(["GET", "POST"])
def cancel(request: HttpRequest, number: str) -> HttpResponse:
    """What will be refunded, and a button. Cancelling a cancelled permit changes nothing."""
    permit = own_permit(request, number)
    if permit.status not in permit_changes.MANAGEABLE:
        return back_to_permit(permit)
    today = today_in_london()
    renewal = permit_changes.scheduled_renewal(permit.pk)
    problem = None
    if request.method == "POST":
        refunded_before = refunded_so_far([permit, renewal])
        try:
            permit_changes.cancel_permit_and_renewal(
                permit.pk, actor=request.user, reason=RESIDENT_CANCEL_REASON
            )
        except (PaymentProviderError, payments.RefundNotAllowed):
            log.exception("Refund failed while cancelling permit %s", permit.number)
            problem = "Sorry, we cannot cancel your permit at the moment. Try again later."
        else:
            permit.refresh_from_db()
            refunded = refunded_so_far([permit, renewal]) - refunded_before
            notices.email_permit_cancelled(permit, refunded, today, permit_url(request, permit))
            tell(
                request,
                f"Permit {permit.number} is cancelled",
                f"It stopped on {date_in_words(today)}. "
                f"{notices.refund_sentence(refunded, today)} We have emailed you the details.",
            )
            return back_to_permit(permit)
    return render_page(
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
        permit_changes.check_permit_manageable(permit, today=today_in_london())
    except services.PermitRuleError as error:
        return cannot_page(request, permit, "You cannot change the vehicle", error.message)
    if permit_changes.scheduled_renewal(permit.pk) is not None:
        return cannot_page(
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
    permit = own_permit(request, number)
    if (problem := _vehicle_change_problem(request, permit)) is not None:
        return problem
    state = saved_answers(request, permit)
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
                save_answers(
                    request,
                    permit,
                    new_vrm=registration.vrm,
                    new_vrm_display=registration.display,
                    new_vehicle=found.raw,
                )
                forget_answers(request, permit, "change")
                return redirect("parking:manage-vehicle-confirm", number=permit.number)
    return render_page(
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
    permit = own_permit(request, number)
    state = saved_answers(request, permit)
    if "new_vehicle" not in state:
        return redirect("parking:manage-vehicle", number=permit.number)
    form = ConfirmVehicleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if form.cleaned_data["confirm"] == "no":
            return redirect("parking:manage-vehicle", number=permit.number)
        return redirect("parking:manage-vehicle-check", number=permit.number)
    return render_page(
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
    permit = own_permit(request, number)
    if (problem := _vehicle_change_problem(request, permit)) is not None:
        return problem
    state = saved_answers(request, permit)
    if "new_vehicle" not in state:
        return redirect("parking:manage-vehicle", number=permit.number)
    new_vehicle = VehicleDetails.from_ves_json(state["new_vehicle"])
    try:
        price = permit_changes.vehicle_change_price(permit, new_vehicle)
    except pricing.PricingError:
        return cannot_page(
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
                save_answers(request, permit, change=change.reference)
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
    return render_page(
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
    forget_answers(request, permit, "change", "new_vrm", "new_vrm_display", "new_vehicle")
    if just_made:
        permit.refresh_from_db()
        notices.email_vehicle_changed(
            permit, change.old_vrm, change.charge_pence, permit_url(request, permit)
        )
        paid = (
            f"You paid {pricing.pounds(change.charge_pence)}."
            if change.charge_pence
            else "There was nothing to pay."
        )
        tell(
            request,
            "Vehicle changed",
            f"Permit {permit.number} is now for {registration_display(change.new_vrm)}. It no "
            f"longer covers {registration_display(change.old_vrm)}. {paid} "
            "We have emailed you the details.",
        )
    return back_to_permit(permit)


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
    page = payment_pages(
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
    return cannot_page(
        request,
        permit,
        "We could not change the vehicle",
        f"{change.refused_reason} We have refunded the {pricing.pounds(change.charge_pence)} "
        "you paid for the change.",
    )
