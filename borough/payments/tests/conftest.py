import pytest

from borough.payments.services import start_payment

RETURN_URL = "https://borough.example/parking/permits/123/paid"


@pytest.fixture
def start(db):
    """Start a local payment: ``start()`` or ``start(purpose_key="…", amount_pence=…)``."""

    def make(purpose_key: str = "permit-application:123", amount_pence: int = 4500, **kwargs):
        return start_payment(
            purpose_key,
            amount_pence,
            kwargs.pop("description", "Residents' parking permit for AB12 CDE"),
            kwargs.pop("return_url", RETURN_URL),
        )

    return make


@pytest.fixture
def pay(client):
    """Fill in the local card details page for ``payment`` with ``number``; the response."""

    def submit(payment, number: str = "4444333322221111", **fields):
        data = {
            "card_number": number,
            "expiry_month": "04",
            "expiry_year": "2099",
            "cardholder_name": "Sam Resident",
            "cvc": "1234" if number.startswith(("34", "37")) else "123",
        }
        data.update(fields)
        return client.post(payment.next_url, data)

    return submit
