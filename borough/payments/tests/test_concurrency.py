"""Two requests to pay for one thing at the same moment: exactly one payment is created.

SQLite runs one writer at a time, so the race is only real on PostgreSQL.
"""

import threading
import time
from unittest import mock

import pytest
from django.db import connection

from borough.payments.models import LocalPayment, Payment
from borough.payments.providers import LocalPayProvider
from borough.payments.services import start_payment


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_clicks_at_once_create_exactly_one_payment():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite lets only one writer in at a time")

    both_looked = threading.Barrier(2)
    create = LocalPayProvider.create_payment
    asked = []

    def slow_create(self, *args, **kwargs):
        asked.append(kwargs["idempotency_key"])
        time.sleep(0.3)  # hold the new row while the other request tries to insert its own
        return create(self, *args, **kwargs)

    results, errors = [], []

    def click():
        try:
            both_looked.wait(timeout=5)
            payment = start_payment(
                "permit-application:race", 4500, "Permit", "https://borough.example/paid"
            )
            results.append(payment.reference)
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    with mock.patch.object(LocalPayProvider, "create_payment", slow_create):
        threads = [threading.Thread(target=click) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)

    assert errors == []
    assert len(results) == 2 and results[0] == results[1]
    assert len(asked) == 1  # the loser waited on the constraint and never asked the provider
    assert Payment.objects.count() == 1
    assert LocalPayment.objects.count() == 1
