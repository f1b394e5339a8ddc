"""What the pages where a resident manages a permit share: the holder's own permit or a 404, the
answers kept in the session under the permit's number, the banner and the payment pages.
Registration numbers, addresses and what the resident writes are never logged."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from borough.parking import permit_changes, services
from borough.parking.models import Permit
from borough.parking.pages import PAGE_HELPERS

SESSION_KEY = "parking_manage"
RESIDENT_CANCEL_REASON = "Cancelled by the resident"
NOT_FOUND_MESSAGE = "We cannot find a vehicle with that registration number. Check it and try again"
UNAVAILABLE_MESSAGE = "Sorry, we cannot check vehicles at the moment. Try again in a few minutes"


def cfg():
    """The council's parking settings."""
    return settings.COUNCIL.parking


def today_in_london() -> dt.date:
    return services.london_today()


def render_page(request, template: str, context: dict, status: int = 200) -> HttpResponse:
    return render(
        request,
        f"parking/manage/{template}",
        {**PAGE_HELPERS, **context},
        status=status,
    )


def own_permit(request: HttpRequest, number: str) -> Permit:
    """The signed-in resident's permit with this number, or 404. A renewal of theirs whose first
    day has come is handed over first, so every page sees the permits as they now are."""
    due = Permit.objects.filter(
        holder=request.user, status=Permit.Status.SCHEDULED, starts_on__lte=today_in_london()
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


def saved_answers(request: HttpRequest, permit: Permit) -> dict:
    return request.session.get(SESSION_KEY, {}).get(permit.number, {})


def save_answers(request: HttpRequest, permit: Permit, **values) -> None:
    everything = request.session.get(SESSION_KEY, {})
    everything[permit.number] = {**everything.get(permit.number, {}), **values}
    request.session[SESSION_KEY] = everything


def forget_answers(request: HttpRequest, permit: Permit, *keys: str) -> None:
    everything = request.session.get(SESSION_KEY, {})
    mine = everything.get(permit.number, {})
    for key in keys:
        mine.pop(key, None)
    everything[permit.number] = mine
    request.session[SESSION_KEY] = everything


def refunded_so_far(permits: list[Permit | None]) -> int:
    """What has been refunded so far on these permits (read again from the database)."""
    ids = [p.pk for p in permits if p is not None]
    return sum(Permit.objects.filter(pk__in=ids).values_list("refunded_pence", flat=True))


def tell(request: HttpRequest, title: str, text: str) -> None:
    """A success banner for the next page the resident sees (the permit's page)."""
    messages.success(request, text, extra_tags=title)


def back_to_permit(permit: Permit) -> HttpResponse:
    return redirect("parking:permit", number=permit.number)


def cannot_page(request, permit: Permit, title: str, message: str) -> HttpResponse:
    return render_page(
        request, "cannot.html", {"permit": permit, "message": message, "page_title": title}
    )


def payment_pages(request, payment, *, what: str, check_url: str, again_url: str):
    """The page for a payment that has not succeeded, or None if it has."""
    if payment.status == "success":
        return None
    context = {"what": what, "check_url": check_url, "again_url": again_url}
    if payment.finished:
        return render_page(
            request, "payment_failed.html", {**context, "page_title": "Your payment was not taken"}
        )
    return render_page(
        request,
        "payment_pending.html",
        {**context, "page_title": "We are waiting for your payment"},
    )
