"""The local provider's card details pages, as a payer meets them."""

import logging

import pytest

from borough.payments.forms import luhn_valid
from borough.payments.models import LocalPayment, Payment
from borough.payments.providers import MOCK_CARDS
from borough.payments.services import refresh_payment
from borough.payments.tests.conftest import RETURN_URL

pytestmark = pytest.mark.django_db


def test_the_page_opens_without_signing_in_and_marks_the_payment_started(client, start):
    payment = start()

    page = client.get(payment.next_url)

    assert page.status_code == 200
    html = page.content.decode()
    assert "Enter card details" in html
    assert "£45" in html
    assert "Residents&#39; parking permit for AB12 CDE" in html
    for name in ("card_number", "expiry_month", "expiry_year", "cardholder_name", "cvc"):
        assert f'name="{name}"' in html
    assert 'autocomplete="cc-number"' in html
    assert "Cancel payment" in html
    assert page["Cache-Control"].startswith("max-age=0")
    assert refresh_payment(payment).status == "started"


def test_an_unknown_page_address_is_not_found(client, db):
    assert client.get("/payments/local/not-a-real-token").status_code == 404
    assert client.post("/payments/local/not-a-real-token/cancel").status_code == 404


@pytest.mark.parametrize(
    ("number", "status", "code", "brand"),
    [
        ("4444333322221111", "success", "", "Visa"),
        ("4444 3333 2222 1111", "success", "", "Visa"),
        ("5105105105105100", "success", "", "Mastercard"),
        ("371449635398431", "success", "", "American Express"),
        ("4000000000000002", "failed", "P0010", "Visa"),
        ("4000000000000069", "failed", "P0010", "Visa"),
        ("4000000000000127", "failed", "P0010", "Visa"),
        ("4000000000000119", "error", "P0050", "Visa"),
    ],
)
def test_each_test_card_has_its_sandbox_outcome(client, start, pay, number, status, code, brand):
    payment = start()
    client.get(payment.next_url)

    response = pay(payment, number)

    assert response.status_code == 302
    assert response["Location"] == RETURN_URL
    payment = refresh_payment(payment)
    assert (payment.status, payment.finished, payment.code) == (status, True, code)
    assert payment.card_brand == brand
    assert payment.card_last_digits == number.replace(" ", "")[-4:]


def test_every_test_card_number_passes_the_luhn_check():
    assert all(luhn_valid(number) for number in MOCK_CARDS)


def test_the_card_number_is_never_stored(start, pay):
    payment = start()
    pay(payment, "4444333322221111")
    payment = refresh_payment(payment)

    for row in [*LocalPayment.objects.all(), *Payment.objects.all()]:
        for field in row._meta.concrete_fields:
            assert "4444333322221111" not in str(getattr(row, field.attname))
            assert "444433332222" not in str(getattr(row, field.attname))


def test_the_card_number_is_never_logged(start, pay, caplog):
    payment = start()
    with caplog.at_level(logging.DEBUG):
        pay(payment, "4000000000000002")
        pay(start(purpose_key="permit-application:124"), "4444333322221112")
        refresh_payment(payment)
    assert "4000000000000002" not in caplog.text
    assert "4444333322221112" not in caplog.text


@pytest.mark.parametrize(
    ("fields", "field_id", "message"),
    [
        ({"card_number": ""}, "id_card_number", "Enter your card number"),
        (
            {"card_number": "4444-3333-2222-111X"},
            "id_card_number",
            "Card number must only include numbers 0 to 9",
        ),
        ({"card_number": "44443333"}, "id_card_number", "Card number is not the correct length"),
        (
            {"card_number": "4444333322221112"},
            "id_card_number",
            "Enter a valid card number – check you have typed it correctly",
        ),
        (
            {"card_number": "4012888888881881"},
            "id_card_number",
            "enter one of the test card numbers",
        ),
        ({"card_number": "6759649826438453"}, "id_card_number", "Maestro is not supported"),
        ({"expiry_month": "", "expiry_year": ""}, "id_expiry_month", "Enter the expiry date"),
        ({"expiry_month": ""}, "id_expiry_month", "Expiry date must include a month"),
        ({"expiry_year": ""}, "id_expiry_year", "Expiry date must include a year"),
        ({"expiry_month": "13"}, "id_expiry_month", "Enter a real expiry date, like 04 28"),
        ({"expiry_year": "299"}, "id_expiry_year", "Year must include 2 numbers, like 28"),
        (
            {"expiry_month": "01", "expiry_year": "2020"},
            "id_expiry_month",
            "Enter an expiry date in the future",
        ),
        ({"cardholder_name": ""}, "id_cardholder_name", "Enter the name as it appears on the card"),
        ({"cvc": ""}, "id_cvc", "Enter the card security code"),
        ({"cvc": "12"}, "id_cvc", "Card security code must be 3 digits"),
        ({"cvc": "12a"}, "id_cvc", "Card security code must be 3 digits"),
    ],
)
def test_each_mistake_has_its_own_message(client, start, pay, fields, field_id, message):
    payment = start()

    page = pay(payment, **fields)

    assert page.status_code == 200
    html = page.content.decode()
    assert html.count(message) == 2  # in the error summary and by the field
    assert f'href="#{field_id}"' in html
    assert "<title>Error:" in html
    assert refresh_payment(payment).status in ("created", "started")


def test_american_express_needs_a_four_digit_security_code(start, pay):
    page = pay(start(), "371449635398431", cvc="123")
    assert "Card security code must be 4 digits for American Express" in page.content.decode()


def test_the_security_code_is_not_shown_back(start, pay):
    import re

    page = pay(start(), "4444333322221112", cvc="987").content.decode()
    # the CVC field comes back empty (a random CSRF token may contain "987" by chance)
    field = re.search(r'<input[^>]*name="cvc"[^>]*>', page)
    assert field is not None
    assert 'value="987"' not in field.group(0)
    assert re.search(r'value="[^"]*987[^"]*"', page.replace(_csrf(page), "")) is None


def _csrf(page: str) -> str:
    import re

    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    return found.group(1) if found else "\x00"


def test_cancel_payment_fails_it_as_cancelled_by_the_user(client, start):
    payment = start()
    client.get(payment.next_url)

    response = client.post(payment.next_url + "/cancel")

    assert response.status_code == 302
    assert response["Location"] == RETURN_URL
    payment = refresh_payment(payment)
    assert (payment.status, payment.finished, payment.code) == ("failed", True, "P0030")
    assert payment.message == "Payment was cancelled by the user"


def test_cancel_is_not_a_link_anyone_can_follow(client, start):
    payment = start()
    assert client.get(payment.next_url + "/cancel").status_code == 405
    assert refresh_payment(payment).status == "created"


def test_a_finished_payment_sends_the_payer_back_and_changes_nothing(client, start, pay):
    payment = start()
    pay(payment, "4444333322221111")

    again = client.get(payment.next_url)
    second_submit = pay(payment, "4000000000000002")
    cancel = client.post(payment.next_url + "/cancel")

    assert again["Location"] == second_submit["Location"] == cancel["Location"] == RETURN_URL
    assert refresh_payment(payment).status == "success"
