"""Every change to a payment: start it, learn its outcome from the provider, refund it.

Callers own their pages. To take a payment: ``start_payment`` and redirect the payer to
``payment.next_url``; on the return URL, ``refresh_payment`` and act on ``payment.status``, or
listen for ``payment_succeeded``.
"""

from __future__ import annotations

import logging

from django.db import IntegrityError, transaction
from django.utils import timezone

from borough.payments.models import DEAD_STATUSES, Payment, Refund, Status
from borough.payments.money import format_pence
from borough.payments.providers import get_provider, provider_named
from borough.payments.signals import payment_succeeded

logger = logging.getLogger(__name__)

MAX_AMOUNT_PENCE = 10_000_000  # GOV.UK Pay's highest amount without asking them: £100,000


class PaymentNotFound(LookupError):
    """No payment has that reference."""


class PaymentMismatch(ValueError):
    """A live payment for this purpose exists with a different amount."""


class RefundNotAllowed(ValueError):
    """The refund asked for cannot be made. The message says why, for the officer."""


def _live(purpose_key: str):
    return Payment.objects.filter(purpose_key=purpose_key).exclude(status__in=DEAD_STATUSES)


def start_payment(
    purpose_key: str, amount_pence: int, description: str, return_url: str
) -> Payment:
    """A payment for ``purpose_key``: the live one if there is one, or a new one.

    The rule: at most one live payment (not failed, cancelled or error) per purpose, so a second
    click or a reload never takes a second payment. An unfinished payment is first checked with
    its provider, so one that expired or failed makes way for a new one. A database constraint
    (``payments_one_live_payment_per_purpose``) settles two requests at the same moment: exactly
    one creates the payment and the other gets it.

    Raises ``PaymentProviderError`` if the provider cannot create the payment (nothing is kept),
    and ``PaymentMismatch`` if the live payment is for a different amount.
    """
    if not purpose_key:
        raise ValueError("A payment needs a purpose key, like permit-application:123.")
    if not 0 < amount_pence <= MAX_AMOUNT_PENCE:
        raise ValueError(f"The amount must be between 1p and {format_pence(MAX_AMOUNT_PENCE)}.")
    if not description or not return_url:
        raise ValueError("A payment needs a description and a return URL.")

    existing = _live(purpose_key).first()
    if existing is not None and not existing.finished:
        existing = refresh_payment(existing)
    if existing is not None and existing.status not in DEAD_STATUSES:
        return _same_amount(existing, amount_pence)

    provider = get_provider()
    try:
        # The provider is asked inside the transaction that holds the new row, so a request
        # racing this one waits on the constraint and then finds the finished payment.
        with transaction.atomic():
            payment = Payment.objects.create(
                purpose_key=purpose_key,
                amount_pence=amount_pence,
                description=description[:255],
                return_url=return_url,
                provider=provider.name,
            )
            created = provider.create_payment(
                amount_pence,
                reference=payment.reference,
                description=payment.description,
                return_url=return_url,
                idempotency_key=payment.reference,
            )
            payment.provider_id = created.provider_id
            payment.next_url = created.next_url
            payment.status = created.status
            payment.save(update_fields=["provider_id", "next_url", "status", "updated_at"])
    except IntegrityError:
        existing = _live(purpose_key).first()
        if existing is None:
            raise
        return _same_amount(existing, amount_pence)
    logger.info("Payment %s started for %s", payment.reference, purpose_key)
    return payment


def _same_amount(payment: Payment, amount_pence: int) -> Payment:
    if payment.amount_pence != amount_pence:
        raise PaymentMismatch(
            f"Payment {payment.reference} for this is already under way for "
            f"{format_pence(payment.amount_pence)}, not {format_pence(amount_pence)}."
        )
    return payment


def payment_by_reference(reference: str) -> Payment:
    """The payment with this payment reference, or ``PaymentNotFound``."""
    try:
        return Payment.objects.get(reference=reference)
    except Payment.DoesNotExist:
        raise PaymentNotFound(f"There is no payment with reference {reference!r}.") from None


def refresh_payment(payment: Payment) -> Payment:
    """The payment with its state as the provider now tells it.

    A finished payment never changes, so it is returned as stored without asking the provider;
    asking twice changes nothing more. ``payment_succeeded`` is sent once, in the same
    transaction, when the payment first becomes "success". Raises ``ProviderPaymentNotFound`` or
    ``PaymentProviderError`` with nothing changed.
    """
    with transaction.atomic():
        try:
            current = Payment.objects.select_for_update().get(pk=payment.pk)
        except Payment.DoesNotExist:
            raise PaymentNotFound(
                f"There is no payment with reference {payment.reference!r}."
            ) from None
        if current.finished or not current.provider_id:
            return current
        state = provider_named(current.provider).get_payment(current.provider_id)
        changed = {
            "status": state.status,
            "finished": state.finished,
            "code": state.code,
            "message": state.message[:255],
            "card_brand": state.card_brand[:40] or current.card_brand,
            "card_last_digits": state.card_last_digits[:4] or current.card_last_digits,
        }
        if all(getattr(current, name) == value for name, value in changed.items()):
            return current
        for name, value in changed.items():
            setattr(current, name, value)
        first_success = state.status == Status.SUCCESS and current.succeeded_at is None
        if first_success:
            current.succeeded_at = timezone.now()
        current.save()
        if first_success:
            payment_succeeded.send(sender=Payment, payment=current)
    logger.info("Payment %s is now %s %s", current.reference, current.status, current.code)
    return current


def refund_payment(payment: Payment, amount_pence: int, reason: str) -> Refund:
    """Give back ``amount_pence`` of a successful payment: never more than was paid less what
    has been refunded already. A refund the provider accepts (submitted or success) counts
    against the payment at once, so two refunds at the same moment cannot both take the last
    pounds. Raises ``RefundNotAllowed`` or ``PaymentProviderError`` with nothing changed.
    """
    if not reason or not reason.strip():
        raise RefundNotAllowed("Give a reason for the refund.")
    if amount_pence <= 0:
        raise RefundNotAllowed("The refund must be at least 1p.")
    with transaction.atomic():
        current = Payment.objects.select_for_update().get(pk=payment.pk)
        if current.status != Status.SUCCESS:
            raise RefundNotAllowed(
                f"Payment {current.reference} was not paid, so it cannot be refunded."
            )
        available = current.amount_pence - current.refunded_pence
        if amount_pence > available:
            raise RefundNotAllowed(
                f"At most {format_pence(available)} of payment {current.reference} can be refunded."
            )
        result = provider_named(current.provider).refund(
            current.provider_id, amount_pence, available
        )
        refund = Refund.objects.create(
            payment=current,
            amount_pence=amount_pence,
            reason=reason.strip()[:255],
            provider_refund_id=result.refund_id,
            status=result.status,
        )
        if result.status != Refund.RefundStatus.ERROR:
            current.refunded_pence += amount_pence
            current.save(update_fields=["refunded_pence", "updated_at"])
    logger.info("Refund of %sp on %s: %s", amount_pence, current.reference, result.status)
    return refund
