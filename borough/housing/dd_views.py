"""Direct Debit pages. Thin: the rules are in direct_debit.py.

- The tenant (signed in, a tenant of the account): set up a Direct Debit one question a page,
  without JavaScript (name on the account; sort code and account number; are you the only
  person who authorises debits; how often; which day; check, with the Direct Debit Guarantee;
  confirm), then see it and cancel it. What they type is kept in the session until they confirm,
  the bank details encrypted (``bank_details``); pages show them masked.
- The finance officer: mandates, Bacs runs (make today's, download a file), and uploading a
  Bacs report with what it did.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.conf import settings
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from borough.core.access import resident_required, staff_area
from borough.housing import (
    accounts,
    bank_details,
    direct_debit,
    direct_debit_reports,
    direct_debit_runs,
)
from borough.housing.bacs import modulus
from borough.housing.models import BacsRun, Mandate, RentAccount
from borough.housing.views import _mine
from borough.places.forms import upload_limit_bytes
from borough.transparency.coverage import RESIDENT_DATA, data_use
from borough.transparency.models import Action

PAGE = 50
Status = Mandate.Status


def _render(request, template, context, status=200):
    return render(
        request,
        f"housing/dd/{template}",
        {"pounds": accounts.pounds, "masked": _masked, **context},
        status=status,
    )


def _masked(last2: str, last4: str) -> str:
    return f"**-**-{last2} ****{last4}"


def _today() -> dt.date:
    return timezone.localdate()


# -- the tenant's journey ----------------------------------------------------------------------


def _key(account: RentAccount) -> str:
    return f"dd_setup:{account.pk}"


def _answers(request, account: RentAccount) -> dict:
    return dict(request.session.get(_key(account), {}))


def _save(request, account: RentAccount, **values) -> None:
    answers = _answers(request, account)
    answers.update(values)
    request.session[_key(account)] = answers


#: The questions in order, each with the answers it sets.
STEPS = (
    ("housing:dd-name", ("holder",)),
    ("housing:dd-bank", ("sort_code", "account_number")),
    ("housing:dd-authorise", ("authorised",)),
    ("housing:dd-frequency", ("frequency",)),
    ("housing:dd-day", ("day",)),
)


def _first_missing(answers: dict, up_to: str) -> str | None:
    """The first question before ``up_to`` not yet answered (None: all answered)."""
    for name, keys in STEPS:
        if name == up_to:
            return None
        if any(answers.get(key) in (None, "") for key in keys) or (
            name == "housing:dd-authorise" and answers.get("authorised") != "yes"
        ):
            return name
    return None


def _journey(request, reference: str, step: str):
    """The account and answers so far, or a redirect: to the Direct Debit page when the account
    has a live mandate, to the first unanswered question otherwise."""
    account = _mine(request, reference)
    if direct_debit.live_mandate(account) is not None:
        return account, None, redirect("housing:dd-status", reference=reference)
    answers = _answers(request, account)
    missing = _first_missing(answers, step)
    if missing:
        return account, answers, redirect(missing, reference=reference)
    return account, answers, None


def _next(request, reference: str, default: str):
    if request.GET.get("change") == "1" or request.POST.get("change") == "1":
        return redirect("housing:dd-check", reference=reference)
    return redirect(default, reference=reference)


def _question(request, account, form, *, title, back, fields, intro=(), button="Continue"):
    return _render(
        request,
        "question.html",
        {
            "form": form if form.is_bound else None,
            "question_form": form,
            "fields": fields,
            "intro": intro,
            "back": back,
            "button": button,
            "account": account,
            "change": request.GET.get("change") == "1" or request.POST.get("change") == "1",
            "page_title": title,
        },
    )


class HolderForm(forms.Form):
    holder = forms.CharField(
        label="What is the name on the bank account?",
        max_length=60,
        help_text="As it appears on your bank statement or card",
        widget=forms.TextInput(attrs={"autocomplete": "name", "spellcheck": False}),
        error_messages={
            "required": "Enter the name on the account",
            "max_length": "The name on the account must be 60 characters or fewer",
        },
    )

    def clean_holder(self):
        value = " ".join(self.cleaned_data["holder"].split())
        problem = direct_debit.check_holder_name(value)
        if problem:
            raise forms.ValidationError(problem)
        return value


class BankForm(forms.Form):
    sort_code = forms.CharField(
        label="Sort code",
        help_text="Must be 6 digits long",
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "spellcheck": False}),
    )
    account_number = forms.CharField(
        label="Account number",
        help_text="Must be between 6 and 8 digits long",
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "spellcheck": False}),
    )
    check: modulus.BankCheck | None = None

    def clean(self):
        data = super().clean()
        check = modulus.check_bank_details(
            data.get("sort_code", ""), data.get("account_number", "")
        )
        if not check.ok:
            self.add_error(check.field or "account_number", check.message)
        self.check = check
        return data


class AuthoriseForm(forms.Form):
    authorised = forms.ChoiceField(
        label="Are you the account holder and the only person needed to authorise debits from "
        "this account?",
        choices=[("yes", "Yes"), ("no", "No")],
        widget=forms.RadioSelect,
        error_messages={
            "required": "Select yes if you are the account holder and the only person needed "
            "to authorise debits",
            "invalid_choice": "Select yes if you are the account holder and the only person "
            "needed to authorise debits",
        },
    )


def _frequency_form(data, amounts: dict[str, int]):
    choices = [
        (code, f"{name}: {accounts.pounds(amounts[code])}")
        for code, name in accounts.FREQUENCY_NAMES.items()
    ]
    choices.sort(key=lambda choice: list(Mandate.Frequency.values).index(choice[0]))

    class FrequencyForm(forms.Form):
        frequency = forms.ChoiceField(
            label="How often do you want to pay?",
            choices=choices,
            widget=forms.RadioSelect,
            help_text="Choose what matches when you are paid or get Universal Credit. Each "
            "amount pays your rent and charges over the year.",
            error_messages={
                "required": "Select how often you want to pay",
                "invalid_choice": "Select how often you want to pay",
            },
        )

    return FrequencyForm(data)


class MonthDayForm(forms.Form):
    day = forms.IntegerField(
        label="Which day of the month do you want to pay?",
        help_text="Enter a day from 1 to 28, for example 15. Choose the day after you are paid "
        "or get Universal Credit",
        min_value=1,
        max_value=28,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "class": "govuk-input--width-2"}),
        error_messages={
            "required": "Enter the day of the month you want to pay",
            "invalid": "Enter the day of the month as a number, like 15",
            "min_value": "The day of the month must be between 1 and 28",
            "max_value": "The day of the month must be between 1 and 28",
        },
    )


class WeekdayForm(forms.Form):
    day = forms.TypedChoiceField(
        label="Which day of the week do you want to pay?",
        help_text="Choose the day after you are paid or get Universal Credit",
        choices=list(enumerate(direct_debit.WEEKDAYS)),
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Select the day of the week you want to pay",
            "invalid_choice": "Select the day of the week you want to pay",
        },
    )


def _heading(kind: str, text: str) -> dict:
    if kind == "legend":
        return {
            "fieldset": {
                "legend": {
                    "text": text,
                    "isPageHeading": True,
                    "classes": "govuk-fieldset__legend--l",
                }
            }
        }
    return {"label": {"text": text, "isPageHeading": True, "classes": "govuk-label--l"}}


def _next_day(mandate: Mandate, today: dt.date) -> dt.date:
    upcoming = direct_debit.next_collection(mandate, today)
    return upcoming[0] if upcoming else today


@data_use(
    none="The signed-in resident's own Direct Debit: no officer or service reads anyone's data"
)
@resident_required
@require_GET
def status(request: HttpRequest, reference: str) -> HttpResponse:
    """The account's Direct Debit (masked), or what setting one up involves."""
    account = _mine(request, reference)
    mandate = direct_debit.live_mandate(account)
    today = _today()
    accounts._log(account, request.user, Action.VIEWED_RECORDS, account.payment_reference)
    ended = None
    if mandate is None:
        ended = account.mandates.exclude(status__in=direct_debit.LIVE).first()
    return _render(
        request,
        "status.html",
        {
            "account": account,
            "mandate": mandate,
            "ended": ended,
            "next": direct_debit.next_collection(mandate, today) if mandate else None,
            "schedule": direct_debit.describe_schedule(mandate.frequency, mandate.collection_day)
            if mandate
            else "",
            "amounts": accounts.standing_order_amounts(account, today=today),
            "year": accounts.year_explained(account, on=today),
            "explained": accounts.amount_explained(
                account, mandate.frequency, on=_next_day(mandate, today)
            )
            if mandate
            else "",
            "registered_name": direct_debit.service_user_name(),
            "sun": settings.BOROUGH_BACS_SUN,
            "page_title": "Pay by Direct Debit",
        },
    )


@data_use(
    none="The signed-in resident's own Direct Debit: no officer or service reads anyone's data"
)
@resident_required
@require_http_methods(["GET", "POST"])
def holder(request: HttpRequest, reference: str) -> HttpResponse:
    account, answers, away = _journey(request, reference, "housing:dd-name")
    if away:
        return away
    form = HolderForm(
        request.POST if request.method == "POST" else None,
        initial={"holder": answers.get("holder", "")},
    )
    if request.method == "POST" and form.is_valid():
        _save(request, account, holder=form.cleaned_data["holder"])
        return _next(request, reference, "housing:dd-bank")
    return _question(
        request,
        account,
        form,
        title="What is the name on the bank account?",
        back=("Pay by Direct Debit", "housing:dd-status"),
        fields=[(form["holder"], {**_heading("label", str(form["holder"].label))})],
    )


@data_use(
    none="The signed-in resident's own Direct Debit: no officer or service reads anyone's data"
)
@resident_required
@require_http_methods(["GET", "POST"])
def bank(request: HttpRequest, reference: str) -> HttpResponse:
    account, _answers_so_far, away = _journey(request, reference, "housing:dd-bank")
    if away:
        return away
    form = BankForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        check = form.check
        _save(
            request,
            account,
            sort_code=bank_details.encrypt(check.sort_code_digits),
            account_number=bank_details.encrypt(check.account_number),
            last2=check.sort_code_digits[-2:],
            last4=check.account_number[-4:],
        )
        return _next(request, reference, "housing:dd-authorise")
    return _question(
        request,
        account,
        form,
        title="Enter your bank details",
        back=("Back", "housing:dd-name"),
        intro=[
            "The account must be a UK bank or building society account that takes Direct "
            "Debits. For your security we do not show these numbers again in full."
        ],
        fields=[
            (form["sort_code"], {"classes": "govuk-input--width-5"}),
            (form["account_number"], {"classes": "govuk-input--width-10"}),
        ],
    )


@data_use(
    none="The signed-in resident's own Direct Debit: no officer or service reads anyone's data"
)
@resident_required
@require_http_methods(["GET", "POST"])
def authorise(request: HttpRequest, reference: str) -> HttpResponse:
    account, answers, away = _journey(request, reference, "housing:dd-authorise")
    if away:
        return away
    form = AuthoriseForm(
        request.POST if request.method == "POST" else None,
        initial={"authorised": answers.get("authorised")},
    )
    if request.method == "POST" and form.is_valid():
        _save(request, account, authorised=form.cleaned_data["authorised"])
        if form.cleaned_data["authorised"] == "no":
            return redirect("housing:dd-paper", reference=reference)
        return _next(request, reference, "housing:dd-frequency")
    return _question(
        request,
        account,
        form,
        title=str(form["authorised"].label),
        back=("Back", "housing:dd-bank"),
        fields=[
            (
                form["authorised"],
                {
                    **_heading("legend", str(form["authorised"].label)),
                    "classes": "govuk-radios--inline",
                },
            )
        ],
    )


@data_use(
    none="The signed-in resident's own Direct Debit: no officer or service reads anyone's data"
)
@resident_required
@require_GET
def paper(request: HttpRequest, reference: str) -> HttpResponse:
    account = _mine(request, reference)
    return _render(
        request,
        "paper.html",
        {"account": account, "page_title": "You need to set up your Direct Debit on paper"},
    )


@data_use(
    none="The signed-in resident's own Direct Debit: no officer or service reads anyone's data"
)
@resident_required
@require_http_methods(["GET", "POST"])
def frequency(request: HttpRequest, reference: str) -> HttpResponse:
    account, answers, away = _journey(request, reference, "housing:dd-frequency")
    if away:
        return away
    amounts = accounts.standing_order_amounts(account, today=_today())
    form = _frequency_form(request.POST if request.method == "POST" else None, amounts)
    form.initial = {"frequency": answers.get("frequency")}
    if request.method == "POST" and form.is_valid():
        chosen = form.cleaned_data["frequency"]
        changed = chosen != answers.get("frequency")
        _save(request, account, frequency=chosen, **({"day": None} if changed else {}))
        if changed:  # the day's question depends on the frequency
            return redirect("housing:dd-day", reference=reference)
        return _next(request, reference, "housing:dd-day")
    return _question(
        request,
        account,
        form,
        title="How often do you want to pay?",
        back=("Back", "housing:dd-authorise"),
        intro=[
            f"{accounts.year_explained(account, on=_today())}. We spread that evenly over the "
            "year, so you pay the same amount each time, including in the rent-free weeks."
        ],
        fields=[(form["frequency"], _heading("legend", "How often do you want to pay?"))],
    )


@data_use(
    none="The signed-in resident's own Direct Debit: no officer or service reads anyone's data"
)
@resident_required
@require_http_methods(["GET", "POST"])
def day(request: HttpRequest, reference: str) -> HttpResponse:
    account, answers, away = _journey(request, reference, "housing:dd-day")
    if away:
        return away
    monthly = answers["frequency"] == Mandate.Frequency.MONTHLY
    form_class = MonthDayForm if monthly else WeekdayForm
    data = request.POST if request.method == "POST" else None
    form = form_class(data, initial={"day": answers.get("day")})
    if request.method == "POST" and form.is_valid():
        _save(request, account, day=int(form.cleaned_data["day"]))
        return redirect("housing:dd-check", reference=reference)
    label = str(form["day"].label)
    return _question(
        request,
        account,
        form,
        title=label,
        back=("Back", "housing:dd-frequency"),
        fields=[(form["day"], _heading("label" if monthly else "legend", label))],
    )


def _plan(account: RentAccount, answers: dict, today: dt.date) -> dict:
    first = direct_debit.first_collection_date(answers["frequency"], answers["day"], today)
    return {
        "first_day": direct_debit.collection_day_of(first),
        "amount": direct_debit.amount_pence(account, answers["frequency"], first),
        "explained": accounts.amount_explained(account, answers["frequency"], on=first),
        "schedule": direct_debit.describe_schedule(answers["frequency"], answers["day"]),
    }


@data_use(
    none="The signed-in resident's own Direct Debit: no officer or service reads anyone's data"
)
@resident_required
@require_http_methods(["GET", "POST"])
def check(request: HttpRequest, reference: str) -> HttpResponse:
    account, answers, away = _journey(request, reference, "housing:dd-check")
    if away:
        return away
    if answers.get("day") in (None, ""):
        return redirect("housing:dd-day", reference=reference)
    today = _today()
    error = None
    if request.method == "POST":
        try:
            mandate = direct_debit.set_up_mandate(
                account,
                account_holder=answers["holder"],
                sort_code=bank_details.decrypt(answers["sort_code"]),
                account_number=bank_details.decrypt(answers["account_number"]),
                frequency=answers["frequency"],
                collection_day=int(answers["day"]),
                today=today,
                created_by=request.user,
                email_to=request.user.email,
            )
        except (direct_debit.DirectDebitError, bank_details.BankDetailsError) as problem:
            error = str(problem)
        else:
            request.session.pop(_key(account), None)
            request.session["dd_done"] = mandate.pk
            return redirect("housing:dd-done", reference=reference)
    return _render(
        request,
        "check.html",
        {
            "account": account,
            "answers": answers,
            "plan": _plan(account, answers, today),
            "guarantee": direct_debit.guarantee_paragraphs(),
            "council_name": settings.COUNCIL.name,
            "registered_name": direct_debit.service_user_name(),
            "error": error,
            "page_title": "Check your Direct Debit details",
        },
    )


@data_use(
    none="The signed-in resident's own Direct Debit: no officer or service reads anyone's data"
)
@resident_required
@require_GET
def done(request: HttpRequest, reference: str) -> HttpResponse:
    account = _mine(request, reference)
    mandate = account.mandates.filter(pk=request.session.get("dd_done")).first()
    if mandate is None:
        return redirect("housing:dd-status", reference=reference)
    return _render(
        request,
        "done.html",
        {
            "account": account,
            "mandate": mandate,
            "first_day": direct_debit.collection_day_of(mandate.first_collection_on),
            "amount": direct_debit.amount_pence(
                account, mandate.frequency, mandate.first_collection_on
            ),
            "explained": accounts.amount_explained(
                account, mandate.frequency, on=mandate.first_collection_on
            ),
            "registered_name": direct_debit.service_user_name(),
            "email": request.user.email,
            "page_title": "Direct Debit set up",
        },
    )


@data_use(
    none="The signed-in resident's own Direct Debit: no officer or service reads anyone's data"
)
@resident_required
@require_http_methods(["GET", "POST"])
def cancel(request: HttpRequest, reference: str) -> HttpResponse:
    account = _mine(request, reference)
    mandate = direct_debit.live_mandate(account)
    if mandate is None:
        return redirect("housing:dd-status", reference=reference)
    if request.method == "POST":
        direct_debit.cancel_mandate(
            mandate, by=request.user, reason="Cancelled by the tenant online"
        )
        return redirect("housing:dd-status", reference=reference)
    return _render(
        request,
        "cancel.html",
        {"account": account, "mandate": mandate, "page_title": "Cancel your Direct Debit"},
    )


# -- finance -----------------------------------------------------------------------------------


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
    return _render(
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
            run = direct_debit_runs.bacs_run(_today(), created_by=request.user)
        except direct_debit.NothingToSubmit as nothing:
            message = str(nothing)
        except direct_debit.DirectDebitError as problem:
            error = str(problem)
        else:
            return redirect(f"{request.path}?made={run.pk}")
    made_id = request.GET.get("made", "")
    made = BacsRun.objects.filter(pk=int(made_id)).first() if made_id.isdigit() else None
    return _render(
        request,
        "runs.html",
        {
            "runs": BacsRun.objects.all()[:100],
            "made": made,
            "message": message,
            "error": error,
            "today": _today(),
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


class ReportForm(forms.Form):
    file = forms.FileField(
        label="Bacs report file",
        help_text="An ARUDD, ADDACS or AUDDIS report in XML, as your bureau sends it",
        error_messages={
            "required": "Select a Bacs report file",
            "empty": "The selected file is empty",
        },
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > upload_limit_bytes():
            raise forms.ValidationError("The selected file is too big")
        return upload


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
    return _render(
        request,
        "reports.html",
        {
            "form": form if request.method == "POST" else None,
            "report_form": form,
            "outcome": outcome,
            "page_title": "Bacs reports",
        },
    )
