"""The finance officer's Direct Debit pages: mandates, Bacs runs (make today's, download a
file), and uploading a Bacs report with what it did. Thin: the rules are in direct_debit.py,
direct_debit_runs.py and direct_debit_reports.py. The tenant's pages are in dd_views.py."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET, require_http_methods

from borough.core.access import staff_area
from borough.housing import accounts, direct_debit, direct_debit_reports, direct_debit_runs
from borough.housing.dd_forms import ReportForm
from borough.housing.dd_pages import render_page, today_in_london
from borough.housing.models import BacsRun, Mandate
from borough.transparency.coverage import RESIDENT_DATA, data_use
from borough.transparency.models import Action

PAGE = 50
Status = Mandate.Status


@data_use(touches=RESIDENT_DATA, purposes=["staff_view_records"])
@staff_area("finance")
@require_GET
def mandates(request: HttpRequest) -> HttpResponse:
    chosen = request.GET.get("status", "")
    found = Mandate.objects.select_related("account").order_by("-created_at")
    if chosen in Status.values:
        found = found.filter(status=chosen)
    page = Paginator(found, PAGE).get_page(request.GET.get("page"))
    accounts.record_staff_view(
        request.user,
        {m.account.tenancy_id for m in page.object_list},
        reference="direct-debit-mandates",
    )
    return render_page(
        request,
        "mandates.html",
        {
            "page_obj": page,
            "statuses": Status.choices,
            "chosen": chosen,
            "schedule": direct_debit.describe_schedule,
            "page_title": "Direct Debit mandates",
        },
    )


@data_use(touches=RESIDENT_DATA, purposes=["housing_direct_debit_collection"])
@staff_area("finance")
@require_http_methods(["GET", "POST"])
def runs(request: HttpRequest) -> HttpResponse:
    message = error = None
    if request.method == "POST":
        try:
            run = direct_debit_runs.bacs_run(today_in_london(), created_by=request.user)
        except direct_debit.NothingToSubmit as nothing:
            message = str(nothing)
        except direct_debit.DirectDebitError as problem:
            error = str(problem)
        else:
            return redirect(f"{request.path}?made={run.pk}")
    made_id = request.GET.get("made", "")
    made = BacsRun.objects.filter(pk=int(made_id)).first() if made_id.isdigit() else None
    return render_page(
        request,
        "runs.html",
        {
            "runs": BacsRun.objects.all()[:100],
            "made": made,
            "message": message,
            "error": error,
            "today": today_in_london(),
            "page_title": "Bacs runs",
        },
    )


@data_use(touches=RESIDENT_DATA, purposes=["housing_direct_debit_collection"])
@staff_area("finance")
@require_GET
def run_file(request: HttpRequest, run_id: int) -> HttpResponse:
    run = BacsRun.objects.filter(pk=run_id).first()
    if run is None or not run.file_text:
        raise Http404("No Bacs run has that number.")
    # the file holds every payer's bank details: its download is recorded, per batch
    accounts.record_tenants_use(
        direct_debit_runs.run_tenancies(run),
        request.user,
        purpose="housing_direct_debit_collection",
        action=Action.EXPORT,
        reference=f"bacs-run-{run.pk}",
        label="",
    )
    response = HttpResponse(run.file_text.encode("ascii"), content_type="text/plain")
    response["Content-Disposition"] = (
        f'attachment; filename="bacs-{run.entry_date.isoformat()}-{run.serial}.txt"'
    )
    return response


@data_use(touches=RESIDENT_DATA, purposes=["housing_direct_debit_collection"])
@staff_area("finance")
@require_http_methods(["GET", "POST"])
def report_upload(request: HttpRequest) -> HttpResponse:
    form = ReportForm(request.POST or None, request.FILES or None)
    outcome = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            outcome = direct_debit_reports.import_bacs_report(
                upload.read(), created_by=request.user, source=upload.name
            )
        except direct_debit.DirectDebitError as problem:
            form.add_error("file", str(problem))
    return render_page(
        request,
        "reports.html",
        {
            "form": form if request.method == "POST" else None,
            "report_form": form,
            "outcome": outcome,
            "page_title": "Bacs reports",
        },
    )
