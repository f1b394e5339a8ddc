"""How a tenant's regular payment is explained: the Direct Debit and standing-order amounts
against the weekly charge and the weeks charged a year, the name the payments show under on a
bank statement, and the standing-order page warning a tenant who already pays (or is about to
pay) by Direct Debit that they would pay twice."""

from __future__ import annotations

import datetime as dt

import pytest

from borough.housing import accounts, direct_debit
from borough.housing.tests.test_card_payments import _tenant_of
from borough.housing.tests.test_direct_debit_pages import BASE, _answer_up_to_check, _page, _set_up
from borough.housing.tests.test_ledger import make_account

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 12, 1)  # rent year 2026/27: 50 charged weeks (38 and 39 are free)
ACCOUNT_PAGE = "/rent/account/00000001X"
# £110.00 rent and £12.50 service charge a week: £6,125.00 over 50 weeks
MONTHLY = "£122.50 a week for 50 weeks a year is £6,125.00 a year, which is £510.42 a month"
WEEKLY = "£122.50 a week for 50 weeks a year is £6,125.00 a year, which is £117.79 a week"


@pytest.fixture
def tenant(client):
    """A tenant, signed in, of an account charged £110.00 rent and £12.50 service a week."""
    account = make_account(1)
    user = _tenant_of(account)
    client.force_login(user)
    return account, user


@pytest.fixture(autouse=True)
def _on_1_december_2026(monkeypatch):
    monkeypatch.setattr("borough.housing.dd_views.today_in_london", lambda: TODAY)
    monkeypatch.setattr("borough.housing.views._today", lambda: TODAY)


def test_the_amount_is_worked_out_from_the_weekly_charge_in_words(tenant):
    account, _user = tenant
    assert accounts.amount_explained(account, "monthly", on=TODAY) == (
        f"{MONTHLY} (rounded up to the penny)"
    )
    assert accounts.amount_explained(account, "weekly", on=TODAY) == (
        f"{WEEKLY} (rounded up to the penny), paid all year round, including in the rent-free weeks"
    )


def test_the_direct_debit_pages_explain_the_amount_against_the_weekly_charge(client, tenant):
    start = _page(client.get(BASE))
    assert "Your rent and charges are £122.50 a week for 50 weeks a year: £6,125.00 a year" in (
        start
    )
    _answer_up_to_check(client)
    how_often = _page(client.get(f"{BASE}/how-often"))
    assert "£122.50 a week for 50 weeks a year: £6,125.00 a year" in how_often
    check = _page(client.get(f"{BASE}/check"))
    assert MONTHLY in check
    client.post(f"{BASE}/check")
    assert MONTHLY in _page(client.get(f"{BASE}/set-up"))
    assert MONTHLY in _page(client.get(BASE))


def test_the_direct_debit_pages_give_the_name_on_the_tenants_bank_statement(
    client, tenant, settings
):
    settings.BOROUGH_BACS_SERVICE_USER_NAME = "NORTHMERE COUNCIL"
    assert 'id="dd-payee">NORTHMERE COUNCIL<' in _page(client.get(BASE))
    _answer_up_to_check(client)
    assert 'id="dd-payee">NORTHMERE COUNCIL<' in _page(client.get(f"{BASE}/check"))
    client.post(f"{BASE}/check")
    assert 'id="dd-payee">NORTHMERE COUNCIL<' in _page(client.get(f"{BASE}/set-up"))
    mandate = direct_debit.live_mandate(tenant[0])
    assert f'id="dd-payee">NORTHMERE COUNCIL {mandate.reference}<' in _page(client.get(BASE))


def test_the_standing_order_page_explains_the_amount_and_the_payee_name(client, tenant):
    page = _page(client.get(f"{ACCOUNT_PAGE}/standing-order?frequency=monthly"))
    assert MONTHLY in page
    assert 'id="payee">LB Northmere Housing Rents<' in page
    assert "dd-warning" not in page


@pytest.mark.parametrize(
    ("status", "words"),
    [
        ("new", "is being set up"),
        ("lodged", "is being set up"),
        ("active", "You already pay by Direct Debit"),
        ("suspended", "paused at the moment"),
    ],
)
def test_the_standing_order_page_warns_a_tenant_who_pays_by_direct_debit(
    client, tenant, status, words
):
    account, user = tenant
    mandate = _set_up(account, user)
    mandate.status = status
    mandate.save(update_fields=["status"])
    for url in (
        f"{ACCOUNT_PAGE}/standing-order",
        f"{ACCOUNT_PAGE}/standing-order?frequency=weekly",
    ):
        page = _page(client.get(url))
        warning = page.split('id="dd-warning"')[1].split("</div>")[0]
        assert words in warning and mandate.reference in warning
        assert "you will pay twice" in warning
        assert f'href="{BASE}"' in warning


def test_an_ended_direct_debit_gives_no_warning(client, tenant):
    account, user = tenant
    mandate = _set_up(account, user)
    direct_debit.cancel_mandate(mandate, by=user, reason="Cancelled by the tenant online")
    assert "dd-warning" not in _page(client.get(f"{ACCOUNT_PAGE}/standing-order"))
