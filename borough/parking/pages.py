"""What every parking page shares: the template helpers (``PAGE_HELPERS``), rendering, the card
page (``to_card_page``), the permit's link, the page for too many failed checks, and the council
record that proved a resident's address."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from borough.parking import pricing
from borough.parking.models import Permit
from borough.parking.registrations import registration_display
from borough.payments import services as payments
from borough.residents.verification.attempts import TooManyAttempts

#: DVLA tax statuses of a vehicle that may not be kept on the road, so cannot have a permit.
UNTAXED = ("Untaxed", "SORN")


PURPOSE = "parking_permit_residency_check"


JUST_ISSUED_KEY = "parking_just_issued"


#: What every parking page may call: ``money(pence)``, ``registration(vrm)`` ("AB12 CDE").
PAGE_HELPERS = {"money": pricing.pounds, "registration": registration_display}


def cfg():
    """The council's parking settings."""
    return settings.COUNCIL.parking


def render_page(request, template: str, context: dict, status: int = 200) -> HttpResponse:
    return render(request, f"parking/{template}", {**PAGE_HELPERS, **context}, status=status)


def too_many_page(request: HttpRequest, refusal: TooManyAttempts) -> HttpResponse:
    """Too many failed checks of these details or by this account: when to try again, and
    how to apply without the automatic check."""
    until = timezone.localtime(refusal.until)
    response = render_page(
        request,
        "too_many.html",
        {"until": until, "page_title": "You have tried too many times"},
        status=429,
    )
    response["Retry-After"] = str(refusal.retry_after_seconds)
    return response


def proof_record(verification_ref: str) -> dict | None:
    """The council record that proved residency (dataset title and since when), for the
    resident to see; never another person's details."""
    from borough.residents.verification.models import Verification

    if not verification_ref:
        return None
    v = Verification.objects.filter(reference=verification_ref).first()
    if v is None:
        return None
    for item in v.evidence:
        if item.get("counts_as_proof"):
            since = item.get("valid_from")
            return {
                "title": item.get("dataset_title"),
                "since": dt.date.fromisoformat(since) if since else None,
            }
    return None


def to_card_page(
    request: HttpRequest,
    row,
    *,
    purpose_key: str,
    amount_pence: int,
    description: str,
    paid_url: str,
) -> HttpResponse:
    """To the provider's card page for ``row`` (an application, a change of vehicle, a visitor
    session: anything with a ``payment_reference``): its live payment if there is one (a
    second click takes no second payment), a new one after a declined or cancelled card. The
    payment's reference is kept on the row; the provider returns to ``paid_url``."""
    payment = payments.start_payment(
        purpose_key=purpose_key,
        amount_pence=amount_pence,
        description=description,
        return_url=request.build_absolute_uri(paid_url),
    )
    if row.payment_reference != payment.reference:
        type(row).objects.filter(pk=row.pk).update(payment_reference=payment.reference)
    return redirect(payment.next_url)


def permit_url(request: HttpRequest, permit: Permit) -> str:
    return request.build_absolute_uri(reverse("parking:permit", kwargs={"number": permit.number}))
