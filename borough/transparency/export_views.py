"""A resident's own data: ask for a copy, download it (JSON, PDF), read it, and say a record
is wrong. Only the account that asked can open an export; anyone else, and any address that is
not an export of theirs, gets "Page not found"."""

from __future__ import annotations

import functools

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from borough.core.access import resident_required
from borough.core.ratelimit import hit, limit, too_many_requests_page, wait_words
from borough.transparency import export_services, resident_queries
from borough.transparency.coverage import RESIDENT_DATA, data_use
from borough.transparency.export import find_record, proven_resident_ids
from borough.transparency.export_forms import RectificationForm
from borough.transparency.export_models import DataExport, RectificationRequest
from borough.transparency.export_render import attachment, shown
from borough.transparency.rectification import (
    CorrectionAlreadyOpen,
    ask_for_correction,
    open_correction_of,
)

CORRECTION_LIMIT = "correction-request-account"


def _after_code(view):
    """An account whose identity check passed but that has not entered the code posted to the
    resident sees the page that asks for one, not a copy of their data
    (``residents.history_codes``)."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not proven_resident_ids(request.user) and resident_queries.awaiting_code(request.user):
            return redirect("residents:history-ask")
        return view(request, *args, **kwargs)

    return wrapped


def _own_export(request: HttpRequest, token: str) -> DataExport:
    """The signed-in resident's export at ``token``, or 404 (another's, a guess, a typo)."""
    export = DataExport.objects.filter(token=token, account=request.user).first()
    if export is None:
        raise Http404("No such export")
    return export


def _expired_page(request: HttpRequest, export: DataExport) -> HttpResponse:
    export_services.expire(export)
    return render(
        request,
        "transparency/export/expired.html",
        {"export": export, "page_title": "This download has expired"},
        status=410,
    )


def _document_or_refusal(request: HttpRequest, export: DataExport, kind: str):
    """The export's document for a download, or the response refusing it."""
    if export_services.is_expired(export):
        return None, _expired_page(request, export)
    if export.status != DataExport.Status.READY:
        return None, redirect("transparency:your-data-export", reference=export.token)
    verdict = hit("data-export-download", f"account:{request.user.pk}")
    if not verdict.allowed:
        return None, too_many_requests_page(request, verdict)
    document = export_services.open_payload(export)
    if document is None:
        return None, _expired_page(request, export)
    export_services.record_download(export, user=request.user, kind=kind)
    return document, None


@data_use(none="A resident's own page: their copies and corrections, by reference and status")
@resident_required
@_after_code
@require_GET
@never_cache
def your_data(request: HttpRequest) -> HttpResponse:
    export_services.delete_expired_exports()
    return render(
        request,
        "transparency/export/your_data.html",
        {
            "resident_ids": proven_resident_ids(request.user),
            "exports": DataExport.objects.filter(account=request.user)[:10],
            "corrections": RectificationRequest.objects.filter(account=request.user).order_by(
                "-created_at"
            ),
            "page_title": "Your data",
        },
    )


@data_use(touches=RESIDENT_DATA, purposes=["subject_access_export"])
@resident_required
@_after_code
@require_POST
def request_export(request: HttpRequest) -> HttpResponse:
    resident_ids = proven_resident_ids(request.user)
    if not resident_ids:
        return redirect("transparency:your-data")
    verdict = hit("data-export-request", f"account:{request.user.pk}")
    if not verdict.allowed:
        return too_many_requests_page(request, verdict)
    export = export_services.request_resident_export(request.user, resident_ids)
    return redirect("transparency:your-data-export", reference=export.token)


@data_use(none="A resident's own page: their copies and corrections, by reference and status")
@resident_required
@_after_code
@require_GET
@never_cache
def export_page(request: HttpRequest, reference: str) -> HttpResponse:
    export = _own_export(request, reference)
    if export_services.is_expired(export):
        return _expired_page(request, export)
    return render(
        request,
        "transparency/export/export.html",
        {"export": export, "page_title": "A copy of your data"},
    )


def _download(request: HttpRequest, reference: str, kind: str) -> HttpResponse:
    document, refusal = _document_or_refusal(request, _own_export(request, reference), kind)
    return refusal or attachment(document, kind, f"your-data-{document['reference']}")


@data_use(touches=RESIDENT_DATA, purposes=["subject_access_export"])
@resident_required
@_after_code
@require_GET
@never_cache
def export_json(request: HttpRequest, reference: str) -> HttpResponse:
    return _download(request, reference, "json")


@data_use(touches=RESIDENT_DATA, purposes=["subject_access_export"])
@resident_required
@_after_code
@require_GET
@never_cache
def export_pdf(request: HttpRequest, reference: str) -> HttpResponse:
    return _download(request, reference, "pdf")


@data_use(touches=RESIDENT_DATA, purposes=["subject_access_export"])
@resident_required
@_after_code
@require_GET
@never_cache
def export_readable(request: HttpRequest, reference: str) -> HttpResponse:
    export = _own_export(request, reference)
    document, refusal = _document_or_refusal(request, export, "html")
    if refusal:
        return refusal
    return render(
        request,
        "transparency/export/readable.html",
        {"export": export, "document": document, "shown": shown, "page_title": "Your data"},
    )


@data_use(none="A resident's own request to correct their own record")
@resident_required
@_after_code
@require_http_methods(["GET", "POST"])
@never_cache
def record_wrong(request: HttpRequest, reference: str) -> HttpResponse:
    """ "This is wrong" on a record of the resident's own export (the key is looked up in it).
    While the account's request about the record waits, the page shows it instead of the form
    and a second submission is refused (409); sending is limited per account
    (``correction-request-account``), over it the form keeps what was typed (429)."""
    export = _own_export(request, reference)
    if export_services.is_expired(export):
        return _expired_page(request, export)
    document = export_services.open_payload(export)
    key = request.GET.get("record", "")
    record = find_record(document, key) if document and key else None
    if record is None:
        raise Http404("No such record in this export")
    form = RectificationForm(request.POST if request.method == "POST" else None)
    waiting = open_correction_of(request.user, record)
    status, verdict = 200, None
    if request.method == "POST" and waiting is None and form.is_valid():
        verdict = hit(CORRECTION_LIMIT, str(request.user.pk))
        if verdict.allowed:
            try:
                correction = ask_for_correction(
                    user=request.user,
                    export=export,
                    record=record,
                    what_is_wrong=form.cleaned_data["what_is_wrong"].strip(),
                    should_be=form.cleaned_data["should_be"].strip(),
                )
            except CorrectionAlreadyOpen as already:
                waiting = already.correction
            else:
                return redirect(reverse("transparency:your-data") + f"?sent={correction.reference}")
        else:
            rule = limit(CORRECTION_LIMIT)
            form.add_error(
                "what_is_wrong",
                f"You have sent {rule.count} corrections recently. Wait "
                f"{wait_words(verdict.retry_after)} before you send another",
            )
            status = 429
    if waiting is not None and request.method == "POST":
        status = 409
    response = render(
        request,
        "transparency/export/wrong.html",
        {
            "export": export,
            "record": record,
            "form": form,
            "waiting": waiting,
            "refused": status == 409,
            "shown": shown,
            "page_title": "Tell us a record is wrong",
        },
        status=status,
    )
    if status == 429:
        response["Retry-After"] = str(verdict.retry_after)
    return response
