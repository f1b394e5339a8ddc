"""Payments taken through a payment provider (``providers.py``).

``Payment`` is Borough's own record of one attempt to take money for one thing (its
``purpose_key``); ``Refund`` records money given back. ``LocalPayment`` is the local provider's
own state, standing in for what GOV.UK Pay would hold.
"""

import secrets

from django.db import models
from django.db.models import F, Q

# Crockford's base 32: no I, L, O or U, so a reference read out on the phone is not misheard.
_REFERENCE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
REFERENCE_PREFIX = "BP-"


def new_payment_reference() -> str:
    """A payment reference like ``BP-7K3M9Q2XRT``: 50 random bits, shown to the payer."""
    return REFERENCE_PREFIX + "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(10))


class Status(models.TextChoices):
    """GOV.UK Pay's payment status lifecycle, used by every provider."""

    CREATED = "created", "Created"
    STARTED = "started", "Started"
    SUBMITTED = "submitted", "Submitted"
    CAPTURABLE = "capturable", "Capturable"
    SUCCESS = "success", "Success"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"
    ERROR = "error", "Error"


# A payment in one of these states took no money, so another may be started for the same purpose.
DEAD_STATUSES = (Status.FAILED, Status.CANCELLED, Status.ERROR)


class Payment(models.Model):
    reference = models.CharField(
        "payment reference", max_length=20, unique=True, default=new_payment_reference
    )
    purpose_key = models.CharField(
        max_length=200,
        help_text="What the payment is for, given by the caller, e.g. permit-application:123.",
    )
    amount_pence = models.PositiveIntegerField()
    description = models.CharField(max_length=255)
    return_url = models.CharField(max_length=2000)
    provider = models.CharField(max_length=20)
    provider_id = models.CharField(max_length=100, blank=True)
    next_url = models.CharField(max_length=2000, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.CREATED)
    finished = models.BooleanField(default=False)
    code = models.CharField(max_length=10, blank=True)
    message = models.CharField(max_length=255, blank=True)
    card_brand = models.CharField(max_length=40, blank=True)
    card_last_digits = models.CharField(max_length=4, blank=True)
    refunded_pence = models.PositiveIntegerField(default=0)
    succeeded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # The "never twice" rule: at most one payment per purpose that could take money.
            models.UniqueConstraint(
                fields=["purpose_key"],
                condition=~Q(status__in=DEAD_STATUSES),
                name="payments_one_live_payment_per_purpose",
            ),
            models.UniqueConstraint(
                fields=["provider", "provider_id"],
                condition=~Q(provider_id=""),
                name="payments_provider_id_unique",
            ),
            models.CheckConstraint(
                condition=Q(amount_pence__gt=0), name="payments_amount_positive"
            ),
            models.CheckConstraint(
                condition=Q(refunded_pence__lte=F("amount_pence")),
                name="payments_refunds_within_amount",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} ({self.status})"

    @property
    def refundable_pence(self) -> int:
        return self.amount_pence - self.refunded_pence if self.status == Status.SUCCESS else 0


class Refund(models.Model):
    class RefundStatus(models.TextChoices):
        SUBMITTED = "submitted", "Submitted"
        SUCCESS = "success", "Success"
        ERROR = "error", "Error"

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    amount_pence = models.PositiveIntegerField()
    reason = models.CharField(max_length=255)
    provider_refund_id = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=10, choices=RefundStatus.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_pence__gt=0), name="payments_refund_amount_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"Refund of {self.amount_pence}p on {self.payment.reference} ({self.status})"


def _local_id() -> str:
    return secrets.token_hex(13)


def _local_token() -> str:
    return secrets.token_urlsafe(24)


class LocalPayment(models.Model):
    """The local provider's payment: what GOV.UK Pay would hold. Never a card number."""

    payment_id = models.CharField(max_length=26, unique=True, default=_local_id)
    # The secret in the card details page's address, separate from the ID the service holds.
    token = models.CharField(max_length=40, unique=True, default=_local_token)
    idempotency_key = models.CharField(max_length=255, unique=True)
    amount_pence = models.PositiveIntegerField()
    reference = models.CharField(max_length=255)
    description = models.CharField(max_length=255)
    return_url = models.CharField(max_length=2000)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.CREATED)
    finished = models.BooleanField(default=False)
    code = models.CharField(max_length=10, blank=True)
    message = models.CharField(max_length=255, blank=True)
    card_brand = models.CharField(max_length=40, blank=True)
    card_last_digits = models.CharField(max_length=4, blank=True)
    refunded_pence = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(refunded_pence__lte=F("amount_pence")),
                name="payments_local_refunds_within_amount",
            ),
        ]

    def __str__(self) -> str:
        return f"Local payment {self.payment_id} ({self.status})"
