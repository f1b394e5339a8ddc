"""Finance officers' screens for bank statements: upload a statement (imported by a background
job whose page shows its progress), see past imports, and work the suspense queue (allocate to an account, split across accounts, return to the payer,
or mark as not rent). Thin: the rules are in statement_import.py, statement_uploads.py and
reconcile.py."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django import forms
from django.contrib import messages
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.core.paginator import Paginator
from django.db.models import Count, Q, Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods

from borough.core.access import staff_area
from borough.core.date_inputs import (
    PARTS,
    add_dates,
    check_order,
    clean_dates,
    date_input_params,
)
from borough.core.dates import date_in_words, time_in_words
from borough.housing import accounts, reconcile, statement_uploads
from borough.housing.matching import engine
from borough.housing.models import (
    BankLine,
    LedgerEntry,
    RentAccount,
    StatementImport,
    StatementUpload,
)
from borough.transparency.coverage import RESIDENT_DATA, data_use

#: How the matcher settled a bank line (``BankLine.method``), as a finance officer reads it.
HOW_MATCHED = {
    engine.PAYMENT_REFERENCE: "Payment reference quoted",
    engine.CORRECTED_REFERENCE: "Payment reference with a typing error, corrected",
    engine.TENANCY_REFERENCE: "Tenancy reference quoted",
    engine.PROPERTY_REFERENCE: "Property reference quoted",
    engine.PAYER_HISTORY: "Payer recognised from their earlier payments",
    engine.PAYER_NAME: "Payer's name matches a tenant",
    engine.SUSPENSE: "Not matched",
    engine.CLOSED_ACCOUNT: "For a closed account",
    engine.NOT_A_CREDIT: "Not a payment in",
    engine.REVERSAL: "Marked by the bank as a reversal, not a payment",
}


def how_matched(line: BankLine) -> str:
    """How ``line`` was matched, in words ("Payment reference quoted")."""
    if line.outcome == BankLine.Outcome.ALLOCATED:
        return "Allocated by an officer"
    posted = line.outcome == BankLine.Outcome.POSTED
    return HOW_MATCHED.get(line.method, "Matched automatically" if posted else "Not matched")


FORMATS = [
    ("", "Work it out from the file"),
    ("camt.053", "camt.053 (XML)"),
    ("mt940", "MT940"),
    ("csv", "CSV"),
]


def _render(request, template, context, status=200):
    return render(
        request,
        f"housing/finance/{template}",
        {"pounds": accounts.pounds, **context},
        status=status,
    )


class _StatementFile(forms.FileField):
    """A statement file: an empty one is named, with the rule every refusal follows (the file,
    the problem, and that nothing was imported)."""

    def to_python(self, data):
        if data and getattr(data, "size", None) == 0 and getattr(data, "name", ""):
            raise forms.ValidationError(
                f"{data.name}: the file is empty. Nothing was imported.", code="empty"
            )
        return super().to_python(data)


class ImportForm(forms.Form):
    file = _StatementFile(
        label="Bank statement file",
        error_messages={
            "required": "Select a bank statement file",
            "empty": "The selected file is empty. Nothing was imported.",
        },
    )
    format = forms.ChoiceField(
        label="Format", choices=FORMATS, required=False, widget=forms.RadioSelect
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = (
            "camt.053 (XML), MT940 or CSV, as your bank exports it. The file must be smaller "
            f"than {statement_uploads.size_text(statement_uploads.upload_limit_bytes())}."
        )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > statement_uploads.upload_limit_bytes():
            raise forms.ValidationError(self.too_big(), code="too_big")
        return upload

    @staticmethod
    def too_big() -> str:
        limit = statement_uploads.size_text(statement_uploads.upload_limit_bytes())
        return f"The selected file must be smaller than {limit}. Nothing was imported."


def _pence(text: str) -> int | None:
    try:
        value = Decimal(text.strip().replace("£", "").replace(",", ""))
    except (InvalidOperation, AttributeError):
        return None
    if value != value.quantize(Decimal("0.01")):
        return None
    return int(value * 100)


class _SizeLimit(FileUploadHandler):
    """Stops reading an upload bigger than the page's limit as soon as its file begins, so the
    rest of the body is never read or stored (the CSRF token, sent before the file, still is).
    The form's other fields add a few hundred bytes at most."""

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        self.request.statement_too_big = (
            content_length > statement_uploads.upload_limit_bytes() + 64 * 1024
        )

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        if self.request.statement_too_big:
            raise StopUpload(connection_reset=True)

    def receive_data_chunk(self, raw_data, start):
        return raw_data  # the next handlers store it

    def file_complete(self, file_size):
        return None


LINES_PAGE = 100


def _import_lines(upload, page_number) -> tuple[list[dict], object]:
    """A page of the lines an import added, each with how it was matched and where it went;
    and the page (None when there are none)."""
    if upload is None or upload.statement_import_id is None:
        return [], None
    lines = BankLine.objects.filter(first_import_id=upload.statement_import_id).order_by(
        "booking_date", "id"
    )
    page = Paginator(lines, LINES_PAGE).get_page(page_number)
    shown = list(page.object_list)
    posted = {}
    keys = [f"statement:{line.line_hash}" for line in shown]
    for key, reference in LedgerEntry.objects.filter(source_key__in=keys).values_list(
        "source_key", "account__payment_reference"
    ):
        posted[key.removeprefix("statement:")] = reference
    rows = [
        {"line": line, "how": how_matched(line), "account": posted.get(line.line_hash, "")}
        for line in shown
    ]
    return rows, page


def _imports_page(request, form, *, upload=None, status=200) -> HttpResponse:
    recent = list(StatementImport.objects.all()[:20])
    lines, lines_page = _import_lines(upload, request.GET.get("page"))
    return _render(
        request,
        "imports.html",
        {
            "form": form if form.is_bound else None,
            "import_form": form,
            "upload": upload,
            "lines": lines,
            "lines_page": lines_page,
            "size_text": statement_uploads.size_text,
            "recent": recent,
            "upload_of": dict(
                StatementUpload.objects.filter(
                    statement_import__in=[r.pk for r in recent]
                ).values_list("statement_import_id", "pk")
            ),
            "page_title": "Bank statements",
        },
        status=status,
    )


@data_use(
    none="Takes a statement file for the import job (which records its matching) and lists "
    "past imports' counts"
)
@csrf_exempt  # checked by _imports, once the size limit is in place (Django's documented way)
@staff_area("finance")
@require_http_methods(["GET", "POST"])
def imports(request: HttpRequest) -> HttpResponse:
    """Upload a statement: stored, then imported by a background job whose page shows how far
    it has got (``statement_uploads``)."""
    request.upload_handlers.insert(0, _SizeLimit(request))
    return _imports(request)


@csrf_protect
def _imports(request: HttpRequest) -> HttpResponse:
    if request.method == "POST" and getattr(request, "statement_too_big", False):
        form = ImportForm(data={"format": ""})
        form.is_valid()
        form.errors.pop("file", None)
        form.add_error("file", ImportForm.too_big())
        return _imports_page(request, form, status=413)
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        if form.is_valid():
            upload = statement_uploads.start_upload(
                form.cleaned_data["file"], format=form.cleaned_data["format"], user=request.user
            )
            return redirect("housing:finance-upload", upload_id=upload.pk)
        too_big = form.has_error("file", code="too_big")
        return _imports_page(request, form, status=413 if too_big else 200)
    return _imports_page(request, form)


@data_use(
    none="Bank lines as the bank sent them and the account each went to; the matching that "
    "used tenants' data is recorded when the import runs"
)
@staff_area("finance")
@require_GET
def upload(request: HttpRequest, upload_id: int) -> HttpResponse:
    """One uploaded statement: how far its import has got, its result, or why it was refused."""
    found = StatementUpload.objects.filter(pk=upload_id).first()
    if found is None:
        raise Http404("No statement upload has that number.")
    form = ImportForm()
    if found.status == StatementUpload.Status.REFUSED:
        form = ImportForm(data={"format": found.format})
        form.is_valid()
        form.errors.clear()
        form.add_error("file", found.message)
    return _imports_page(request, form, upload=found)


@data_use(
    none="Bank lines no rent account was matched to: the bank's payer details, not a resident's records"
)
@staff_area("finance")
@require_GET
def suspense(request: HttpRequest) -> HttpResponse:
    lines = reconcile.suspense_lines()
    totals = lines.aggregate(n=Count("id"), pence=Sum("amount_pence"))
    return _render(
        request,
        "suspense.html",
        {
            "lines": lines[:200],
            "totals": totals,
            "notices": list(messages.get_messages(request)),
            "page_title": "Suspense",
        },
    )


class _Problem(Exception):
    """A problem with what the officer entered, and the field it belongs to."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


def _allocation_parts(request: HttpRequest, line: BankLine) -> list[tuple[int, int]]:
    """(account id, pence) for each payment reference the officer gave, in order."""
    parts = []
    for n in range(1, 4):
        typed = request.POST.get(f"account_{n}", "")
        reference = typed.strip().upper().replace(" ", "")
        amount = request.POST.get(f"amount_{n}", "").strip()
        if not reference and not amount:
            continue
        if not reference:
            raise _Problem("Enter the payment reference for this amount", f"account_{n}")
        account = RentAccount.objects.filter(payment_reference=reference).first()
        if account is None:
            raise _Problem(
                f"No rent account has the payment reference {typed.strip()}", f"account_{n}"
            )
        pence = _pence(amount) if amount else (line.amount_pence if n == 1 else None)
        if pence is None:
            message = "Enter the amount in pounds, like 120.50"
            raise _Problem(message if amount else "Enter the amount for this split", f"amount_{n}")
        parts.append((account.pk, pence))
    if not parts:
        raise _Problem("Enter the payment reference of the rent account", "account_1")
    return parts


def _deal_with(request: HttpRequest, line: BankLine) -> str:
    """Allocate the line, or close it without posting; returns what was done, in words."""
    action = request.POST.get("action", "")
    note = request.POST.get("note", "")
    if action == "allocate":
        parts = _allocation_parts(request, line)
        try:
            reconcile.allocate(line.pk, parts, user=request.user, note=note)
        except reconcile.AllocationError as problem:
            raise _Problem(str(problem), "amount_1" if len(parts) > 1 else "account_1") from None
        references = dict(
            RentAccount.objects.filter(pk__in=[pk for pk, _ in parts]).values_list(
                "pk", "payment_reference"
            )
        )
        shares = ", ".join(f"{accounts.pounds(pence)} to {references[pk]}" for pk, pence in parts)
        return f"Payment of {accounts.pounds(line.amount_pence)} allocated: {shares}."
    if action not in ("refunded", "ignored"):
        raise _Problem("Select what happened to the payment", "action-refunded")
    if not note.strip():
        raise _Problem("Enter why the payment is closed without posting", "close-note")
    try:
        reconcile.close_without_posting(line.pk, user=request.user, outcome=action, note=note)
    except reconcile.AllocationError as problem:
        raise _Problem(str(problem), "action-refunded") from None
    what = "returned to the payer" if action == "refunded" else "marked as not a rent payment"
    return f"Payment of {accounts.pounds(line.amount_pence)} {what}."


def _dealt_with(line: BankLine) -> str:
    """Who dealt with a suspense payment and when, by the officer's full name."""
    if line.resolved_at is None:
        return ""
    user = line.resolved_by
    who = (user.get_full_name().strip() or user.username) if user else "an officer"
    return f"By {who}, {time_in_words(line.resolved_at)} on {date_in_words(line.resolved_at)}"


@data_use(touches=RESIDENT_DATA, purposes=["staff_view_records"])
@staff_area("finance")
@require_http_methods(["GET", "POST"])
def suspense_line(request: HttpRequest, line_id: int) -> HttpResponse:
    line = BankLine.objects.filter(pk=line_id).first()
    if line is None:
        raise Http404("No bank line has that number.")
    error = None
    if request.method == "POST":
        try:
            done = _deal_with(request, line)
        except _Problem as problem:
            error = {"text": str(problem), "href": f"#{problem.field}", "field": problem.field}
        else:
            messages.success(request, done)
            return redirect("housing:finance-suspense")
    suggestions = []
    for item in line.suggestions:
        account = (
            RentAccount.objects.filter(pk=item["account_id"])
            .select_related("tenancy__property")
            .first()
        )
        if account is not None:
            suggestions.append({**item, "account": account})
    posted = LedgerEntry.objects.filter(
        Q(source_key=f"statement:{line.line_hash}")
        | Q(source_key__startswith=f"statement:{line.line_hash}:")
    ).select_related("account")
    # the suggested and credited accounts' tenants are shown to the officer
    accounts.record_staff_view(
        request.user,
        {item["account"].tenancy_id for item in suggestions}
        | {entry.account.tenancy_id for entry in posted},
        reference=f"bank-line-{line.pk}",
    )
    return _render(
        request,
        "suspense_line.html",
        {
            "line": line,
            "how": how_matched(line),
            "dealt_with": _dealt_with(line),
            "suggestions": suggestions,
            "posted": posted,
            "error": error,
            "values": request.POST if request.method == "POST" else {},
            "page_title": f"Payment of {accounts.pounds(line.amount_pence)} on {date_in_words(line.booking_date)}",
        },
    )


class ReportForm(forms.Form):
    """The report's period: two GOV.UK date inputs, both days included."""

    #: each date: its legend, how messages name it, and its message when left blank
    DATES = {
        "start": ("From", "first", "Enter the first day of the period"),
        "end": ("To", "last", "Enter the last day of the period"),
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        add_dates(self, *self.DATES)

    @staticmethod
    def data_for(start: dt.date, end: dt.date) -> dict[str, str]:
        """The form's data for a period (the page's default, this month so far)."""
        return {
            f"{prefix}_{part}": str(getattr(day, part))
            for prefix, day in (("start", start), ("end", end))
            for part in PARTS
        }

    def clean(self):
        data = super().clean()
        clean_dates(
            self, data, {prefix: (which, blank) for prefix, (_, which, blank) in self.DATES.items()}
        )
        check_order(self, "start", "end", "The last day must be on or after the first day")
        return data

    def date_input(self, prefix: str) -> dict:
        legend, _, _ = self.DATES[prefix]
        example = "For example, 1 11 2026" if prefix == "start" else "For example, 30 11 2026"
        return date_input_params(self, prefix, legend, self.wrong_parts[prefix], example)


@data_use(none="Totals by day and by account type; no resident's records")
@staff_area("finance", "housing")
@require_GET
def reports(request: HttpRequest) -> HttpResponse:
    """Cash received by method for a period, what is in suspense, and balances: arrears and
    credit across all accounts (each from the ledger and the bank lines, nothing stored)."""
    from django.utils import timezone

    today = timezone.localdate()
    form = ReportForm(request.GET or ReportForm.data_for(today.replace(day=1), today))
    cash, total = [], 0
    if form.is_valid():
        start, end = form.dates["start"], form.dates["end"]
        received = (
            LedgerEntry.objects.filter(
                posted_on__gte=start,
                posted_on__lte=end,
                amount_pence__lt=0,
            )
            .exclude(kind=LedgerEntry.Kind.REVERSAL)
            .values("kind")
            .annotate(n=Count("id"), pence=Sum("amount_pence"))
            .order_by("kind")
        )
        labels = dict(LedgerEntry.Kind.choices)
        for row in received:
            cash.append({"label": labels[row["kind"]], "count": row["n"], "pence": -row["pence"]})
            total += -row["pence"]
        reversed_ = LedgerEntry.objects.filter(
            posted_on__gte=start,
            posted_on__lte=end,
            kind=LedgerEntry.Kind.REVERSAL,
            amount_pence__gt=0,
        ).aggregate(n=Count("id"), pence=Sum("amount_pence"))
    else:
        reversed_ = {"n": 0, "pence": 0}
    suspense = reconcile.suspense_lines().aggregate(n=Count("id"), pence=Sum("amount_pence"))
    balances = (
        LedgerEntry.objects.values("account_id")
        .annotate(balance=Sum("amount_pence"))
        .values_list("balance", flat=True)
    )
    arrears = [b for b in balances if b > 0]
    credit = [b for b in balances if b < 0]
    return _render(
        request,
        "reports.html",
        {
            "form": form if request.GET else None,
            "report_form": form,
            "start_input": form.date_input("start"),
            "end_input": form.date_input("end"),
            "cash": cash,
            "total": total,
            "reversed": reversed_,
            "suspense": suspense,
            "arrears": {"n": len(arrears), "pence": sum(arrears)},
            "credit": {"n": len(credit), "pence": -sum(credit)},
            "page_title": "Rent reports",
        },
    )
