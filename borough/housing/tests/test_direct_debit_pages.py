"""Direct Debit pages: the tenant sets one up a question a page (bank details checked, the
Guarantee on the check page, a confirmation email), sees it masked and cancels it; the finance
officer lists mandates, makes a run, downloads its file and uploads a report. No page shows
full bank details."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail

from borough.core.models import User
from borough.housing import direct_debit, direct_debit_runs
from borough.housing.bacs.standard18_validator import validate_standard18
from borough.housing.models import BacsRun, Mandate, Tenant
from borough.housing.tests.test_ledger import make_account

pytestmark = pytest.mark.django_db

BASE = "/rent/account/00000001X/direct-debit"
SORT_CODE, ACCOUNT = "20-29-59", "63748472"


@pytest.fixture
def tenant(client):
    account = make_account(1)
    user = User.objects.create_resident("tenant@example.org")
    Tenant.objects.create(
        tenancy=account.tenancy,
        first_name="Zoe",
        surname="O'Brien",
        lead=True,
        account=user,
        resident_id="RTEST0001",
    )
    client.force_login(user)
    return account, user


def _page(response) -> str:
    return response.content.decode()


def _no_full_details(*pages: str) -> None:
    for page in pages:
        assert ACCOUNT not in page and "202959" not in page and SORT_CODE not in page


def _set_up(account, user=None):
    """A monthly mandate for the 15th, set up on 1 December 2026."""
    return direct_debit.set_up_mandate(
        account,
        account_holder="Zoe O'Brien",
        sort_code=SORT_CODE,
        account_number=ACCOUNT,
        frequency="monthly",
        collection_day=15,
        today=dt.date(2026, 12, 1),
        created_by=user,
    )


def _answer_up_to_check(client):
    assert client.post(f"{BASE}/name", {"holder": "Zoe O'Brien"})["Location"] == (
        f"{BASE}/bank-details"
    )
    assert client.post(f"{BASE}/bank-details", {"sort_code": SORT_CODE, "account_number": ACCOUNT})[
        "Location"
    ] == (f"{BASE}/account-holder")
    assert client.post(f"{BASE}/account-holder", {"authorised": "yes"})["Location"] == (
        f"{BASE}/how-often"
    )
    assert client.post(f"{BASE}/how-often", {"frequency": "monthly"})["Location"] == f"{BASE}/day"
    assert client.post(f"{BASE}/day", {"day": "15"})["Location"] == f"{BASE}/check"


def test_a_tenant_sets_up_a_direct_debit_and_gets_the_confirmation(
    client, tenant, django_capture_on_commit_callbacks
):
    account, _user = tenant
    start = _page(client.get(BASE))
    assert "Start now" in start
    assert "Pay by Direct Debit" in _page(client.get("/rent/account/00000001X"))
    _answer_up_to_check(client)
    check = _page(client.get(f"{BASE}/check"))
    assert "The Direct Debit Guarantee" in check
    assert "full and immediate refund" in check and "cancel a Direct Debit at any time" in check
    assert "**-**-59 ****8472" in check
    today = direct_debit.timezone.localdate()
    first = direct_debit.first_collection_date("monthly", 15, today)
    assert direct_debit.collection_day_of(first).strftime("%-d %B %Y") in check
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(f"{BASE}/check")
    assert done["Location"] == f"{BASE}/set-up"
    mandate = Mandate.objects.get()
    assert (mandate.account, mandate.frequency, mandate.collection_day) == (account, "monthly", 15)
    assert mandate.first_collection_on == first
    confirmation = _page(client.get(f"{BASE}/set-up"))
    assert mandate.reference in confirmation
    (email,) = mail.outbox
    assert "full and immediate refund" in email.body and mandate.reference in email.body
    status = _page(client.get(BASE))
    assert "**-**-59 ****8472" in status and "Being set up" in status
    account_page = _page(client.get("/rent/account/00000001X"))
    assert "yours is being set up" in account_page
    _no_full_details(check, confirmation, status, account_page, email.body)
    # One live mandate: the journey now leads back to it.
    assert client.get(f"{BASE}/name")["Location"] == BASE


def test_bank_details_that_fail_the_checks_get_a_message_on_their_field(client, tenant):
    client.post(f"{BASE}/name", {"holder": "Zoe O'Brien"})
    page = _page(client.post(f"{BASE}/bank-details", {"sort_code": "2029", "account_number": ""}))
    assert "Enter a valid sort code like 30-99-50" in page
    assert 'href="#id_sort_code"' in page
    page = _page(
        client.post(f"{BASE}/bank-details", {"sort_code": SORT_CODE, "account_number": "12"})
    )
    assert "Enter a valid account number like 00733445" in page
    assert 'href="#id_account_number"' in page
    page = _page(
        client.post(f"{BASE}/bank-details", {"sort_code": SORT_CODE, "account_number": "63748473"})
    )
    assert "the numbers do not match" in page
    assert "63748473" not in page.split("<form")[0]  # not repeated in the error summary
    assert client.get(f"{BASE}/account-holder")["Location"] == f"{BASE}/bank-details"


def test_someone_else_must_authorise_so_a_paper_form_is_needed(client, tenant):
    client.post(f"{BASE}/name", {"holder": "Zoe O'Brien"})
    client.post(f"{BASE}/bank-details", {"sort_code": SORT_CODE, "account_number": ACCOUNT})
    assert "Select yes if you are the account holder" in _page(
        client.post(f"{BASE}/account-holder", {})
    )
    response = client.post(f"{BASE}/account-holder", {"authorised": "no"})
    assert response["Location"] == f"{BASE}/paper-form"
    assert "paper Direct Debit Instruction" in _page(client.get(f"{BASE}/paper-form"))
    assert client.get(f"{BASE}/how-often")["Location"] == f"{BASE}/account-holder"


def test_weekly_payers_choose_a_weekday_and_monthly_payers_a_day_from_1_to_28(client, tenant):
    _answer_up_to_check(client)
    assert "between 1 and 28" in _page(client.post(f"{BASE}/day", {"day": "29"}))
    client.post(f"{BASE}/how-often", {"frequency": "fortnightly", "change": "1"})
    page = _page(client.get(f"{BASE}/day"))
    assert "Friday" in page and "Which day of the week" in page
    assert client.get(f"{BASE}/check")["Location"] == f"{BASE}/day"  # the day must be asked again
    client.post(f"{BASE}/day", {"day": "4"})
    assert "Every 2 weeks on a Friday" in _page(client.get(f"{BASE}/check"))


def test_the_tenant_cancels_and_the_next_run_sends_0c(client, tenant):
    account, user = tenant
    mandate = _set_up(account, user)
    direct_debit_runs.bacs_run(dt.date(2026, 12, 1))
    assert "Cancel Direct Debit" in _page(client.get(f"{BASE}/cancel"))
    assert client.post(f"{BASE}/cancel")["Location"] == BASE
    mandate.refresh_from_db()
    assert mandate.status == Mandate.Status.CANCELLED
    assert "has ended" in _page(client.get(BASE))
    run = direct_debit_runs.bacs_run(dt.date(2026, 12, 11))
    assert run.instructions == 1 and run.collections == 0


def test_another_residents_account_is_not_found(client, tenant):
    make_account(2)
    assert client.get("/rent/account/00000002X/direct-debit").status_code == 404
    assert client.post(
        "/rent/account/00000002X/direct-debit/name", {"holder": "X"}
    ).status_code == (404)


# -- finance -----------------------------------------------------------------------------------


@pytest.fixture
def officer(client, make_staff):
    user = make_staff("Finance officer")
    return user


def test_the_finance_officer_sees_mandates_masked_makes_a_run_and_downloads_it(
    client, tenant, officer, monkeypatch, sign_in_staff
):
    account, user = tenant
    _set_up(account, user)
    sign_in_staff(client, officer)
    tools = _page(client.get("/staff/finance/"))
    assert "Direct Debit mandates" in tools and "Bacs runs" in tools and "Bacs reports" in tools
    listing = _page(client.get("/staff/finance/direct-debit/mandates"))
    assert "**-**-59 ****8472" in listing and "/staff/housing/accounts/00000001X" in listing
    monkeypatch.setattr(
        "borough.housing.dd_finance_views.today_in_london", lambda: dt.date(2026, 12, 1)
    )
    made = client.post("/staff/finance/direct-debit/runs")
    run = BacsRun.objects.get()
    assert made["Location"].endswith(f"?made={run.pk}")
    runs = _page(client.get(made["Location"]))
    assert "1 instruction, 0 collections" in runs
    download = client.get(f"/staff/finance/direct-debit/runs/{run.pk}/file")
    assert download["Content-Disposition"].startswith("attachment")
    assert validate_standard18(download.content) == []
    again = _page(client.post("/staff/finance/direct-debit/runs", follow=True))
    assert BacsRun.objects.count() == 1 and "1 instruction," in again
    _no_full_details(tools, listing, runs)


def test_the_finance_officer_uploads_a_report_and_sees_what_it_did(
    client, tenant, officer, sign_in_staff
):
    account, _user = tenant
    mandate = _set_up(account)
    sign_in_staff(client, officer)
    from django.core.files.uploadedfile import SimpleUploadedFile

    report = (
        '<BACSDocument><Data><MessagingAdvices><MessagingHeader user-number="123456"/>'
        f'<MessagingAdvice record-type="A" reference="{mandate.reference}" payer-name="Z" '
        'payer-sort-code="202959" payer-account-number="63748472" reason-code="1" '
        'effective-date="2026-12-10"/><MessagingAdvice record-type="A" reference="NOSUCHREF9" '
        'payer-name="Q" payer-sort-code="202959" payer-account-number="63748472" '
        'reason-code="1"/></MessagingAdvices></Data></BACSDocument>'
    ).encode()
    page = _page(
        client.post(
            "/staff/finance/direct-debit/reports",
            {"file": SimpleUploadedFile("addacs.xml", report)},
        )
    )
    assert "ADDACS report addacs.xml: 1 change made, 1 not recognised (nothing done)." in page
    assert "NOSUCHREF9" in page
    mandate.refresh_from_db()
    assert mandate.status == Mandate.Status.CANCELLED
    broken = _page(
        client.post(
            "/staff/finance/direct-debit/reports",
            {"file": SimpleUploadedFile("broken.xml", b"<BACSDocument><Data>")},
        )
    )
    assert "not well-formed XML" in broken and "There is a problem" in broken


def test_a_run_with_a_service_user_name_too_long_for_the_file_says_so_and_saves_nothing(
    client, tenant, officer, monkeypatch, settings, sign_in_staff
):
    account, _user = tenant
    _set_up(account)
    settings.BOROUGH_BACS_SERVICE_USER_NAME = "London Borough of Northmere"
    sign_in_staff(client, officer)
    monkeypatch.setattr(
        "borough.housing.dd_finance_views.today_in_london", lambda: dt.date(2026, 12, 1)
    )
    page = _page(client.post("/staff/finance/direct-debit/runs"))
    assert "&#39;LONDON BOROUGH OF NORTHMERE&#39; is 27 characters" in page
    assert "BOROUGH_BACS_SERVICE_USER_NAME" in page and "Nothing was sent or saved" in page
    assert not BacsRun.objects.exists()


def test_a_housing_officer_cannot_open_the_finance_pages(client, make_staff, sign_in_staff):
    sign_in_staff(client, make_staff("Housing officer"))
    assert client.get("/staff/finance/direct-debit/mandates").status_code == 403
