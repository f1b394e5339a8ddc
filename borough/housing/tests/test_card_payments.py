"""A tenant who owes rent is told so as something to act on, with help if they are struggling,
and pays by card through the payments adapter: the payment reaches the rent ledger exactly once
however many times the return page is opened, and a declined or cancelled card leaves the
tenant on a page that offers to try again."""

from __future__ import annotations

import datetime as dt
import threading
from urllib.parse import urlsplit

import pytest
from django.db import connection
from django.test import Client

from borough.core.models import User
from borough.housing import card_payments, services
from borough.housing.models import LedgerEntry, Tenant
from borough.housing.tests.test_ledger import make_account
from borough.payments.models import LocalPayment, Payment
from borough.payments.providers import MOCK_CARDS, LocalPayProvider
from borough.payments.services import refresh_payment

REF = "00000001X"
ACCOUNT = f"/rent/account/{REF}"


def _tenant_of(account, email="tenant@example.org"):
    user = User.objects.create_resident(email)
    Tenant.objects.create(
        tenancy=account.tenancy,
        first_name="Zoe",
        surname="O'Brien",
        lead=True,
        account=user,
        resident_id="RTEST0001",
    )
    return user


def _owing(account, pence=25000):
    services.post_entry(
        account,
        kind=LedgerEntry.Kind.CHARGE,
        type_code="DBR",
        amount_pence=pence,
        posted_on=dt.date(2026, 11, 30),
        description="Rent",
        source_key=f"test-charge:{account.pk}",
    )


@pytest.fixture
def owing(client, db):
    """A tenant, signed in, who owes £250.00 on a £122.50 weekly charge."""
    account = make_account(1)
    user = _tenant_of(account)
    _owing(account)
    client.force_login(user)
    return account


def _page(response) -> str:
    return response.content.decode()


def _start(client, amount="250.00", attempt="attempt-1"):
    response = client.post(f"{ACCOUNT}/pay", {"amount": amount, "attempt": attempt})
    assert response.status_code == 302, _page(response)
    return response["Location"]


def _card(client, next_url, number="4444333322221111"):
    """Fill in the local provider's card page; where it sends the payer back to."""
    response = client.post(
        next_url,
        {
            "card_number": number,
            "expiry_month": "04",
            "expiry_year": "2099",
            "cardholder_name": "Zoe O'Brien",
            "cvc": "123",
        },
    )
    assert response.status_code == 302, _page(response)
    parts = urlsplit(response["Location"])
    return f"{parts.path}?{parts.query}"


def test_arrears_are_shown_as_something_to_act_on_with_help_and_a_way_to_pay(client, owing):
    page = _page(client.get(ACCOUNT))
    assert "govuk-panel--confirmation" not in page  # not a green "done" panel
    banner = page.split('class="govuk-notification-banner"')[1].split("</section>")[0]
    assert "You owe £250.00" in banner
    assert "2 weeks of rent" in banner
    assert f'href="{ACCOUNT}/pay"' in banner and "Pay what you owe by card" in banner
    assert "If you are struggling to pay" in page
    assert "020 7946 0000" in page and "digital@northmere.example" in page
    assert "Monday to Friday, 9am to 5pm" in page
    assert 'href="https://www.moneyhelper.org.uk/' in page


def test_an_account_in_credit_has_no_warning_and_no_struggling_help(client, db):
    account = make_account(1)
    client.force_login(_tenant_of(account))
    services.post_entry(
        account,
        kind=LedgerEntry.Kind.STANDING_ORDER,
        type_code="RSO",
        amount_pence=-1000,
        posted_on=dt.date(2026, 11, 30),
        description="Standing order",
        source_key="test-so",
    )
    page = _page(client.get(ACCOUNT))
    assert "You are £10.00 in credit" in page
    assert "govuk-notification-banner" not in page and "govuk-panel" not in page
    assert "If you are struggling to pay" not in page


def test_the_card_amount_starts_at_what_is_owed_and_each_mistake_has_its_own_message(client, owing):
    page = _page(client.get(f"{ACCOUNT}/pay"))
    assert 'value="250.00"' in page and "You owe £250.00" in page
    for typed, message in (
        ("", "Enter how much you want to pay, like 125.50"),
        ("twenty", "Enter how much you want to pay in pounds and pence, like 125.50"),
        ("12.345", "Enter the amount in pounds and pence, like 125.50"),
        ("0.50", "The amount must be at least £1.00"),
        ("100000.01", "The amount must be £100,000.00 or less"),
    ):
        page = _page(client.post(f"{ACCOUNT}/pay", {"amount": typed, "attempt": "a"}))
        assert message in page, typed
        assert "There is a problem" in page
        if typed:
            assert f'value="{typed}"' in page  # what they typed is kept
    assert Payment.objects.count() == 0


def test_a_card_payment_is_posted_to_the_rent_account_once_however_often_it_returns(client, owing):
    next_url = _start(client, amount="£1,00.50")  # "£" and a stray comma are forgiven
    back = _card(client, next_url)
    assert back.startswith(f"{ACCOUNT}/pay/paid?attempt=")
    for _ in range(3):  # the return page opened again, reloaded, from the history
        page = _page(client.get(back))
        assert "Payment received" in page and "You paid <strong" in page
        assert "£100.50" in page
    entries = LedgerEntry.objects.filter(account=owing, kind=LedgerEntry.Kind.CARD)
    assert [(e.amount_pence, e.type_code) for e in entries] == [(-10050, "RCP")]
    payment = Payment.objects.get()
    assert entries[0].source_key == f"card:{payment.reference}"
    assert services.balance_pence(owing) == 25000 - 10050
    assert "You still owe £149.50" in _page(client.get(back))


def test_a_double_click_on_continue_to_payment_starts_one_payment(client, owing):
    assert _start(client) == _start(client)
    assert Payment.objects.count() == 1


def test_the_payment_is_posted_even_if_the_tenant_never_comes_back(client, owing):
    next_url = _start(client)
    Client().post(  # the card page, in another browser: the tenant closes it once paid
        next_url,
        {
            "card_number": "4444333322221111",
            "expiry_month": "04",
            "expiry_year": "2099",
            "cardholder_name": "Zoe O'Brien",
            "cvc": "123",
        },
    )
    refresh_payment(Payment.objects.get())  # whatever asks the provider next (a callback)
    refresh_payment(Payment.objects.get())
    assert LedgerEntry.objects.filter(kind=LedgerEntry.Kind.CARD).count() == 1


@pytest.mark.parametrize(
    ("number", "words"), [("4000000000000002", "not completed"), (None, "cancelled")]
)
def test_a_declined_or_cancelled_card_offers_to_try_again_and_posts_nothing(
    client, owing, number, words
):
    next_url = _start(client)
    if number is None:
        parts = urlsplit(client.post(f"{next_url}/cancel")["Location"])
        back = f"{parts.path}?{parts.query}"
    else:
        back = _card(client, next_url, number)
    page = _page(client.get(back))
    assert "Your payment was not taken" in page
    assert f"was {words}" in page and "No money has been taken" in page
    assert "Try again to pay £250.00" in page
    assert LedgerEntry.objects.filter(kind=LedgerEntry.Kind.CARD).count() == 0
    # trying again starts a new payment, which can succeed
    again = client.post(f"{ACCOUNT}/pay", {"amount": "250.00", "attempt": "attempt-1"})
    assert again.status_code == 302
    assert Payment.objects.count() == 2
    assert "Payment received" in _page(client.get(_card(client, again["Location"])))
    assert services.balance_pence(owing) == 0


def test_another_tenants_payment_page_is_not_found(client, owing):
    other = make_account(2)
    client.force_login(_tenant_of(other, "other@example.org"))
    assert client.get(f"{ACCOUNT}/pay").status_code == 404
    assert client.get(f"{ACCOUNT}/pay/paid?attempt=attempt-1").status_code == 404


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_returns_at_the_same_moment_post_the_payment_once():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite lets only one writer in at a time")
    account = make_account(1)
    user = _tenant_of(account)
    _owing(account)
    client = Client()
    client.force_login(user)
    _start(client)
    # the card is taken, but Borough has not heard yet: the provider's state alone changed
    local = LocalPayment.objects.get()
    LocalPayProvider().authorise(local, MOCK_CARDS["4444333322221111"], "1111")
    back = urlsplit(Payment.objects.get().return_url)
    path = f"{back.path}?{back.query}"

    both = threading.Barrier(2)
    pages, errors = [], []

    def open_return():
        try:
            browser = Client()
            browser.force_login(user)
            both.wait(timeout=5)
            pages.append(_page(browser.get(path)))
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=open_return) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert all("Payment received" in page for page in pages) and len(pages) == 2
    assert LedgerEntry.objects.filter(kind=LedgerEntry.Kind.CARD).count() == 1
    assert services.balance_pence(account) == 0
    assert card_payments.post_card_payment(Payment.objects.get()).amount_pence == -25000


def test_a_tenant_on_track_with_an_arrangement_is_told_so_not_warned(client, owing):
    from borough.housing.models import PaymentArrangement

    PaymentArrangement.objects.create(
        account=owing,
        amount_pence=500,
        frequency="weekly",
        start_date=dt.date.today(),
        start_balance_pence=25000,
    )
    page = _page(client.get(ACCOUNT))
    plan = page.split('id="owed-plan">')[1].split("</p>")[0]
    assert "£5.00 every week on top of your rent, and you are on track" in plan
    assert "home at risk" not in page
    assert "Pay what you owe by card" in page and "If you are struggling to pay" in page
