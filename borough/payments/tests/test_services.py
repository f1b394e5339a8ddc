"""Starting, refreshing and refunding payments: the "never twice" rule and its friends."""

from datetime import timedelta
from unittest import mock

import pytest
from django.db import IntegrityError, transaction

from borough.payments.models import LocalPayment, Payment, Refund
from borough.payments.providers import (
    LocalPayProvider,
    PaymentProviderError,
    ProviderPaymentNotFound,
    ProviderRefund,
)
from borough.payments.services import (
    PaymentMismatch,
    PaymentNotFound,
    RefundNotAllowed,
    payment_by_reference,
    refresh_payment,
    refund_payment,
    start_payment,
)
from borough.payments.signals import payment_succeeded

pytestmark = pytest.mark.django_db


@pytest.fixture
def received():
    payments = []

    def receiver(sender, payment, **kwargs):
        payments.append(payment.reference)

    payment_succeeded.connect(receiver)
    yield payments
    payment_succeeded.disconnect(receiver)


@pytest.fixture
def paid(start, pay):
    payment = start()
    pay(payment, "4444333322221111")
    return refresh_payment(payment)


def test_a_new_payment_has_a_reference_and_somewhere_to_pay(start):
    payment = start()
    assert payment.reference.startswith("BP-") and len(payment.reference) == 13
    assert payment.provider == "local"
    assert payment.provider_id == LocalPayment.objects.get().payment_id
    assert payment.next_url.startswith("/payments/local/")
    assert (payment.status, payment.finished) == ("created", False)


def test_a_second_click_gets_the_same_payment(start):
    first = start()
    second = start()
    assert second.pk == first.pk
    assert Payment.objects.count() == LocalPayment.objects.count() == 1


def test_a_reload_after_paying_gets_the_paid_payment(start, pay):
    payment = start()
    pay(payment, "4444333322221111")
    again = start()
    assert again.pk == payment.pk
    assert again.status == "success"
    assert Payment.objects.count() == 1


def test_different_purposes_get_different_payments(start):
    assert start("permit-application:1").pk != start("permit-application:2").pk


@pytest.mark.parametrize("number", ["4000000000000002", "4000000000000119"])
def test_after_a_failed_payment_the_payer_can_try_again(start, pay, number):
    first = start()
    pay(first, number)
    second = start()
    assert second.pk != first.pk
    assert Payment.objects.get(pk=first.pk).status in ("failed", "error")
    assert second.status == "created"


def test_after_cancelling_the_payer_can_try_again(client, start):
    first = start()
    client.post(first.next_url + "/cancel")
    assert start().pk != first.pk


def test_an_expired_payment_makes_way_for_a_new_one(start):
    first = start()
    LocalPayment.objects.update(created_at=first.created_at - timedelta(minutes=91))

    second = start()

    first.refresh_from_db()
    assert (first.status, first.code, first.message) == ("failed", "P0020", "Payment expired")
    assert second.pk != first.pk


def test_a_live_payment_for_another_amount_is_a_clear_error(start):
    start(amount_pence=4500)
    with pytest.raises(PaymentMismatch, match="£45, not £50"):
        start(amount_pence=5000)


@pytest.mark.parametrize(
    ("purpose_key", "amount_pence"),
    [("", 100), ("permit:1", 0), ("permit:1", -5), ("permit:1", 10_000_001)],
)
def test_nonsense_is_refused(db, purpose_key, amount_pence):
    with pytest.raises(ValueError):
        start_payment(purpose_key, amount_pence, "Permit", "https://borough.example/paid")
    assert not Payment.objects.exists()


def test_when_the_provider_refuses_nothing_is_kept(db):
    failure = PaymentProviderError("GOV.UK Pay is not working at the moment.")
    with mock.patch.object(LocalPayProvider, "create_payment", side_effect=failure):
        with pytest.raises(PaymentProviderError):
            start_payment("permit:1", 100, "Permit", "https://borough.example/paid")
    assert not Payment.objects.exists()


def test_a_request_that_loses_the_race_gets_the_winners_payment(start):
    winner = start()
    real_live = Payment.objects.filter
    calls = []

    def blind_first_look(*args, **kwargs):
        # The loser's first look happened before the winner's row was committed.
        calls.append(kwargs)
        return Payment.objects.none() if len(calls) == 1 else real_live(*args, **kwargs)

    with mock.patch.object(Payment.objects, "filter", side_effect=blind_first_look):
        loser = start()

    assert loser.pk == winner.pk
    assert Payment.objects.count() == 1


def test_the_database_refuses_two_live_payments_for_one_purpose(start):
    payment = start()
    clone = {
        "purpose_key": payment.purpose_key,
        "amount_pence": 100,
        "description": "x",
        "return_url": "/",
        "provider": "local",
    }
    with pytest.raises(IntegrityError), transaction.atomic():
        Payment.objects.create(**clone)
    Payment.objects.filter(pk=payment.pk).update(status="failed", finished=True)
    Payment.objects.create(**clone)  # allowed once the first took no money


def test_refresh_twice_changes_nothing_more(start, pay):
    payment = start()
    pay(payment, "4444333322221111")
    first = refresh_payment(payment)

    with mock.patch.object(LocalPayProvider, "get_payment") as asked:
        second = refresh_payment(payment)

    asked.assert_not_called()  # finished: the provider is not asked again
    assert second.updated_at == first.updated_at
    assert second.status == "success"


def test_refreshing_an_unfinished_payment_with_no_news_writes_nothing(start):
    payment = start()
    assert refresh_payment(payment).updated_at == payment.updated_at


def test_success_is_announced_once(start, pay, received):
    payment = start()
    pay(payment, "4444333322221111")

    refresh_payment(payment)
    refresh_payment(payment)  # the payer comes back to the return URL a second time
    start()  # and presses the button again

    assert received == [payment.reference]
    assert Payment.objects.get().succeeded_at is not None


def test_a_failed_payment_is_not_announced(start, pay, received):
    payment = start()
    pay(payment, "4000000000000002")
    refresh_payment(payment)
    assert received == []


def test_if_a_listener_fails_the_success_is_announced_again_next_time(start, pay, received):
    payment = start()
    pay(payment, "4444333322221111")

    def broken(sender, payment, **kwargs):
        raise RuntimeError("the permit could not be issued")

    payment_succeeded.connect(broken)
    try:
        with pytest.raises(RuntimeError):
            refresh_payment(payment)
    finally:
        payment_succeeded.disconnect(broken)
    assert Payment.objects.get().status == "created"

    refresh_payment(payment)
    assert received == [payment.reference, payment.reference]
    assert Payment.objects.get().status == "success"


def test_an_id_the_provider_does_not_know_is_a_clear_error_and_changes_nothing(start):
    payment = start()
    Payment.objects.filter(pk=payment.pk).update(provider_id="not-a-payment")

    with pytest.raises(ProviderPaymentNotFound):
        refresh_payment(payment)

    payment.refresh_from_db()
    assert (payment.status, payment.finished) == ("created", False)


def test_a_reference_that_does_not_exist_is_a_clear_error(db):
    with pytest.raises(PaymentNotFound, match="BP-NOPE"):
        payment_by_reference("BP-NOPE")


def test_a_payment_is_found_by_its_reference(start):
    payment = start()
    assert payment_by_reference(payment.reference) == payment


def test_refunds_add_up_to_at_most_what_was_paid(paid):
    refund_payment(paid, 1500, "Permit cancelled after a week")
    refund_payment(paid, 3000, "Permit cancelled")

    with pytest.raises(RefundNotAllowed, match="At most £0 "):
        refund_payment(paid, 1, "One more penny")

    paid.refresh_from_db()
    assert paid.refunded_pence == 4500
    assert paid.refundable_pence == 0
    assert [r.amount_pence for r in paid.refunds.all()] == [1500, 3000]
    assert LocalPayment.objects.get().refunded_pence == 4500


def test_a_refund_over_what_is_left_changes_nothing(paid):
    refund_payment(paid, 4000, "Overcharged")
    with pytest.raises(RefundNotAllowed, match="At most £5 of payment"):
        refund_payment(paid, 501, "Overcharged again")
    paid.refresh_from_db()
    assert paid.refunded_pence == 4000
    assert Refund.objects.count() == 1


@pytest.mark.parametrize(
    ("amount", "reason"), [(0, "Overcharged"), (-1, "Overcharged"), (100, " ")]
)
def test_a_refund_needs_an_amount_and_a_reason(paid, amount, reason):
    with pytest.raises(RefundNotAllowed):
        refund_payment(paid, amount, reason)
    assert not Refund.objects.exists()


@pytest.mark.parametrize("number", [None, "4000000000000002"])
def test_an_unpaid_payment_cannot_be_refunded(start, pay, number):
    payment = start()
    if number:
        pay(payment, number)
        payment = refresh_payment(payment)
    with pytest.raises(RefundNotAllowed, match="was not paid"):
        refund_payment(payment, 100, "Overcharged")


def test_a_refund_the_provider_reports_as_an_error_does_not_count(paid):
    with mock.patch.object(LocalPayProvider, "refund", return_value=ProviderRefund("r-1", "error")):
        refund = refund_payment(paid, 1000, "Overcharged")
    assert refund.status == "error"
    paid.refresh_from_db()
    assert paid.refunded_pence == 0


def test_a_refund_the_provider_refuses_changes_nothing(paid):
    failure = PaymentProviderError("The amount available to refund has changed.")
    with mock.patch.object(LocalPayProvider, "refund", side_effect=failure):
        with pytest.raises(PaymentProviderError):
            refund_payment(paid, 1000, "Overcharged")
    paid.refresh_from_db()
    assert paid.refunded_pence == 0
    assert not Refund.objects.exists()


def test_the_local_provider_refuses_a_refund_with_a_stale_available_amount(paid):
    with pytest.raises(PaymentProviderError) as caught:
        LocalPayProvider().refund(paid.provider_id, 100, 9999)
    assert caught.value.code == "P0604"


def test_the_local_provider_gives_back_the_same_payment_for_the_same_key(db):
    provider = LocalPayProvider()
    args = (4500, "BP-1", "Permit", "https://borough.example/paid")
    first = provider.create_payment(*args, idempotency_key="BP-1")
    assert provider.create_payment(*args, idempotency_key="BP-1") == first
    with pytest.raises(PaymentProviderError) as caught:
        provider.create_payment(5000, *args[1:], idempotency_key="BP-1")
    assert caught.value.code == "P0191"
