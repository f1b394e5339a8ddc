"""The GOV.UK Pay client against the JSON GOV.UK Pay's API reference documents."""

import json

import pytest
import requests
import responses
from django.core.exceptions import ImproperlyConfigured

from borough.payments.providers import (
    GovUkPayClient,
    LocalPayProvider,
    PaymentProviderError,
    ProviderPaymentNotFound,
    get_provider,
)

API = "https://publicapi.payments.service.gov.uk"
KEY = "api_test_123abc456def"
PAYMENT_ID = "hu20sqlact5260q2nanm0q8u93"


@pytest.fixture
def govuk():
    return GovUkPayClient(KEY)


@pytest.fixture
def api():
    with responses.RequestsMock() as mock:
        yield mock


def payment_json(status: str, finished: bool, code: str = "", message: str = "", **extra):
    state = {"status": status, "finished": finished}
    if code:
        state.update(code=code, message=message)
    return {
        "amount": 4500,
        "description": "Residents' parking permit",
        "reference": "BP-7K3M9Q2XRT",
        "language": "en",
        "state": state,
        "payment_id": PAYMENT_ID,
        "payment_provider": "sandbox",
        "created_date": "2026-03-25T13:11:29.019Z",
        "refund_summary": {"status": "pending", "amount_available": 4500, "amount_submitted": 0},
        "_links": {
            "self": {"href": f"{API}/v1/payments/{PAYMENT_ID}", "method": "GET"},
            "next_url": {
                "href": "https://www.payments.service.gov.uk/secure/ef1b6ff1-db34",
                "method": "GET",
            },
        },
        **extra,
    }


def test_create_sends_the_payment_with_the_key_and_an_idempotency_key(govuk, api):
    api.post(f"{API}/v1/payments", json=payment_json("created", False), status=201)

    created = govuk.create_payment(
        4500,
        reference="BP-7K3M9Q2XRT",
        description="Residents' parking permit",
        return_url="https://borough.example/paid",
        idempotency_key="BP-7K3M9Q2XRT",
    )

    assert created.provider_id == PAYMENT_ID
    assert created.next_url == "https://www.payments.service.gov.uk/secure/ef1b6ff1-db34"
    assert created.status == "created"
    request = api.calls[0].request
    assert request.headers["Authorization"] == f"Bearer {KEY}"
    assert request.headers["Idempotency-Key"] == "BP-7K3M9Q2XRT"
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.body) == {
        "amount": 4500,
        "reference": "BP-7K3M9Q2XRT",
        "description": "Residents' parking permit",
        "return_url": "https://borough.example/paid",
        "language": "en",
    }


@pytest.mark.parametrize(
    ("status", "finished", "code", "message"),
    [
        ("created", False, "", ""),
        ("started", False, "", ""),
        ("submitted", False, "", ""),
        ("capturable", False, "", ""),
        ("success", True, "", ""),
        ("failed", True, "P0010", "Payment method rejected"),
        ("failed", True, "P0020", "Payment expired"),
        ("failed", True, "P0030", "Payment was cancelled by the user"),
        ("cancelled", True, "P0040", "Payment was cancelled by the service"),
        ("error", True, "P0050", "Payment provider returned an error"),
    ],
)
def test_get_reads_each_state(govuk, api, status, finished, code, message):
    api.get(f"{API}/v1/payments/{PAYMENT_ID}", json=payment_json(status, finished, code, message))

    state = govuk.get_payment(PAYMENT_ID)

    assert (state.status, state.finished, state.code, state.message) == (
        status,
        finished,
        code,
        message,
    )


def test_get_keeps_only_the_card_brand_and_last_digits(govuk, api):
    card = {
        "card_brand": "Visa",
        "card_type": "debit",
        "last_digits_card_number": "1111",
        "first_digits_card_number": "444433",
        "expiry_date": "04/28",
        "cardholder_name": "Sam Resident",
    }
    api.get(
        f"{API}/v1/payments/{PAYMENT_ID}",
        json=payment_json("success", True, card_details=card),
    )

    state = govuk.get_payment(PAYMENT_ID)

    assert (state.card_brand, state.card_last_digits) == ("Visa", "1111")


def test_a_payment_id_cannot_reach_another_path(govuk, api):
    api.get(f"{API}/v1/payments/..%2Fagreements", json=payment_json("created", False))
    govuk.get_payment("../agreements")
    assert api.calls[0].request.url == f"{API}/v1/payments/..%2Fagreements"


def test_refund_sends_the_amount_and_what_was_available(govuk, api):
    api.post(
        f"{API}/v1/payments/{PAYMENT_ID}/refunds",
        status=202,
        json={
            "refund_id": "4jfabcee0ev36so050kooajabk",
            "created_date": "2026-03-22T12:44:15.226Z",
            "amount": 1000,
            "status": "submitted",
            "_links": {},
        },
    )

    refund = govuk.refund(PAYMENT_ID, 1000, 4500)

    assert (refund.refund_id, refund.status) == ("4jfabcee0ev36so050kooajabk", "submitted")
    assert json.loads(api.calls[0].request.body) == {
        "amount": 1000,
        "refund_amount_available": 4500,
    }


@pytest.mark.parametrize(
    ("status", "body", "kind", "words"),
    [
        (
            401,
            {"code": "P0920", "description": "Credentials are required"},
            PaymentProviderError,
            "API key",
        ),
        (404, {"code": "P0200", "description": "Not found"}, ProviderPaymentNotFound, "no payment"),
        (
            409,
            {"code": "P0191", "description": "Idempotency-Key used"},
            PaymentProviderError,
            "already",
        ),
        (412, {"code": "P0604", "description": "mismatch"}, PaymentProviderError, "changed"),
        (
            422,
            {"field": "amount", "code": "P0102", "description": "Invalid attribute value: amount"},
            PaymentProviderError,
            "did not accept",
        ),
        (429, {"code": "P0900", "description": "Too many requests"}, PaymentProviderError, "busy"),
        (
            500,
            {"code": "P0198", "description": "Downstream system error"},
            PaymentProviderError,
            "not working",
        ),
        (502, "<html>Bad gateway</html>", PaymentProviderError, "not working"),
    ],
)
def test_errors_become_a_message_safe_to_show(govuk, api, status, body, kind, words):
    if isinstance(body, dict):
        api.post(f"{API}/v1/payments", json=body, status=status)
    else:
        api.post(f"{API}/v1/payments", body=body, status=status)

    with pytest.raises(kind) as caught:
        govuk.create_payment(4500, "BP-1", "Permit", "https://borough.example/paid", "BP-1")

    error = caught.value
    assert words in str(error)
    assert error.http_status == status
    assert KEY not in str(error)
    if isinstance(body, dict):
        assert error.code == body["code"]
        assert error.detail == body["description"]
        assert body["description"] not in str(error)  # GOV.UK Pay's words are for developers


@pytest.mark.parametrize(
    ("failure", "words"),
    [
        (requests.ConnectTimeout(), "did not answer"),
        (requests.ConnectionError(), "could not reach"),
    ],
)
def test_no_answer_is_a_provider_error(govuk, api, failure, words):
    api.get(f"{API}/v1/payments/{PAYMENT_ID}", body=failure)
    with pytest.raises(PaymentProviderError, match=words):
        govuk.get_payment(PAYMENT_ID)


def test_the_client_waits_only_so_long(govuk, api):
    api.get(f"{API}/v1/payments/{PAYMENT_ID}", json=payment_json("created", False))
    govuk.get_payment(PAYMENT_ID)
    assert api.calls[0].request.req_kwargs["timeout"] == GovUkPayClient.timeout


def test_the_api_key_is_not_in_the_clients_repr(govuk):
    assert KEY not in repr(govuk)


def test_the_local_provider_is_the_default_outside_production(settings):
    assert isinstance(get_provider(), LocalPayProvider)


@pytest.mark.parametrize("unset", [None, ""])
def test_production_needs_a_provider_chosen(settings, unset):
    settings.PRODUCTION = True
    if unset is None:
        del settings.BOROUGH_PAYMENT_PROVIDER
    else:
        settings.BOROUGH_PAYMENT_PROVIDER = unset
    with pytest.raises(ImproperlyConfigured, match="BOROUGH_PAYMENT_PROVIDER"):
        get_provider()
    settings.BOROUGH_PAYMENT_PROVIDER = "local"
    assert isinstance(get_provider(), LocalPayProvider)


def test_govuk_pay_is_chosen_by_setting(settings):
    settings.BOROUGH_PAYMENT_PROVIDER = "govuk_pay"
    settings.BOROUGH_GOVUK_PAY_API_KEY = KEY
    provider = get_provider()
    assert isinstance(provider, GovUkPayClient)
    assert provider.base_url == API


def test_govuk_pay_without_a_key_is_a_clear_error(settings):
    settings.BOROUGH_PAYMENT_PROVIDER = "govuk_pay"
    with pytest.raises(ImproperlyConfigured, match="BOROUGH_GOVUK_PAY_API_KEY"):
        get_provider()


def test_an_unknown_provider_is_a_clear_error(settings):
    settings.BOROUGH_PAYMENT_PROVIDER = "stripe"
    with pytest.raises(ImproperlyConfigured, match="'local' or 'govuk_pay'"):
        get_provider()
