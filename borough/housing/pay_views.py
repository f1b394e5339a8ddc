"""Paying rent by card: the tenant chooses how much (what they owe, to start with), pays through
the payments adapter (GOV.UK Pay or its local stand-in) and comes back to a page that says what
happened. The rules are in card_payments.py: one payment per form, posted to the ledger once."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from django import forms
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from borough.core.access import resident_required
from borough.housing import accounts, card_payments, services
from borough.housing.views import _mine, _render, _today
from borough.payments.providers import PaymentProviderError
from borough.payments.services import MAX_AMOUNT_PENCE, refresh_payment
from borough.transparency.coverage import RESIDENT_DATA, data_use
from borough.transparency.models import Action

MINIMUM_PENCE = 100


class CardAmountForm(forms.Form):
    amount = forms.CharField(
        label="How much do you want to pay?",
        help_text="In pounds and pence, like 125.50",
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "spellcheck": False}),
        error_messages={
            "required": "Enter how much you want to pay, like 125.50",
            "max_length": "Enter how much you want to pay in pounds and pence, like 125.50",
        },
    )
    attempt = forms.CharField(widget=forms.HiddenInput, required=False, max_length=40)

    def clean_amount(self) -> int:
        text = re.sub(r"[\s,£]", "", self.cleaned_data["amount"])
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise forms.ValidationError(
                "Enter how much you want to pay in pounds and pence, like 125.50"
            ) from None
        if not value.is_finite() or value != value.quantize(Decimal("0.01")):
            raise forms.ValidationError("Enter the amount in pounds and pence, like 125.50")
        pence = int(value * 100)
        if pence < MINIMUM_PENCE:
            raise forms.ValidationError(
                f"The amount must be at least {accounts.pounds(MINIMUM_PENCE)}"
            )
        if pence > MAX_AMOUNT_PENCE:
            raise forms.ValidationError(
                f"The amount must be {accounts.pounds(MAX_AMOUNT_PENCE)} or less"
            )
        return pence


def _pounds_only(pence: int) -> str:
    return f"{pence // 100}.{pence % 100:02d}"


@data_use(touches=RESIDENT_DATA, purposes=["housing_rent_account_self_service"])
@resident_required
@require_http_methods(["GET", "POST"])
def pay(request: HttpRequest, reference: str) -> HttpResponse:
    """How much to pay (what is owed, to start with), then on to the card payment pages."""
    account = _mine(request, reference)
    balance = services.balance_pence(account)
    accounts._log(account, request.user, Action.VIEWED_RECORDS, account.payment_reference)
    form = CardAmountForm(
        request.POST or None,
        initial={
            "amount": _pounds_only(balance) if balance >= MINIMUM_PENCE else "",
            "attempt": request.GET.get("attempt") or card_payments.new_attempt(),
        },
    )
    problem = ""
    if request.method == "POST" and form.is_valid():
        attempt = form.cleaned_data["attempt"] or card_payments.new_attempt()
        return_url = request.build_absolute_uri(
            reverse("housing:card-paid", kwargs={"reference": reference}) + f"?attempt={attempt}"
        )
        try:
            payment = card_payments.start_card_payment(
                account,
                attempt=attempt,
                amount_pence=form.cleaned_data["amount"],
                return_url=return_url,
            )
        except PaymentProviderError as error:
            problem = str(error)
        else:
            return redirect(payment.next_url)
    return _render(
        request,
        "pay.html",
        {
            "form": form if form.is_bound else None,
            "pay_form": form,
            "account": account,
            "balance": balance,
            "problem": problem,
            "page_title": "Pay your rent by card",
        },
    )


@data_use(touches=RESIDENT_DATA, purposes=["housing_rent_account_self_service"])
@resident_required
@require_GET
def paid(request: HttpRequest, reference: str) -> HttpResponse:
    """The card payment's return page. Safe to open any number of times: the payment's state is
    asked again and a successful payment is posted to the rent account once."""
    account = _mine(request, reference)
    payment = card_payments.payment_of_attempt(account, request.GET.get("attempt", ""))
    if payment is None:
        return redirect("housing:card-pay", reference=reference)
    try:
        payment = refresh_payment(payment)
    except PaymentProviderError:
        pass  # say it has not finished; the tenant can check again
    context = {"account": account, "payment": payment, "attempt": request.GET.get("attempt")}
    if payment.status == "success":
        card_payments.post_card_payment(payment)
        accounts._log(account, request.user, Action.VIEWED_RECORDS, account.payment_reference)
        return _render(
            request,
            "paid.html",
            {
                **context,
                "balance": services.balance_pence(account),
                "email": request.user.email,
                "page_title": "Payment received",
            },
        )
    if payment.finished:
        return _render(
            request,
            "pay_failed.html",
            {
                **context,
                "phone": settings.COUNCIL.contact.phone,
                "page_title": "Your payment was not taken",
            },
        )
    return _render(
        request,
        "pay_pending.html",
        {**context, "today": _today(), "page_title": "We are waiting for your payment"},
    )
