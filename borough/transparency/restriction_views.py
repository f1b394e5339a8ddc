"""The data protection officer's pages for held-back (restricted) entries: the list, and the
release of one with a reason.

The list is browsing, like the log without a resident filter, and is not recorded. Opening one
entry to release it shows one resident's event, so it is recorded (``data_use_log_audit``); the
release itself is recorded by ``visibility.release_event``.
"""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from borough.core.access import staff_area
from borough.transparency.coverage import RESIDENT_DATA, data_use
from borough.transparency.forms import ReleaseForm
from borough.transparency.models import Action, ActorKind
from borough.transparency.purposes import PURPOSES, RESTRICTION_REASONS, SERVICES
from borough.transparency.services import record_data_use
from borough.transparency.staff_view import who_for_staff
from borough.transparency.visibility import ReleaseError, held_events, release_event

PAGE_SIZE = 50


def _row(event) -> dict:
    purpose = PURPOSES.get(event.purpose)
    return {
        "event": event,
        "who": who_for_staff(event),
        "service": SERVICES.get(event.service, event.service),
        "purpose": purpose.title if purpose else event.purpose,
        "why": RESTRICTION_REASONS.get(
            event.restriction_reason_code, event.restriction_reason_code
        ),
    }


@data_use(none="Held entries by event, purpose and date, like the log without a resident filter")
@staff_area("transparency")
@require_http_methods(["GET"])
@never_cache
def held_entries(request: HttpRequest) -> HttpResponse:
    page = Paginator(held_events(timezone.now()), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "transparency/staff/held.html",
        {
            "page_obj": page,
            "rows": [_row(event) for event in page.object_list],
            "notices": list(messages.get_messages(request)),
            "page_title": "Entries held back from residents",
        },
    )


@data_use(touches=RESIDENT_DATA, purposes=["data_use_log_audit", "data_use_disclosure"])
@staff_area("transparency")
@require_http_methods(["GET", "POST"])
@never_cache
def release_entry(request: HttpRequest, event_id: int) -> HttpResponse:
    event = held_events(timezone.now()).filter(pk=event_id).first()
    if event is None:
        raise Http404("No entry with this number is held back.")
    form = ReleaseForm(request.POST if request.method == "POST" else None)
    if request.method == "GET":
        record_data_use(
            subject_resident_ids=[event.subject_resident_id] if event.subject_resident_id else [],
            actor=request.user,
            actor_kind=ActorKind.STAFF,
            actor_label="Data protection officer",
            purpose="data_use_log_audit",
            action=Action.VIEWED_RECORDS,
            datasets=["data_use_log"],
            reference=f"event:{event.pk}",
        )
    elif form.is_valid():
        try:
            release_event(event.pk, officer=request.user, reason=form.cleaned_data["reason"])
        except ReleaseError as e:
            form.add_error("reason", str(e))
        else:
            messages.success(
                request,
                f"Resident {event.subject_resident_id or '(none)'} can now see entry {event.pk}.",
                extra_tags="Entry released",
            )
            return redirect("transparency:held-entries")
    return render(
        request,
        "transparency/staff/release.html",
        {"form": form, "row": _row(event), "page_title": "Release a held-back entry"},
    )
