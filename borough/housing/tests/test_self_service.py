"""A tenant finds their rent account (payment reference and postcode, then the resident index
confirms they are the tenant), sees it, and downloads statements; every view is logged."""

from __future__ import annotations

import csv
import datetime as dt
import io

from borough.core.models import User
from borough.housing.models import LedgerEntry, Tenant
from borough.transparency.queries import events

Kind = LedgerEntry.Kind


def _sign_in(client, email="tenant@example.org"):
    user = User.objects.create_resident(email)
    client.force_login(user)
    return user


def _find(client, tenancy, **override):
    data = {
        "payment_reference": "1234 5678i",
        "postcode": tenancy["home"].postcode.lower(),
        **override,
    }
    return client.post("/rent/find", data)


def _confirm(client, row, **override):
    born = dt.datetime.strptime(row["DATE_OF_BIRTH"].title(), "%d-%b-%Y").date()
    data = {
        "first_name": row["FORENAME"],
        "surname": row["SURNAME"],
        "dob_day": str(born.day),
        "dob_month": str(born.month),
        "dob_year": str(born.year),
        **override,
    }
    return client.post("/rent/find/you", data)


def test_a_tenant_finds_their_account_and_sees_balance_charges_and_payments(client, tenancy):
    user = _sign_in(client)
    assert client.get("/rent/account")["Location"] == "/rent/find"
    assert _find(client, tenancy)["Location"] == "/rent/find/you"
    landed = _confirm(client, tenancy["row"])
    assert landed["Location"] == "/rent/account/12345678I"
    tenancy["tenant"].refresh_from_db()
    assert tenancy["tenant"].account == user
    page = client.get("/rent/account/12345678I").content.decode()
    # two weeks of £127.50 charged, £127.50 paid by standing order, £50 Housing Benefit
    assert "You owe £77.50" in page
    assert "£112.50" in page and "£15.00" in page and "£127.50" in page
    assert "Housing Benefit" in page and "Standing order" in page
    assert "0.6 of a week of rent" in page
    subject = tenancy["tenant"].resident_id
    logged = events().filter(purpose="housing_rent_account_self_service")
    assert [e.subject_resident_id for e in logged] == [subject]
    assert events().filter(purpose="housing_tenant_verification").count() == 1
    assert client.get("/rent/account")["Location"] == "/rent/account/12345678I"


def test_a_wrong_reference_or_postcode_finds_nothing_and_says_the_same(client, tenancy):
    _sign_in(client)
    for override in ({"payment_reference": "12345678A"}, {"postcode": "E21 9ZZ"}):
        page = _find(client, tenancy, **override).content.decode()
        assert "We cannot find a rent account with that payment reference and postcode" in page
    assert (
        "Enter your rent payment reference"
        in client.post("/rent/find", {"postcode": "E21 0AA"}).content.decode()
    )


def test_someone_who_is_not_the_tenant_is_not_given_the_account(client, tenancy):
    _sign_in(client)
    _find(client, tenancy)
    page = _confirm(client, tenancy["row"], first_name="Zebedee", surname="Quorn", dob_year="1931")
    assert "We could not confirm you are the tenant" in page.content.decode()
    assert client.get("/rent/account/12345678I").status_code == 404
    assert Tenant.objects.filter(account__isnull=False).count() == 0


def test_statements_download_as_csv_and_pdf_with_a_running_balance(client, tenancy):
    _sign_in(client)
    _find(client, tenancy)
    _confirm(client, tenancy["row"])
    response = client.get("/rent/account/12345678I/statement", {"period": "all", "format": "csv"})
    assert response["Content-Type"] == "text/csv"
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["Date", "Description", "Type", "Charged", "Paid", "Balance"]
    assert rows[1][1] == "Opening balance" and rows[1][5] == "0.00"
    assert rows[-1][1] == "Closing balance" and rows[-1][5] == "77.50"
    balances = [r[5] for r in rows[2:-1]]
    assert balances == ["112.50", "127.50", "0.00", "112.50", "127.50", "77.50"]
    pdf = client.get("/rent/account/12345678I/statement", {"period": "all", "format": "pdf"})
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    missing = client.get("/rent/account/12345678I/statement", {"period": "all"})
    assert "Select a format" in missing.content.decode()
    dated = client.get(
        "/rent/account/12345678I/statement",
        {"period": "dates", "start": "16/11/2026", "end": "16/11/2026", "format": "csv"},
    )
    rows = list(csv.reader(io.StringIO(dated.content.decode())))
    assert rows[1][5] == "0.00" and rows[-1][5] == "127.50"  # one week's charges on the 16th
    assert [r[1] for r in rows[2:-1]] == [
        "Rent, 2026/27 week 33",
        "Service charge, 2026/27 week 33",
    ]
    backwards = client.get(
        "/rent/account/12345678I/statement",
        {"period": "dates", "start": "16/11/2026", "end": "1/11/2026", "format": "csv"},
    )
    assert "The last day must be on or after the first day" in backwards.content.decode()


def test_another_residents_account_is_not_found(client, tenancy):
    _sign_in(client, "someone@example.org")
    assert client.get("/rent/account/12345678I").status_code == 404
    assert client.get("/rent/account/12345678I/statement").status_code == 404


def test_the_standing_order_page_gives_payee_reference_and_amount_for_the_frequency(
    client, tenancy, settings
):
    _sign_in(client)
    _find(client, tenancy)
    _confirm(client, tenancy["row"])
    page = client.get("/rent/account/12345678I/standing-order").content.decode()
    assert "How often do you want to pay?" in page
    monthly = client.get(
        "/rent/account/12345678I/standing-order", {"frequency": "monthly"}
    ).content.decode()
    assert settings.COUNCIL.bank.sort_code in monthly
    assert settings.COUNCIL.bank.account_number in monthly
    assert '<strong id="reference">12345678I</strong>' in monthly
    # £127.50 a week over the 50 charged weeks of 2026/27, in 12 payments: £531.25
    assert '<strong id="amount">£531.25</strong>' in monthly
    weekly = client.get("/rent/account/12345678I/standing-order", {"frequency": "weekly"})
    # 127.50 x 50 / 52 = 122.596… rounded up
    assert '<strong id="amount">£122.60</strong>' in weekly.content.decode()
    bad = client.get("/rent/account/12345678I/standing-order", {"frequency": "hourly"})
    assert "Select how often you want to pay" in bad.content.decode()


def test_the_account_shows_an_arrangement_and_whether_it_is_on_track(client, tenancy):
    from borough.housing.models import PaymentArrangement

    _sign_in(client)
    _find(client, tenancy)
    _confirm(client, tenancy["row"])
    PaymentArrangement.objects.create(
        account=tenancy["account"],
        amount_pence=500,
        frequency="weekly",
        start_date=dt.date(2026, 11, 9),
        start_balance_pence=20000,
    )
    page = client.get("/rent/account/12345678I").content.decode()
    assert "Arrangement to clear arrears" in page
    assert '<strong id="arrangement-status">' in page
