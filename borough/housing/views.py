"""The tenant's rent account pages: first sign-in (payment reference and postcode, then the
resident index confirms they are the tenant), the account, statements as CSV and PDF. Thin:
the rules live in accounts.py and services.py."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from borough.core.access import public, resident_required
from borough.core.govuk_forms import NameAndDateOfBirthForm
from borough.core.middleware import cacheable
from borough.housing import accounts, direct_debit, linking
from borough.housing.models import RentAccount
from borough.housing.rent_weeks import first_monday_in_april
from borough.housing.statement_pdf import render_statement_pdf
from borough.places.forms import PostcodeForm
from borough.residents.verification.attempts import TooManyAttempts, limit_for
from borough.residents.verification.engine import Applicant, ApplicantError
from borough.residents.verification.models import Verification
from borough.residents.verification.service import VerificationUnavailable, verify
from borough.transparency.coverage import RESIDENT_DATA, data_use
from borough.transparency.models import ActorKind

#: Free, impartial money and debt advice, backed by the government (shown to a tenant who owes).
MONEY_ADVICE_URL = "https://www.moneyhelper.org.uk/en/money-troubles/dealing-with-debt"

LINK_KEY = "rent_link"
CHECK_KEY = "rent_link_check"


def _render(request, template, context, status=200):
    return render(
        request, f"housing/{template}", {"pounds": accounts.pounds, **context}, status=status
    )


class ReferenceForm(PostcodeForm):
    payment_reference = forms.CharField(
        label="Rent payment reference",
        help_text="It is on your rent card, rent letters and bank statements, like 12345678I",
        max_length=30,
        widget=forms.TextInput(attrs={"spellcheck": False, "autocomplete": "off"}),
        error_messages={
            "required": "Enter your rent payment reference",
            "max_length": "Enter your rent payment reference, like 12345678I",
        },
    )
    field_order = ["payment_reference", "postcode"]


PERIODS = {
    "3m": "The last 3 months",
    "this": "This rent year (from April)",
    "last": "Last rent year",
    "all": "Everything",
    "dates": "Between two dates",
}
DATE_FORMATS = ["%d/%m/%Y", "%Y-%m-%d", "%d %m %Y"]


class StatementForm(forms.Form):
    period = forms.ChoiceField(
        label="Which period?",
        choices=list(PERIODS.items()),
        widget=forms.RadioSelect,
        error_messages={"required": "Select the period", "invalid_choice": "Select the period"},
    )
    start = forms.DateField(
        label="From",
        required=False,
        input_formats=DATE_FORMATS,
        help_text="For example, 1/4/2026",
        error_messages={"invalid": "Enter a real date, like 1/4/2026"},
    )
    end = forms.DateField(
        label="To",
        required=False,
        input_formats=DATE_FORMATS,
        help_text="For example, 31/10/2026",
        error_messages={"invalid": "Enter a real date, like 31/10/2026"},
    )
    format = forms.ChoiceField(
        label="Format",
        choices=[("pdf", "PDF (to read or print)"), ("csv", "CSV (for a spreadsheet)")],
        widget=forms.RadioSelect,
        error_messages={"required": "Select a format", "invalid_choice": "Select a format"},
    )

    def clean(self):
        data = super().clean()
        if data.get("period") == "dates" and not self.errors:
            if not data.get("start"):
                self.add_error("start", "Enter the first day of the statement")
            if not data.get("end"):
                self.add_error("end", "Enter the last day of the statement")
            if data.get("start") and data.get("end") and data["end"] < data["start"]:
                self.add_error("end", "The last day must be on or after the first day")
        return data


def _today() -> dt.date:
    return timezone.localdate()


def _period(code: str, account: RentAccount, today: dt.date) -> tuple[dt.date, dt.date]:
    year_start = first_monday_in_april(today.year)
    if today < year_start:
        year_start = first_monday_in_april(today.year - 1)
    if code == "3m":
        return today - dt.timedelta(days=91), today
    if code == "this":
        return year_start, today
    if code == "last":
        previous = first_monday_in_april(year_start.year - 1)
        return previous, year_start - dt.timedelta(days=1)
    return account.opened_on, today


def _mine(request, reference: str) -> RentAccount:
    for account in accounts.accounts_of(request.user):
        if account.payment_reference == reference:
            return account
    raise Http404("You do not have a rent account with that reference.")


@data_use(none="Information about paying rent")
@cacheable
@public
@require_GET
def start(request: HttpRequest) -> HttpResponse:
    return _render(request, "start.html", {"page_title": "Your rent account"})


@data_use(
    none="The signed-in resident's own list of rent accounts: no officer or service reads anyone's data"
)
@resident_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    mine = accounts.accounts_of(request.user)
    if len(mine) == 1:
        return redirect("housing:account", reference=mine[0].payment_reference)
    if not mine:
        return redirect("housing:link")
    return _render(request, "choose.html", {"accounts": mine, "page_title": "Your rent accounts"})


def _locked(request, refusal: TooManyAttempts, account=None) -> HttpResponse:
    """Too many failed checks: when the person may try again, and what to do now; whether the
    tenants were told only when their rent account or one of them is what is locked."""
    response = _render(
        request,
        "link_locked.html",
        {
            "page_title": "You have tried too many times",
            "until": timezone.localtime(refusal.until),
            "what": limit_for(refusal.scope).title,
            "told": account is not None and linking.tenants_were_told(account),
            "phone": settings.COUNCIL.contact.phone,
        },
        429,
    )
    response["Retry-After"] = str(refusal.retry_after_seconds)
    return response


@data_use(
    none="Finds an account by the payment reference and postcode typed, and shows nobody's "
    "details; the check of who they are (the next step) is recorded"
)
@resident_required
@require_http_methods(["GET", "POST"])
def link(request: HttpRequest) -> HttpResponse:
    """Step 1: the payment reference and postcode. Failed guesses are counted in the database
    per payment reference and per online account (a new session does not reset them)."""
    form = ReferenceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            account = linking.find_for_first_sign_in(
                request.user,
                form.cleaned_data["payment_reference"],
                form.cleaned_data["postcode"],
            )
        except TooManyAttempts as refusal:
            return _locked(request, refusal)
        if account is None:
            form.add_error(
                "payment_reference",
                "We cannot find a rent account with that payment reference and postcode. "
                "Check them and try again",
            )
        else:
            request.session[LINK_KEY] = account.pk
            request.session.pop(CHECK_KEY, None)
            return redirect("housing:link-you")
    return _render(request, "link.html", {"form": form, "page_title": "Find your rent account"})


def _link_account(request) -> RentAccount | None:
    return (
        RentAccount.objects.filter(pk=request.session.get(LINK_KEY))
        .select_related("tenancy__property")
        .first()
    )


@data_use(touches=RESIDENT_DATA, purposes=["housing_tenant_verification"])
@resident_required
@require_http_methods(["GET", "POST"])
def link_you(request: HttpRequest) -> HttpResponse:
    """Step 2: name and date of birth, verified through the resident index as a tenant of this
    tenancy (``housing_tenant_verification``), then linked (``linking.link_verified``)."""
    account = _link_account(request)
    if account is None:
        return redirect("housing:link")
    form = NameAndDateOfBirthForm(
        request.POST or None,
        initial={"first_name": request.user.first_name, "surname": request.user.last_name},
    )
    if request.method == "POST" and form.is_valid():
        applicant = Applicant(
            first_name=form.cleaned_data["first_name"],
            surname=form.cleaned_data["surname"],
            date_of_birth=form.date_of_birth,
            uprn=account.tenancy.property_id,
        )
        check = None
        try:
            check = verify(
                applicant,
                linking.PURPOSE,
                actor=request.user,
                actor_kind=ActorKind.RESIDENT,
                caller_reference=account.payment_reference,
                targets=(linking.rent_account_target(account),),
            )
        except TooManyAttempts as refusal:
            return _locked(request, refusal, account)
        except ApplicantError as error:
            form.add_error("surname" if error.field == "surname" else "first_name", error.message)
        except VerificationUnavailable:
            check = None
        if not form.errors:
            if check is not None and check.lockout is not None:
                return _locked(request, check.lockout, account)
            if check is not None:
                request.session[CHECK_KEY] = check.reference
            result = None
            if check is not None and check.decision == "verified" and check.resident_id:
                result = linking.link_verified(account, request.user, resident_id=check.resident_id)
                if result.status == "not_tenant":
                    linking.count_failed_link(account, check)
            if result is not None and result.status in ("linked", "already"):
                request.session.pop(LINK_KEY, None)
                request.session.pop(CHECK_KEY, None)
                return redirect("housing:account", reference=account.payment_reference)
            letter = linking.may_ask_for_letter(account, check, request.user)
            return _render(
                request,
                "link_taken.html"
                if result is not None and result.status == "taken"
                else "link_failed.html",
                {
                    "page_title": (
                        "Your tenancy is already linked to another online account"
                        if result is not None and result.status == "taken"
                        else "We could not confirm you are the tenant"
                    ),
                    "letter": letter is not None,
                    "unavailable": check is None,
                    "phone": settings.COUNCIL.contact.phone,
                },
            )
    return _render(
        request, "link_you.html", {"form": form, "page_title": "Confirm you are the tenant"}
    )


@data_use(touches=RESIDENT_DATA, purposes=["housing_tenant_verification"])
@resident_required
@require_POST
def link_letter(request: HttpRequest) -> HttpResponse:
    """Post a one-time code to the home, for someone the last check entitled to one
    (``linking.may_ask_for_letter``)."""
    account = _link_account(request)
    if account is None:
        return redirect("housing:link")
    check = Verification.objects.filter(reference=request.session.get(CHECK_KEY, "")).first()
    tenant = linking.may_ask_for_letter(account, check, request.user)
    if tenant is None:
        return _render(
            request,
            "link_failed.html",
            {
                "page_title": "We could not confirm you are the tenant",
                "letter": False,
                "phone": settings.COUNCIL.contact.phone,
            },
            403,
        )
    try:
        linking.send_link_code(account, tenant, request.user, site=request.build_absolute_uri("/"))
    except linking.LetterRefused as refused:
        message = str(refused)
    else:
        message = ""
    request.session.pop(CHECK_KEY, None)
    return _render(
        request,
        "link_letter_sent.html",
        {
            "page_title": "We are posting you a code" if not message else "We have posted a code",
            "message": message,
            "address": account.tenancy.property.single_line(),
            "days": linking.CODE_DAYS,
        },
    )


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Code from the letter",
        help_text="It is 10 letters and numbers, like 4KX7Q-29MBD",
        max_length=20,
        widget=forms.TextInput(attrs={"spellcheck": False, "autocomplete": "one-time-code"}),
        error_messages={
            "required": "Enter the code from the letter",
            "max_length": "Enter the code from the letter, like 4KX7Q-29MBD",
        },
    )


@data_use(touches=RESIDENT_DATA, purposes=["housing_tenant_verification"])
@resident_required
@require_http_methods(["GET", "POST"])
def link_code(request: HttpRequest) -> HttpResponse:
    """Enter the code from the letter: the account that asked for it sees the rent account."""
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            account = linking.redeem_link_code(request.user, form.cleaned_data["code"])
        except TooManyAttempts as refusal:
            return _locked(request, refusal)
        if account is None:
            form.add_error(
                "code",
                "That code is not right, has been used or has expired. Check the letter and "
                "make sure you are signed in with the account you used to ask for it",
            )
        else:
            return redirect("housing:account", reference=account.payment_reference)
    return _render(
        request, "link_code.html", {"form": form, "page_title": "Enter the code from your letter"}
    )


@data_use(touches=RESIDENT_DATA, purposes=["housing_rent_account_self_service"])
@resident_required
@require_GET
def account(request: HttpRequest, reference: str) -> HttpResponse:
    found = _mine(request, reference)
    today = _today()
    return _render(
        request,
        "account.html",
        {
            "s": accounts.summary(found, request.user, today=today),
            "address": found.tenancy.property.single_line(),
            "council": settings.COUNCIL,
            "money_advice_url": MONEY_ADVICE_URL,
            "page_title": "Your rent account",
        },
    )


@data_use(touches=RESIDENT_DATA, purposes=["housing_rent_account_self_service"])
@resident_required
@require_http_methods(["GET"])
def statement(request: HttpRequest, reference: str) -> HttpResponse:
    found = _mine(request, reference)
    form = StatementForm(request.GET or None)
    if request.GET and form.is_valid():
        if form.cleaned_data["period"] == "dates":
            start, end = form.cleaned_data["start"], form.cleaned_data["end"]
        else:
            start, end = _period(form.cleaned_data["period"], found, _today())
        st = accounts.statement(found, request.user, start=start, end=end)
        name = f"rent-statement-{found.payment_reference}-{start}-{end}"
        if form.cleaned_data["format"] == "csv":
            response = HttpResponse(accounts.statement_csv(st), content_type="text/csv")
            response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
            return response
        pdf = render_statement_pdf(st, settings.COUNCIL)
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{name}.pdf"'
        return response
    return _render(
        request,
        "statement.html",
        {
            "form": form if request.GET else None,
            "statement_form": form,
            "account": found,
            "page_title": "Download a statement",
        },
    )


class FrequencyForm(forms.Form):
    frequency = forms.ChoiceField(
        label="How often do you want to pay?",
        choices=list(accounts.FREQUENCY_NAMES.items()),
        widget=forms.RadioSelect,
        help_text="Choose what matches when you are paid or get Universal Credit",
        error_messages={
            "required": "Select how often you want to pay",
            "invalid_choice": "Select how often you want to pay",
        },
    )


@data_use(none="The council's bank details and the signed-in tenant's own amounts to pay")
@resident_required
@require_GET
def standing_order(request: HttpRequest, reference: str) -> HttpResponse:
    """The council's payee details, the tenant's exact reference and the amount for how often
    they pay: everything to set up a standing order at their bank, on one page."""
    found = _mine(request, reference)
    form = FrequencyForm(request.GET or None)
    today = _today()
    amounts = accounts.standing_order_amounts(found, today=today)
    chosen = form.cleaned_data["frequency"] if request.GET and form.is_valid() else None
    return _render(
        request,
        "standing_order.html",
        {
            "form": form if request.GET else None,
            "frequency_form": form,
            "account": found,
            "bank": settings.COUNCIL.bank,
            "amounts": amounts,
            "chosen": chosen,
            "frequency_name": accounts.FREQUENCY_NAMES.get(chosen or "", ""),
            "explained": accounts.amount_explained(found, chosen, on=today) if chosen else "",
            "mandate": direct_debit.live_mandate(found),
            "weeks": accounts.rent_year_weeks(today),
            "page_title": "Pay by standing order",
        },
    )
