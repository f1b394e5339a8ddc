"""Paying rent by card through the payments adapter (GOV.UK Pay or its local stand-in).

A tenant asks to pay an amount (what they owe, or any other); ``start_card_payment`` starts a
payment whose purpose key names the rent account, the attempt (one form shown to the tenant)
and the amount, so a double click or a reload of the same form never starts a second payment.
When the payment succeeds it is posted to the rent ledger once: from the ``payment_succeeded``
signal, in the transaction that records the success, and again (finding it there) when the
tenant comes back to the return page. The ledger entry's source key is ``card:<payment
reference>``, unique in the database, so however many returns or callbacks arrive, and at
whatever moment, the account is credited once.
"""

from __future__ import annotations

import secrets

from django.utils import timezone

from borough.housing import services
from borough.housing.models import LedgerEntry, RentAccount
from borough.payments import services as payments
from borough.payments.models import Payment, Status

PREFIX = "rent-card"
TYPE_CODE = "RCP"  # rent, card payment


def new_attempt() -> str:
    """A token for one "pay by card" form: the same token and amount is the same payment."""
    return secrets.token_urlsafe(12)


def _purpose(account: RentAccount, attempt: str, amount_pence: int) -> str:
    return f"{PREFIX}:{account.pk}:{attempt}:{amount_pence}"


def start_card_payment(
    account: RentAccount, *, attempt: str, amount_pence: int, return_url: str
) -> Payment:
    """The live payment for this attempt and amount, or a new one (``payments.start_payment``:
    raises ``PaymentProviderError`` if the provider cannot take it)."""
    return payments.start_payment(
        purpose_key=_purpose(account, attempt, amount_pence),
        amount_pence=amount_pence,
        description=f"Rent for account {account.payment_reference}",
        return_url=return_url,
    )


def payment_of_attempt(account: RentAccount, attempt: str) -> Payment | None:
    """The latest payment started from this attempt on this account (None: there is none)."""
    if not attempt:
        return None
    return (
        Payment.objects.filter(purpose_key__startswith=f"{PREFIX}:{account.pk}:{attempt}:")
        .order_by("-created_at", "-id")
        .first()
    )


def _account_id(payment: Payment) -> int | None:
    prefix, _, rest = payment.purpose_key.partition(":")
    account_id = rest.split(":", 1)[0]
    if prefix != PREFIX or not account_id.isdigit():
        return None
    return int(account_id)


def post_card_payment(payment: Payment) -> LedgerEntry | None:
    """Post a successful rent card payment to its account's ledger, once: the entry already
    there if it was posted before (None: the payment is not a successful rent payment)."""
    account_id = _account_id(payment)
    if account_id is None or payment.status != Status.SUCCESS:
        return None
    paid_at = payment.succeeded_at or timezone.now()
    entry, _created = services.post_entry(
        account_id,
        kind=LedgerEntry.Kind.CARD,
        type_code=TYPE_CODE,
        amount_pence=-payment.amount_pence,
        posted_on=timezone.localdate(paid_at),
        description=f"Card payment {payment.reference}",
        source_key=f"card:{payment.reference}",
    )
    return entry


def post_on_success(sender, payment: Payment, **kwargs) -> None:
    """``payment_succeeded`` receiver: runs inside the transaction that records the success, so
    the payment is recorded as paid only with its ledger entry."""
    post_card_payment(payment)
