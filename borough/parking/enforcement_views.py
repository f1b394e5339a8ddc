"""The civil enforcement officer's phone page: a registration and a zone in, "Allowed" or
"No permit" out (the API is api.py)."""

from __future__ import annotations

import datetime as dt
import logging

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from borough.core.access import staff_area
from borough.core.dates import date_in_words, when_in_words
from borough.parking import enforcement
from borough.parking.forms import EnforcementForm
from borough.parking.models import Zone
from borough.parking.pages import render_page
from borough.transparency.coverage import RESIDENT_DATA, data_use
from borough.transparency.models import ActorKind

log = logging.getLogger(__name__)


# -- enforcement ---------------------------------------------------------------------------


#: The zone the officer last checked in, offered again on their next check.
ENFORCEMENT_ZONE_KEY = "enforcement_zone"


def _until_in_words(answer: enforcement.EnforcementAnswer) -> str:
    """ "4 November 2027" for a permit, "5:30pm on 7 December 2026" for a visitor session."""
    if not answer.valid_until:
        return ""
    if answer.permit_type == "visitor":
        return when_in_words(dt.datetime.fromisoformat(answer.valid_until))
    return date_in_words(dt.date.fromisoformat(answer.valid_until))


@data_use(touches=RESIDENT_DATA, purposes=["parking_enforcement_check"])
@staff_area("enforcement", "parking")
@require_GET
def enforcement_check(request: HttpRequest) -> HttpResponse:
    """The phone page: registration and zone in, allowed or not out. The zone chosen is kept in
    the officer's session and chosen again for the next check, with an empty registration."""
    zone_choices = [
        (z.code, f"{z.code}: {z.name}") for z in Zone.objects.filter(active=True).order_by("code")
    ]
    last_zone = request.session.get(ENFORCEMENT_ZONE_KEY, "")
    form = EnforcementForm(zone_choices, request.GET or None, initial={"zone": last_zone})
    answer = None
    if request.GET and form.is_valid():
        zone = Zone.objects.get(code=form.cleaned_data["zone"])
        answer = enforcement.check_vehicle(
            form.cleaned_data["vrm"].vrm, zone, actor=request.user, actor_kind=ActorKind.STAFF
        )
        request.session[ENFORCEMENT_ZONE_KEY] = zone.code
        # the next check: the same zone, a new registration
        form = EnforcementForm(zone_choices, initial={"zone": zone.code})
    return render_page(
        request,
        "enforcement.html",
        {
            "form": form if form.is_bound else None,
            "check_form": form,
            "answer": answer,
            "until": _until_in_words(answer) if answer else "",
            "page_title": "Check a vehicle",
        },
    )
