"""The local provider's pages, standing in for GOV.UK Pay's hosted payment pages.

Anyone with the page's address may pay: it holds an unguessable token, as GOV.UK Pay's
``next_url`` does, so no sign-in is needed. Card numbers are never stored or logged.
"""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from borough.core.access import public
from borough.payments.forms import CardDetailsForm
from borough.payments.models import LocalPayment
from borough.payments.money import format_pence
from borough.payments.providers import MOCK_CARDS, LocalPayProvider
from borough.transparency.coverage import data_use


@data_use(
    none="The local stand-in for GOV.UK Pay: a card form for a payment token, no resident's records"
)
@public
@never_cache
@sensitive_post_parameters("card_number", "cvc", "expiry_month", "expiry_year", "cardholder_name")
@require_http_methods(["GET", "POST"])
def local_payment(request: HttpRequest, payment_token: str) -> HttpResponse:
    local = get_object_or_404(LocalPayment, token=payment_token)
    if local.finished:
        # As GOV.UK Pay: a finished payment's page sends the payer back to the service.
        return redirect(local.return_url)
    provider = LocalPayProvider()
    if request.method == "POST":
        form = CardDetailsForm(request.POST)
        if form.is_valid():
            provider.authorise(local, form.card, form.last_digits)
            return redirect(local.return_url)
    else:
        provider.mark_started(local)
        form = CardDetailsForm()
    return render(
        request,
        "payments/local_payment.html",
        {
            "form": form,
            "payment": local,
            "amount": format_pence(local.amount_pence),
            "mock_cards": MOCK_CARDS.values(),
            "page_title": "Enter card details",
        },
    )


@data_use(
    none="The local stand-in for GOV.UK Pay: a card form for a payment token, no resident's records"
)
@public
@require_POST
def local_cancel(request: HttpRequest, payment_token: str) -> HttpResponse:
    local = get_object_or_404(LocalPayment, token=payment_token)
    LocalPayProvider().cancel_by_user(local)
    return redirect(local.return_url)
