"""The tenant's Direct Debit pages. Thin: the rules are in direct_debit.py, the forms in
dd_forms.py.

The tenant (signed in, a tenant of the account) sets up a Direct Debit one question a page,
without JavaScript (name on the account; sort code and account number; are you the only person
who authorises debits; how often; which day; check, with the Direct Debit Guarantee; confirm),
then sees it and cancels it. What they type is kept in the session until they confirm, the bank
details encrypted (``bank_details``); pages show them masked. The finance officer's pages are in
dd_finance_views.py.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET, require_http_methods

from borough.core.access import resident_required
from borough.housing import accounts, bank_details, direct_debit
from borough.housing.dd_forms import (
    AuthoriseForm,
    BankForm,
    HolderForm,
    MonthDayForm,
    WeekdayForm,
    frequency_form,
)
from borough.housing.dd_pages import render_page, today_in_london
from borough.housing.models import Mandate, RentAccount
from borough.housing.views import _mine
from borough.transparency.coverage import data_use
from borough.transparency.models import Action


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
    return render_page(
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
    today = today_in_london()
    accounts._log(account, request.user, Action.VIEWED_RECORDS, account.payment_reference)
    ended = None
    if mandate is None:
        ended = account.mandates.exclude(status__in=direct_debit.LIVE).first()
    return render_page(
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
    return render_page(
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
    amounts = accounts.standing_order_amounts(account, today=today_in_london())
    form = frequency_form(request.POST if request.method == "POST" else None, amounts)
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
            f"{accounts.year_explained(account, on=today_in_london())}. We spread that evenly "
            "over the year, so you pay the same amount each time, including in the rent-free "
            "weeks."
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
    today = today_in_london()
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
    return render_page(
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
    return render_page(
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
    return render_page(
        request,
        "cancel.html",
        {"account": account, "mandate": mandate, "page_title": "Cancel your Direct Debit"},
    )
