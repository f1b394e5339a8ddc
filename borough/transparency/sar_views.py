"""The staff side of subject access: the data protection officer's queue of subject access
requests (record, extend, prepare the copy, download it, mark complete), and each service
area's queue of "This is wrong" requests to answer."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from borough.core.access import staff_area
from borough.core.ratelimit import hit, too_many_requests_page
from borough.core.roles import may_enter
from borough.transparency import export_services, rectification, sar
from borough.transparency.coverage import RESIDENT_DATA, data_use
from borough.transparency.export_forms import (
    AnswerForm,
    ExtensionForm,
    SubjectAccessRequestForm,
)
from borough.transparency.export_models import (
    DataExport,
    RectificationRequest,
    SubjectAccessRequest,
)
from borough.transparency.export_render import attachment, shown
from borough.transparency.models import Action, ActorKind
from borough.transparency.services import record_data_use


def _resident_known(resident_id: str) -> str:
    """ "" if the resident index knows ``resident_id``, else why not (to show)."""
    from borough.residents import index

    try:
        found = index.unique_ids_of_resident(resident_id)
    except ValueError:
        return "The council's records have not been linked yet, so no resident ID can be used"
    return "" if found else "No resident has this ID. Check it in “Find a resident”"


@data_use(none="Requests by reference, date and deadline: no name, no resident ID")
@staff_area("transparency")
@require_GET
@never_cache
def queue(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    show_complete = request.GET.get("show") == "all"
    rows = [(item, sar.tag(item, today)) for item in sar.queue(include_complete=show_complete)]
    return render(
        request,
        "transparency/staff/sar/queue.html",
        {"rows": rows, "show_complete": show_complete, "page_title": "Subject access requests"},
    )


@data_use(
    none="Records a request as the requester gave it; checks only that the resident ID exists"
)
@staff_area("transparency")
@require_http_methods(["GET", "POST"])
@never_cache
def new_request(request: HttpRequest) -> HttpResponse:
    form = SubjectAccessRequestForm(request.POST if request.method == "POST" else None)
    if form.is_bound:
        valid = form.is_valid()
        # The ID is checked against the index whatever else is wrong, so the officer sees
        # every error at once rather than this one only after fixing the others.
        resident_id = form.cleaned_data.get("resident_id")
        problem = _resident_known(resident_id) if resident_id else ""
        if problem:
            form.add_error("resident_id", problem)
        elif valid:
            item = sar.record_request(officer=request.user, **form.details())
            return redirect("transparency:sar", reference=item.reference)
    return render(
        request,
        "transparency/staff/sar/new.html",
        {
            "form": form,
            "page_title": "Record a subject access request",
            # "Find a resident" is the resident data officer's tool: a data protection officer
            # without that role is told who finds the ID instead of being linked to a refusal.
            "may_find_residents": may_enter(request.user, "residents"),
        },
    )


def _request(reference: str) -> SubjectAccessRequest:
    return get_object_or_404(SubjectAccessRequest, reference=reference)


@data_use(touches=RESIDENT_DATA, purposes=["subject_access_export", "staff_view_records"])
@staff_area("transparency")
@require_http_methods(["GET", "POST"])
@never_cache
def detail(request: HttpRequest, reference: str) -> HttpResponse:
    """The request; POST prepares the copy of the data or marks the request complete."""
    item = _request(reference)
    if request.method == "POST":
        return _act(request, item)
    record_data_use(
        subject_resident_ids=[item.resident_id],
        actor=request.user,
        actor_kind=ActorKind.STAFF,
        actor_label="Data protection officer",
        purpose="staff_view_records",
        service="transparency",
        action=Action.VIEWED_RECORDS,
        reference=item.reference,
    )
    export_services.delete_expired_exports()
    return render(
        request,
        "transparency/staff/sar/detail.html",
        {
            "item": item,
            "tag": sar.tag(item, timezone.localdate()),
            "export": item.exports.order_by("-requested_at", "-id").first(),
            "error": ERRORS.get(request.GET.get("error", ""), ""),
            "page_title": f"Subject access request {item.reference}",
        },
    )


ERRORS = {
    "closed": "This request is complete: nothing more can be done to it",
    "no_copy": "Prepare the copy of their data before marking this request complete",
}


def _with_error(item: SubjectAccessRequest, error: str) -> str:
    return reverse("transparency:sar", kwargs={"reference": item.reference}) + f"?error={error}"


def _act(request: HttpRequest, item: SubjectAccessRequest) -> HttpResponse:
    action = request.POST.get("action")
    if item.status != SubjectAccessRequest.Status.OPEN:
        return redirect(_with_error(item, "closed"))
    if action == "prepare":
        export_services.request_officer_export(item, request.user)
    elif action == "complete":
        try:
            sar.complete(item.pk, officer=request.user)
        except sar.RequestClosed:
            return redirect(_with_error(item, "no_copy"))
    return redirect("transparency:sar", reference=item.reference)


@data_use(none="Extends a request's deadline: shows its reference and dates only")
@staff_area("transparency")
@require_http_methods(["GET", "POST"])
@never_cache
def extend(request: HttpRequest, reference: str) -> HttpResponse:
    item = _request(reference)
    if item.status != SubjectAccessRequest.Status.OPEN or item.extended_due_on:
        return redirect("transparency:sar", reference=item.reference)
    form = ExtensionForm(request.POST if request.method == "POST" else None)
    too_late = "" if sar.can_still_extend(item, timezone.localdate()) else sar.too_late_words(item)
    if not too_late and form.is_valid():
        try:
            sar.extend(item.pk, reason=form.cleaned_data["reason"].strip())
        except sar.ExtensionTooLate as error:  # the month ended while the form was open
            too_late = str(error)
        else:
            return redirect("transparency:sar", reference=item.reference)
    return render(
        request,
        "transparency/staff/sar/extend.html",
        {
            "item": item,
            "form": form,
            "too_late": too_late,
            "new_deadline": sar.extended_deadline(item.received_on),
            "page_title": "Extend the deadline",
        },
        status=409 if too_late and request.method == "POST" else 200,
    )


def _sar_document(request: HttpRequest, reference: str, kind: str):
    item = _request(reference)
    export = item.exports.filter(status=DataExport.Status.READY).order_by("-ready_at").first()
    if export is None or export_services.is_expired(export):
        raise Http404("No copy ready")
    verdict = hit("data-export-download", f"account:{request.user.pk}")
    if not verdict.allowed:
        return None, too_many_requests_page(request, verdict)
    document = export_services.open_payload(export)
    if document is None:
        raise Http404("No copy ready")
    export_services.record_download(export, user=request.user, kind=kind)
    return document, None


def _sar_download(request: HttpRequest, reference: str, kind: str) -> HttpResponse:
    document, refusal = _sar_document(request, reference, kind)
    return refusal or attachment(document, kind, reference)


@data_use(touches=RESIDENT_DATA, purposes=["subject_access_export", "staff_view_records"])
@staff_area("transparency")
@require_GET
@never_cache
def sar_json(request: HttpRequest, reference: str) -> HttpResponse:
    return _sar_download(request, reference, "json")


@data_use(touches=RESIDENT_DATA, purposes=["subject_access_export", "staff_view_records"])
@staff_area("transparency")
@require_GET
@never_cache
def sar_pdf(request: HttpRequest, reference: str) -> HttpResponse:
    return _sar_download(request, reference, "pdf")


# -- "This is wrong" ---------------------------------------------------------------------------


@data_use(none="Corrections by reference, dataset and status: no record, no resident ID")
@staff_area(*rectification.CORRECTION_AREAS)
@require_GET
@never_cache
def corrections(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "transparency/staff/sar/corrections.html",
        {
            "items": rectification.queue_for(request.user),
            "page_title": "Records residents say are wrong",
        },
    )


@data_use(touches=RESIDENT_DATA, purposes=["staff_view_records"])
@staff_area(*rectification.CORRECTION_AREAS)
@require_http_methods(["GET", "POST"])
@never_cache
def correction(request: HttpRequest, reference: str) -> HttpResponse:
    item = RectificationRequest.objects.filter(reference=reference).first()
    if item is None or not may_enter(request.user, item.area):
        raise Http404("No such request in your areas")
    form = AnswerForm(request.POST if request.method == "POST" else None)
    if item.status == RectificationRequest.Status.OPEN and form.is_valid():
        rectification.answer(
            item.pk,
            officer=request.user,
            status=form.cleaned_data["status"],
            text=form.cleaned_data["answer"].strip(),
        )
        return redirect("transparency:staff-corrections")
    if request.method == "GET":
        rectification.record_officer_view(item, request.user)
    return render(
        request,
        "transparency/staff/sar/correction.html",
        {"item": item, "form": form, "shown": shown, "page_title": f"Correction {item.reference}"},
    )
