"""The payment provider adapter: one interface with GOV.UK Pay's contract, two implementations.

``GovUkPayClient`` calls GOV.UK Pay's public API. ``LocalPayProvider`` keeps the same states in
the database and serves its own card details pages (``views.py``) that stand in for GOV.UK Pay's,
with the outcomes of GOV.UK Pay's sandbox test card numbers. ``get_provider()`` chooses one from
settings; ``provider_named()`` finds the one a stored payment was made with.

Every HTTP call to a payment provider is in this module.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Protocol
from urllib.parse import quote

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from borough.payments.models import LocalPayment, Status

if TYPE_CHECKING:
    import requests

logger = logging.getLogger(__name__)

GOVUK_PAY_BASE_URL = "https://publicapi.payments.service.gov.uk"

# GOV.UK Pay's codes for why a payment failed, with the messages its API gives.
REJECTED = ("P0010", "Payment method rejected")
EXPIRED = ("P0020", "Payment expired")
CANCELLED_BY_USER = ("P0030", "Payment was cancelled by the user")
CANCELLED_BY_SERVICE = ("P0040", "Payment was cancelled by the service")
PROVIDER_ERROR = ("P0050", "Payment provider returned an error")

FINISHED_STATUSES = frozenset({Status.SUCCESS, Status.FAILED, Status.CANCELLED, Status.ERROR})


@dataclass(frozen=True)
class ProviderPayment:
    provider_id: str
    next_url: str
    status: str


@dataclass(frozen=True)
class ProviderState:
    status: str
    finished: bool
    code: str = ""
    message: str = ""
    card_brand: str = ""
    card_last_digits: str = ""


@dataclass(frozen=True)
class ProviderRefund:
    refund_id: str
    status: str


class PaymentProviderError(Exception):
    """The provider refused or could not be reached. ``str(error)`` is safe to show to anyone;
    ``code`` (GOV.UK Pay's, e.g. P0102), ``http_status`` and ``detail`` are for the logs."""

    def __init__(self, message: str, *, code: str = "", http_status: int | None = None, detail=""):
        super().__init__(message)
        self.code = code
        self.http_status = http_status
        self.detail = detail


class ProviderPaymentNotFound(PaymentProviderError):
    """The provider has no payment with that ID."""


class PaymentProvider(Protocol):
    name: str

    def create_payment(
        self,
        amount_pence: int,
        reference: str,
        description: str,
        return_url: str,
        idempotency_key: str,
    ) -> ProviderPayment: ...

    def get_payment(self, provider_id: str) -> ProviderState: ...

    def refund(
        self, provider_id: str, amount_pence: int, available_pence: int
    ) -> ProviderRefund: ...


class GovUkPayClient:
    """GOV.UK Pay's public API (docs.payments.service.gov.uk/api_reference)."""

    name = "govuk_pay"
    # Seconds to connect, then to wait for an answer.
    timeout = (5, 20)

    def __init__(
        self,
        api_key: str,
        base_url: str = GOVUK_PAY_BASE_URL,
        session: requests.Session | None = None,
    ):
        if not api_key:
            raise ImproperlyConfigured(
                "BOROUGH_GOVUK_PAY_API_KEY is not set. Create an API key in the GOV.UK Pay admin "
                "tool and set it, or set BOROUGH_PAYMENT_PROVIDER to 'local'."
            )
        self._api_key = api_key
        self.base_url = base_url.rstrip("/")
        if session is None:
            # Imported here: requests and urllib3 take a tenth of a second to load, and every
            # command that starts Django loads this module (housing's card payments), most of
            # them never calling GOV.UK Pay (the warehouse build's start-up, above all).
            import requests

            session = requests.Session()
        self.session = session

    def __repr__(self) -> str:  # never the key
        return f"GovUkPayClient(base_url={self.base_url!r})"

    def create_payment(
        self,
        amount_pence: int,
        reference: str,
        description: str,
        return_url: str,
        idempotency_key: str,
    ) -> ProviderPayment:
        body = {
            "amount": amount_pence,
            "reference": reference,
            "description": description,
            "return_url": return_url,
            "language": "en",
        }
        data = self._request(
            "POST", "/v1/payments", body, headers={"Idempotency-Key": idempotency_key}
        )
        next_url = data.get("_links", {}).get("next_url") or {}
        return ProviderPayment(
            provider_id=data["payment_id"],
            next_url=next_url.get("href", ""),
            status=data.get("state", {}).get("status", Status.CREATED),
        )

    def get_payment(self, provider_id: str) -> ProviderState:
        data = self._request("GET", f"/v1/payments/{quote(provider_id, safe='')}")
        state = data.get("state", {})
        card = data.get("card_details") or {}
        return ProviderState(
            status=state["status"],
            finished=bool(state.get("finished", False)),
            code=state.get("code", ""),
            message=state.get("message", ""),
            card_brand=card.get("card_brand") or "",
            card_last_digits=card.get("last_digits_card_number") or "",
        )

    def refund(self, provider_id: str, amount_pence: int, available_pence: int) -> ProviderRefund:
        data = self._request(
            "POST",
            f"/v1/payments/{quote(provider_id, safe='')}/refunds",
            {"amount": amount_pence, "refund_amount_available": available_pence},
        )
        return ProviderRefund(refund_id=data["refund_id"], status=data["status"])

    def _request(self, method: str, path: str, body: dict | None = None, headers=None) -> dict:
        import requests  # for its exceptions (imported late: ``__init__``)

        try:
            response = self.session.request(
                method,
                self.base_url + path,
                json=body,
                headers={
                    "Authorization": f"Bearer {self._api_key}",
                    "Accept": "application/json",
                    "Content-Type": "application/json",
                    **(headers or {}),
                },
                timeout=self.timeout,
            )
        except requests.Timeout as exc:
            logger.warning("GOV.UK Pay %s %s timed out", method, path)
            raise PaymentProviderError(
                "GOV.UK Pay did not answer in time. Try again in a few minutes."
            ) from exc
        except requests.RequestException as exc:
            logger.warning("GOV.UK Pay %s %s failed: %s", method, path, type(exc).__name__)
            raise PaymentProviderError(
                "Borough could not reach GOV.UK Pay. Try again in a few minutes."
            ) from exc
        if response.status_code >= 400:
            raise self._error(method, path, response)
        try:
            return response.json()
        except ValueError as exc:
            raise PaymentProviderError(
                "GOV.UK Pay sent an answer Borough could not read. Try again in a few minutes.",
                http_status=response.status_code,
            ) from exc

    @staticmethod
    def _error(method: str, path: str, response: requests.Response) -> PaymentProviderError:
        try:
            data = response.json()
        except ValueError:
            data = {}
        if not isinstance(data, dict):
            data = {}
        status = response.status_code
        code = str(data.get("code", ""))
        detail = str(data.get("description", ""))
        logger.warning("GOV.UK Pay %s %s answered %s %s", method, path, status, code)
        kind = PaymentProviderError
        if status == 401:
            message = (
                "GOV.UK Pay did not accept Borough's API key. "
                "Ask an administrator to check the payment settings."
            )
        elif status == 404:
            kind = ProviderPaymentNotFound
            message = "GOV.UK Pay has no payment with that ID."
        elif status == 409:
            message = "GOV.UK Pay has already been asked to make this payment with other details."
        elif status == 412:
            message = "The amount available to refund has changed. Check the payment and try again."
        elif status in (400, 422):
            message = "GOV.UK Pay did not accept the payment details Borough sent."
        elif status == 429:
            message = "GOV.UK Pay is busy. Try again in a few seconds."
        else:
            message = "GOV.UK Pay is not working at the moment. Try again in a few minutes."
        return kind(message, code=code, http_status=status, detail=detail)


# The local provider ---------------------------------------------------------------------------


@dataclass(frozen=True)
class MockCard:
    number: str
    brand: str
    outcome: str  # success, rejected, error or not_accepted
    action: str  # what the docs call it

    @property
    def cvc_length(self) -> int:
        return 4 if self.brand == "American Express" else 3


# GOV.UK Pay's mock card numbers for its sandbox (Worldpay) test accounts, from
# docs.payments.service.gov.uk/testing_govuk_pay. The outcomes follow GOV.UK Pay's sandbox: a
# declined, expired or wrong-CVC card is rejected (failed, P0010); the general error card fails
# safely (error, P0050); Maestro is refused on the card details page.
MOCK_CARDS = {
    card.number: card
    for card in [
        MockCard("4444333322221111", "Visa", "success", "Successful payment"),
        MockCard("4242424242424242", "Visa", "success", "Successful payment"),
        MockCard("4000056655665556", "Visa", "success", "Successful payment"),
        MockCard("4988080000000000", "Visa", "success", "Successful payment"),
        MockCard("4000160000000004", "Visa", "success", "Successful payment"),
        MockCard("4131840000000003", "Visa", "success", "Successful payment"),
        MockCard("4111111111111111", "Visa", "success", "Successful payment"),
        MockCard("4000000000000010", "Visa", "success", "Successful payment"),
        MockCard("5105105105105100", "Mastercard", "success", "Successful payment"),
        MockCard("5200828282828210", "Mastercard", "success", "Successful payment"),
        MockCard("371449635398431", "American Express", "success", "Successful payment"),
        MockCard("3566002020360505", "JCB", "success", "Successful payment"),
        MockCard("6011000990139424", "Discover", "success", "Successful payment"),
        MockCard("6759649826438453", "Maestro", "not_accepted", "Card type not accepted"),
        MockCard("4000000000000002", "Visa", "rejected", "Card declined"),
        MockCard("4000000000000069", "Visa", "rejected", "Card expired"),
        MockCard("4000000000000127", "Visa", "rejected", "Invalid CVC code"),
        MockCard("4000000000000119", "Visa", "error", "General error"),
    ]
}


class LocalPayProvider:
    """GOV.UK Pay's contract without GOV.UK Pay: for development, demos and tests.

    A payment is paid on ``/payments/local/<token>``; the card number decides the outcome as in
    GOV.UK Pay's sandbox. An unfinished payment expires 90 minutes after it was created.
    """

    name = "local"
    expires_after = timedelta(minutes=90)

    def create_payment(
        self,
        amount_pence: int,
        reference: str,
        description: str,
        return_url: str,
        idempotency_key: str,
    ) -> ProviderPayment:
        fields = {
            "amount_pence": amount_pence,
            "reference": reference,
            "description": description,
            "return_url": return_url,
        }
        local = LocalPayment.objects.filter(idempotency_key=idempotency_key).first()
        if local is None:
            try:
                with transaction.atomic():
                    local = LocalPayment.objects.create(idempotency_key=idempotency_key, **fields)
            except IntegrityError:
                local = LocalPayment.objects.get(idempotency_key=idempotency_key)
        # As GOV.UK Pay: the same key and body give back the same payment; another body is refused.
        if any(getattr(local, name) != value for name, value in fields.items()):
            raise PaymentProviderError(
                "GOV.UK Pay has already been asked to make this payment with other details.",
                code="P0191",
                http_status=409,
            )
        next_url = "" if local.finished else reverse("payments:local-payment", args=[local.token])
        return ProviderPayment(local.payment_id, next_url, local.status)

    def get_payment(self, provider_id: str) -> ProviderState:
        with transaction.atomic():
            local = self._locked(provider_id)
            if not local.finished and timezone.now() - local.created_at > self.expires_after:
                self._finish(local, Status.FAILED, EXPIRED)
        return ProviderState(
            status=local.status,
            finished=local.finished,
            code=local.code,
            message=local.message,
            card_brand=local.card_brand,
            card_last_digits=local.card_last_digits,
        )

    def refund(self, provider_id: str, amount_pence: int, available_pence: int) -> ProviderRefund:
        with transaction.atomic():
            local = self._locked(provider_id)
            if local.status != Status.SUCCESS:
                raise PaymentProviderError(
                    "This payment cannot be refunded.", code="P0603", http_status=400
                )
            available = local.amount_pence - local.refunded_pence
            if available_pence != available:
                raise PaymentProviderError(
                    "The amount available to refund has changed. Check the payment and try again.",
                    code="P0604",
                    http_status=412,
                )
            if not 0 < amount_pence <= available:
                raise PaymentProviderError(
                    "GOV.UK Pay did not accept the payment details Borough sent.",
                    code="P0602",
                    http_status=422,
                )
            local.refunded_pence += amount_pence
            local.save(update_fields=["refunded_pence", "updated_at"])
        return ProviderRefund(refund_id=secrets.token_hex(13), status="success")

    # What the local card details pages do ---------------------------------------------------

    def mark_started(self, local: LocalPayment) -> None:
        """The payer has opened the card details page."""
        LocalPayment.objects.filter(pk=local.pk, status=Status.CREATED).update(
            status=Status.STARTED, updated_at=timezone.now()
        )

    def authorise(self, local: LocalPayment, card: MockCard, last_digits: str) -> LocalPayment:
        """The payer submitted card details: the test card decides the outcome. Only the brand
        and the last 4 digits are kept, as GOV.UK Pay's ``card_details`` gives them."""
        with transaction.atomic():
            local = self._locked(local.payment_id)
            if local.finished:  # a second click, or another tab
                return local
            local.card_brand = card.brand
            local.card_last_digits = last_digits
            if card.outcome == "success":
                self._finish(local, Status.SUCCESS, ("", ""))
            elif card.outcome == "error":
                self._finish(local, Status.ERROR, PROVIDER_ERROR)
            else:
                self._finish(local, Status.FAILED, REJECTED)
        return local

    def cancel_by_user(self, local: LocalPayment) -> LocalPayment:
        """The payer chose "Cancel payment": failed with P0030, as GOV.UK Pay reports it."""
        with transaction.atomic():
            local = self._locked(local.payment_id)
            if not local.finished:
                self._finish(local, Status.FAILED, CANCELLED_BY_USER)
        return local

    @staticmethod
    def _locked(provider_id: str) -> LocalPayment:
        try:
            return LocalPayment.objects.select_for_update().get(payment_id=provider_id)
        except LocalPayment.DoesNotExist:
            raise ProviderPaymentNotFound(
                "GOV.UK Pay has no payment with that ID.", code="P0200", http_status=404
            ) from None

    @staticmethod
    def _finish(local: LocalPayment, status: str, reason: tuple[str, str]) -> None:
        local.status = status
        local.finished = True
        local.code, local.message = reason
        local.save()


def provider_named(name: str) -> PaymentProvider:
    """The provider called ``name``: the one a stored payment was made with."""
    if name == LocalPayProvider.name:
        return LocalPayProvider()
    if name == GovUkPayClient.name:
        return GovUkPayClient(
            getattr(settings, "BOROUGH_GOVUK_PAY_API_KEY", ""),
            base_url=getattr(settings, "BOROUGH_GOVUK_PAY_BASE_URL", GOVUK_PAY_BASE_URL),
        )
    raise ImproperlyConfigured(
        f"BOROUGH_PAYMENT_PROVIDER is {name!r}; set it to 'local' or 'govuk_pay'."
    )


def get_provider() -> PaymentProvider:
    """The provider new payments go to, from ``BOROUGH_PAYMENT_PROVIDER``.

    Outside production the default is the local provider. In production there is no default, so a
    council cannot take pretend payments by forgetting a setting: set "govuk_pay", or "local" on
    purpose (a public demo).
    """
    name = getattr(settings, "BOROUGH_PAYMENT_PROVIDER", "")
    if not name:  # unset, or set from an empty environment variable
        if getattr(settings, "PRODUCTION", False):
            raise ImproperlyConfigured(
                "BOROUGH_PAYMENT_PROVIDER is not set. In production set it to 'govuk_pay' "
                "(with BOROUGH_GOVUK_PAY_API_KEY), or to 'local' for a demo that takes no money."
            )
        name = LocalPayProvider.name
    return provider_named(name)
