"""The resident's own parking permits: the list, and a permit's page (its address, the record
that proved it, whether it can be renewed yet, and what they can change)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from borough.core.access import resident_required
from borough.parking import services
from borough.parking.models import Permit
from borough.parking.pages import (
    JUST_ISSUED_KEY,
    proof_record,
    render_page,
)
from borough.places.models import Property
from borough.transparency.coverage import data_use


@data_use(none="The signed-in resident's own permits: no officer or service reads anyone's data")
@resident_required
@require_GET
def permits(request: HttpRequest) -> HttpResponse:
    mine = Permit.objects.filter(holder=request.user).select_related("zone", "application")
    return render_page(
        request, "permits.html", {"permits": mine, "page_title": "Your parking permits"}
    )


@data_use(none="The signed-in resident's own permit: no officer or service reads anyone's data")
@resident_required
@require_GET
def permit(request: HttpRequest, number: str) -> HttpResponse:
    found = (
        Permit.objects.filter(number=number, holder=request.user)
        .select_related("zone", "application")
        .first()
    )
    if found is None:
        raise Http404("No permit of yours has that number.")
    from borough.parking.renew_views import renewal_problem  # it imports this module

    application = found.application
    return render_page(
        request,
        "permit.html",
        {
            "permit": found,
            "application": application,
            "address": Property.objects.get(pk=found.property_id).single_line(),
            "proof": proof_record(application.verification_reference),
            # "Renew" only while renewal is open; otherwise why not, or from when
            "renewal_problem": renewal_problem(found, services.london_today()),
            "notices": list(messages.get_messages(request)),
            # "Permit issued" once, on the page the payment leads to; the permit's number after
            "just_issued": request.session.pop(JUST_ISSUED_KEY, None) == found.number,
            "page_title": f"Permit {found.number}",
        },
    )
