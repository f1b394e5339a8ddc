"""The what-if pages in the staff area "insights", and the decision notes saved from them.

A what-if is a GET form: its results are shown under it. Saving it is a POST carrying the same
rules; the figures are worked out again on the server at that moment and stored with the note,
so a note holds what the figures were when the decision was taken, whatever was sent."""

from __future__ import annotations

from django.conf import settings
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from borough.core.access import staff_area
from borough.insights.models import DecisionNote
from borough.insights.whatif_direct_debit import last_full_week_end, run_direct_debit_whatif
from borough.insights.whatif_forms import (
    DecisionNoteForm,
    DirectDebitWhatIfForm,
    PermitWhatIfForm,
)
from borough.insights.whatif_permits import priced_types, run_permit_whatif
from borough.payments.money import format_pence
from borough.transparency.coverage import RESIDENT_DATA, data_use
from borough.transparency.models import Action, ActorKind
from borough.transparency.services import record_data_use

_WHAT_IF = data_use(touches=RESIDENT_DATA, purposes=["insights_policy_what_if"])
_NOTES = data_use(none="Saved decision notes hold totals worked out when they were saved")


def _record_what_if(request: HttpRequest, datasets: list[str]) -> None:
    """A what-if totals everyone's live records: one event naming no one, so the data
    protection officer sees each analyst's use (docs/what-ifs.md)."""
    record_data_use(
        subject_resident_ids=[],
        actor=request.user,
        actor_kind=ActorKind.STAFF,
        actor_label="Data analyst",
        purpose="insights_policy_what_if",
        action=Action.VIEWED_RECORDS,
        datasets=datasets,
    )


def _permit_type(request: HttpRequest, data) -> str:
    types = [t.code for t in priced_types()]
    if not types:
        raise Http404("The council sells no permits priced by emissions")
    chosen = data.get("permit_type") or types[0]
    if chosen not in types:
        raise Http404("No such permit type")
    return chosen


def _permit_page(request, form, note_form, status=200) -> HttpResponse:
    figures = None
    if form.is_bound and form.is_valid():
        figures = run_permit_whatif(form.rules)
        _record_what_if(request, ["parking_permits"])
    context = {
        "page_title": "Permit prices what-if",
        "form": note_form if note_form.is_bound and note_form.errors else form,
        "whatif": form,
        "note_form": note_form,
        "figures": figures,
        "pounds": format_pence,
        "types": priced_types(),
        "permit_type": settings.COUNCIL.parking.permit_type(form.type_code),
    }
    return render(request, "insights/whatif/permits.html", context, status=status)


@_WHAT_IF
@staff_area("insights")
@require_GET
def permits(request: HttpRequest) -> HttpResponse:
    permit_type = _permit_type(request, request.GET)
    data = request.GET if "diesel" in request.GET else None
    return _permit_page(
        request, PermitWhatIfForm(data, permit_type=permit_type), DecisionNoteForm()
    )


@_WHAT_IF
@staff_area("insights")
@require_http_methods(["GET", "POST"])
def permits_save(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":  # nothing to save: the what-if page
        return permits.__wrapped__.__wrapped__(request)
    form = PermitWhatIfForm(request.POST, permit_type=_permit_type(request, request.POST))
    return _save_note(
        request,
        form,
        _permit_page,
        DecisionNote.Kind.PERMITS,
        lambda: (form.rules.as_dict(), run_permit_whatif(form.rules)),
    )


def _save_note(request, form, page, kind, worked_out) -> HttpResponse:
    """Save a decision note from a what-if's POST: the rules checked again and the figures
    worked out again now (``worked_out``: parameters and figures), whatever else was sent."""
    note_form = DecisionNoteForm(request.POST)
    if not form.is_valid():
        return page(request, form, DecisionNoteForm(), status=400)
    if not note_form.is_valid():
        return page(request, form, note_form, status=400)
    parameters, figures = worked_out()
    _record_what_if(
        request, ["parking_permits" if kind == DecisionNote.Kind.PERMITS else "rent_accounts"]
    )
    note = DecisionNote.objects.create(
        kind=kind,
        title=note_form.cleaned_data["title"],
        parameters=parameters,
        figures=figures,
        decision=note_form.cleaned_data["decision"],
        decided_by=request.user,
    )
    return redirect("insights:decision-note", note_id=note.pk)


def _direct_debit_page(request, form, note_form, status=200) -> HttpResponse:
    figures = None
    if form.is_bound and form.is_valid():
        figures = run_direct_debit_whatif(form.choice)
        _record_what_if(request, ["rent_accounts"])
    context = {
        "page_title": "Direct Debit collection days what-if",
        "form": note_form if note_form.is_bound and note_form.errors else form,
        "whatif": form,
        "note_form": note_form,
        "figures": figures,
        "pounds": format_pence,
        "parameters": form.choice.as_dict() if figures is not None else None,
    }
    return render(request, "insights/whatif/direct_debit.html", context, status=status)


def _last_sunday():
    return last_full_week_end(timezone.localdate())


@_WHAT_IF
@staff_area("insights")
@require_GET
def direct_debit(request: HttpRequest) -> HttpResponse:
    data = request.GET if "days" in request.GET else None
    form = DirectDebitWhatIfForm(data, last_sunday=_last_sunday())
    return _direct_debit_page(request, form, DecisionNoteForm())


@_WHAT_IF
@staff_area("insights")
@require_http_methods(["GET", "POST"])
def direct_debit_save(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":  # nothing to save: the what-if page
        return direct_debit.__wrapped__.__wrapped__(request)
    form = DirectDebitWhatIfForm(request.POST, last_sunday=_last_sunday())
    return _save_note(
        request,
        form,
        _direct_debit_page,
        DecisionNote.Kind.DIRECT_DEBIT,
        lambda: (form.choice.as_dict(), run_direct_debit_whatif(form.choice)),
    )


@_NOTES
@staff_area("insights")
@require_GET
def notes(request: HttpRequest) -> HttpResponse:
    page = Paginator(DecisionNote.objects.select_related("decided_by"), 50).get_page(
        request.GET.get("page")
    )
    return render(
        request, "insights/whatif/notes.html", {"page_obj": page, "page_title": "Decision notes"}
    )


@_NOTES
@staff_area("insights")
@require_GET
def note(request: HttpRequest, note_id: int) -> HttpResponse:
    saved = get_object_or_404(DecisionNote.objects.select_related("decided_by"), pk=note_id)
    return render(
        request,
        "insights/whatif/note.html",
        {
            "note": saved,
            "page_title": saved.title,
            "figures": saved.figures,
            "pounds": format_pence,
        },
    )
