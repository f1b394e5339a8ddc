"""Direct Debit services: bank details encrypted with a rotatable key, mandates, Bacs runs (0N,
then collections posted once, the file valid), and the reports the banks send back (ARUDD
reversals once, ADDACS cancellations and new details, AUDDIS rejections, malformed files
changing nothing); two runs at once on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from cryptography.fernet import Fernet
from django.core import mail
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.db import connection

from borough.core.models import User
from borough.housing import (
    bank_details,
    direct_debit,
    direct_debit_reports,
    direct_debit_runs,
    services,
)
from borough.housing.bacs import calendar as bacs_calendar
from borough.housing.bacs.standard18_validator import validate_standard18
from borough.housing.models import (
    BacsRun,
    Collection,
    LedgerEntry,
    Mandate,
    MandateEvent,
    Tenant,
)
from borough.housing.tests.test_ledger import make_account

Status = Mandate.Status
SET_UP_ON = dt.date(2026, 12, 1)  # a Tuesday: the first collection can be 15 December
# (input, entry): the 0N goes in the first run; the first collection is taken on 15 December.
FIRST_RUN = dt.date(2026, 12, 1)
COLLECTION_RUN = dt.date(2026, 12, 11)


def _mandate(account, *, user=None, frequency="monthly", day=15, today=SET_UP_ON, **bank):
    return direct_debit.set_up_mandate(
        account,
        account_holder="Zoe O'Brien",
        sort_code=bank.get("sort_code", "20-29-59"),
        account_number=bank.get("account_number", "63748472"),
        frequency=frequency,
        collection_day=day,
        today=today,
        created_by=user,
        email_to=user.email if user else "",
    )


@pytest.fixture
def tenant(db):
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
    return account, user


# -- bank details ------------------------------------------------------------------------------


def test_bank_details_round_trip_and_are_not_stored_in_clear(settings):
    settings.BOROUGH_BANK_DETAILS_KEYS = [Fernet.generate_key().decode()]
    token = bank_details.encrypt("63748472")
    assert "63748472" not in token
    assert bank_details.decrypt(token) == "63748472"


@pytest.mark.django_db
def test_rotation_keeps_old_tokens_readable_and_re_encrypts_with_the_new_key(settings, tenant):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.BOROUGH_BANK_DETAILS_KEYS = [old]
    mandate = _mandate(tenant[0])
    before = Mandate.objects.get(pk=mandate.pk).account_number_encrypted
    settings.BOROUGH_BANK_DETAILS_KEYS = [new, old]
    assert bank_details.details_of(Mandate.objects.get(pk=mandate.pk)) == ("202959", "63748472")
    assert bank_details.rotate_all() == 1
    after = Mandate.objects.get(pk=mandate.pk)
    assert after.account_number_encrypted != before
    assert Fernet(new).decrypt(after.account_number_encrypted.encode()) == b"63748472"
    settings.BOROUGH_BANK_DETAILS_KEYS = [new]  # the old key can go now
    assert bank_details.details_of(after) == ("202959", "63748472")


@pytest.mark.django_db
def test_the_rotate_command_says_how_many_mandates(settings, tenant, capsys):
    settings.BOROUGH_BANK_DETAILS_KEYS = [Fernet.generate_key().decode()]
    _mandate(tenant[0])
    call_command("housing", "rotate-bank-key")
    assert "Re-encrypted the bank details of 1 mandates" in capsys.readouterr().out


def test_a_token_from_a_dropped_key_is_an_error_that_shows_no_details(settings):
    settings.BOROUGH_BANK_DETAILS_KEYS = [Fernet.generate_key().decode()]
    token = bank_details.encrypt("63748472")
    settings.BOROUGH_BANK_DETAILS_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(bank_details.BankDetailsError) as error:
        bank_details.decrypt(token)
    assert "6374" not in str(error.value)


def test_without_keys_a_development_key_is_kept_in_the_data_folder(settings, tmp_path):
    settings.BOROUGH_BANK_DETAILS_KEYS = []
    settings.DATA_DIR = tmp_path
    token = bank_details.encrypt("12345678")
    key_file = tmp_path / bank_details.KEY_FILE_NAME
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert bank_details.decrypt(token) == "12345678"  # the same key read back
    settings.PRODUCTION = True
    with pytest.raises(ImproperlyConfigured):
        bank_details.encrypt("12345678")
    settings.BOROUGH_BANK_DETAILS_KEYS = ["not a key"]
    with pytest.raises(ImproperlyConfigured, match="key 1 is not a Fernet key"):
        bank_details.encrypt("12345678")


def test_the_payer_key_is_stable_keyed_and_ignores_how_the_numbers_were_written(settings):
    key = bank_details.payer_bank_key("20-29-59", "63748472")
    assert len(key) == 64 and "63748472" not in key
    assert bank_details.payer_bank_key("202959", "63748472") == key
    assert bank_details.payer_bank_key("20 29 59", "063748472"[1:]) == key
    assert bank_details.payer_bank_key("20-29-59", "63748473") != key
    settings.BOROUGH_PAYER_KEY = "another key"
    assert bank_details.payer_bank_key("20-29-59", "63748472") != key
    # Not a UK sort code and account: still a stable key, never an error on a statement line.
    odd = bank_details.payer_bank_key("2029", "GB12 3456")
    assert odd == bank_details.payer_bank_key("20-29", "gb123456") and odd != key


# -- mandates ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_mandate_keeps_only_the_last_digits_in_clear_and_shows_them_masked(tenant):
    mandate = _mandate(tenant[0])
    assert mandate.masked == "**-**-59 ****8472"
    assert "63748472" not in mandate.account_number_encrypted
    assert mandate.reference == "00000001X"
    assert mandate.status == Status.NEW
    assert mandate.first_collection_on == dt.date(2026, 12, 15)
    assert mandate.events.get().action == "set_up"


@pytest.mark.django_db
def test_the_first_collection_is_the_chosen_day_after_ten_working_days():
    # 10 working days after Tue 1 Dec 2026 is Tue 15 Dec.
    assert direct_debit.first_collection_date("monthly", 15, SET_UP_ON) == dt.date(2026, 12, 15)
    assert direct_debit.first_collection_date("monthly", 14, SET_UP_ON) == dt.date(2027, 1, 14)
    assert direct_debit.first_collection_date("weekly", 4, SET_UP_ON) == dt.date(2026, 12, 18)
    # Over Christmas: 10 working days after 21 Dec 2026 is 7 Jan 2027 (a Thursday).
    assert direct_debit.first_collection_date("fortnightly", 3, dt.date(2026, 12, 21)) == (
        dt.date(2027, 1, 7)
    )
    with pytest.raises(direct_debit.DirectDebitError):
        direct_debit.first_collection_date("monthly", 29, SET_UP_ON)


@pytest.mark.django_db
def test_one_live_mandate_per_account_and_a_new_reference_after_a_cancellation(tenant):
    account, user = tenant
    first = _mandate(account)
    with pytest.raises(direct_debit.MandateExists, match="already a Direct Debit"):
        _mandate(account)
    direct_debit.cancel_mandate(first, by=user, reason="Moving bank")
    second = _mandate(account, sort_code="08-99-99", account_number="66374958")
    assert (first.reference, second.reference) == ("00000001X", "00000001X/2")


@pytest.mark.django_db
def test_bank_details_that_fail_the_modulus_check_are_refused(tenant):
    with pytest.raises(direct_debit.DirectDebitError, match="do not match"):
        _mandate(tenant[0], account_number="63748473")
    assert not Mandate.objects.exists()


@pytest.mark.django_db
def test_the_confirmation_has_the_reference_sun_amounts_dates_and_the_guarantee(
    tenant, django_capture_on_commit_callbacks
):
    account, user = tenant
    with django_capture_on_commit_callbacks(execute=True):
        mandate = _mandate(account, user=user)
    (email,) = mail.outbox
    assert email.to == ["tenant@example.org"]
    body = email.body
    monthly = direct_debit.amount_pence(account, "monthly", dt.date(2026, 12, 15))
    assert mandate.reference in body and "Service User Number (SUN): 123456" in body
    assert f"£{monthly / 100:,.2f} on 15 December 2026" in body
    assert "The Direct Debit Guarantee" in body
    assert "full and immediate refund" in body and "cancel a Direct Debit at any time" in body
    assert "10 working days" in body
    assert "63748472" not in body and "**-**-59 ****8472" in body
    assert mandate.events.filter(action="confirmation_sent").exists()


# -- runs --------------------------------------------------------------------------------------


def _lines(run: BacsRun, code: str) -> list[str]:
    return [line for line in run.file_text.splitlines() if len(line) == 100 and line[15:17] == code]


@pytest.mark.django_db
def test_a_run_lodges_new_mandates_then_later_runs_collect_once(
    tenant, django_capture_on_commit_callbacks
):
    account, user = tenant
    mandate = _mandate(account, user=user)
    first = direct_debit_runs.bacs_run(FIRST_RUN)
    assert (first.input_date, first.entry_date) == (FIRST_RUN, dt.date(2026, 12, 3))
    assert (first.instructions, first.collections) == (1, 0)
    assert validate_standard18(first.file_text) == []
    (instruction,) = _lines(first, "0N")
    assert instruction[:14] == "20295963748472" and "00000001X" in instruction
    mandate.refresh_from_db()
    assert mandate.status == Status.LODGED

    with django_capture_on_commit_callbacks(execute=True):
        second = direct_debit_runs.bacs_run(COLLECTION_RUN)
    mandate.refresh_from_db()
    assert mandate.status == Status.ACTIVE
    assert second.entry_date == dt.date(2026, 12, 15)
    assert validate_standard18(second.file_text) == []
    monthly = direct_debit.amount_pence(account, "monthly", dt.date(2026, 12, 15))
    assert (second.collections, second.total_pence) == (1, monthly)
    (record,) = _lines(second, "01")
    assert record[35:46] == f"{monthly:011d}"
    collection = Collection.objects.get()
    entry = collection.entry
    assert (entry.kind, entry.type_code, entry.amount_pence, entry.posted_on) == (
        "direct_debit",
        "RDD",
        -monthly,
        dt.date(2026, 12, 15),
    )
    assert entry.source_key == f"bacs:{collection.pk}"
    assert any("first Direct Debit payment" in m.body for m in mail.outbox)

    # The same day again: the same run, nothing more collected or posted.
    assert direct_debit_runs.bacs_run(COLLECTION_RUN).pk == second.pk
    assert Collection.objects.count() == 1
    assert LedgerEntry.objects.filter(kind="direct_debit").count() == 1

    # Next month: a regular collection (17), not a first one.
    third = direct_debit_runs.bacs_run(dt.date(2027, 1, 13))
    assert third.entry_date == dt.date(2027, 1, 15)
    assert len(_lines(third, "17")) == 1 and not _lines(third, "01")
    assert services.balance_pence(account) == -2 * monthly


@pytest.mark.django_db
def test_a_collection_day_on_a_weekend_is_taken_the_next_working_day_once(tenant):
    account, _user = tenant
    _mandate(account, day=16)  # 16 January 2027 is a Saturday
    direct_debit_runs.bacs_run(FIRST_RUN)
    assert direct_debit_runs.bacs_run(dt.date(2026, 12, 14)).collections == 1  # entry Wed 16 Dec
    with pytest.raises(direct_debit.NothingToSubmit):
        direct_debit_runs.bacs_run(dt.date(2027, 1, 13))  # entry Fri 15 Jan: not due yet
    saturday = direct_debit_runs.bacs_run(dt.date(2027, 1, 14))  # entry Mon 18 Jan
    assert saturday.collections == 1
    assert Collection.objects.get(run=saturday).due_on == dt.date(2027, 1, 16)
    with pytest.raises(direct_debit.NothingToSubmit):
        direct_debit_runs.bacs_run(dt.date(2027, 1, 15))  # entry Tue 19 Jan: already collected


@pytest.mark.django_db
def test_a_collection_day_missed_by_more_than_a_few_working_days_is_not_collected(tenant):
    account, _user = tenant
    _mandate(account)
    direct_debit_runs.bacs_run(FIRST_RUN)
    with pytest.raises(direct_debit.NothingToSubmit):  # entry 23 Dec: 15 Dec is 6 days late
        direct_debit_runs.bacs_run(dt.date(2026, 12, 21))
    late = direct_debit_runs.bacs_run(dt.date(2026, 12, 14))  # entry 16 Dec: one day late
    assert Collection.objects.get(run=late).due_on == dt.date(2026, 12, 15)


@pytest.mark.django_db
def test_a_cancelled_lodged_mandate_sends_0c_once_and_is_not_collected(tenant):
    account, user = tenant
    mandate = _mandate(account)
    direct_debit_runs.bacs_run(FIRST_RUN)
    direct_debit.cancel_mandate(mandate, by=user, reason="Cancelled by the tenant online")
    run = direct_debit_runs.bacs_run(COLLECTION_RUN)
    assert (run.instructions, run.collections) == (1, 0)
    assert len(_lines(run, "0C")) == 1
    with pytest.raises(direct_debit.NothingToSubmit):
        direct_debit_runs.bacs_run(dt.date(2027, 1, 13))
    assert not LedgerEntry.objects.filter(kind="direct_debit").exists()


@pytest.mark.django_db
def test_a_file_that_fails_validation_saves_and_posts_nothing(tenant, monkeypatch):
    account, _user = tenant
    _mandate(account)
    direct_debit_runs.bacs_run(FIRST_RUN)
    monkeypatch.setattr(
        direct_debit_runs.standard18_validator,
        "validate_standard18",
        lambda text, calendar=None: ["line 5: contra_total: the contra is wrong"],
    )
    with pytest.raises(direct_debit.BacsFileError, match="contra"):
        direct_debit_runs.bacs_run(COLLECTION_RUN)
    assert BacsRun.objects.count() == 1
    assert not Collection.objects.exists()
    assert not LedgerEntry.objects.filter(kind="direct_debit").exists()
    assert Mandate.objects.get().status == Status.LODGED


@pytest.mark.django_db
def test_a_run_writes_the_service_user_name_whole_and_the_payer_transliterated(tenant, settings):
    account, _user = tenant
    mandate = _mandate(account)
    Mandate.objects.filter(pk=mandate.pk).update(account_holder="Bjørn Ødegård-Łukasz")
    settings.BOROUGH_BACS_SERVICE_USER_NAME = "LB Northmere"
    run = direct_debit_runs.bacs_run(FIRST_RUN)
    (instruction,) = _lines(run, "0N")
    assert instruction[46:64] == "LB NORTHMERE".ljust(18)
    assert instruction[82:100] == "BJORN ODEGARD-LUKA"
    lines = run.file_text.splitlines()
    assert lines[3][37:40] == run.serial[-3:]  # UHL1 file number
    assert lines[-1][52:59] == "0000001"  # UTL1 instruction count
    assert validate_standard18(run.file_text) == []


@pytest.mark.django_db
def test_a_service_user_name_too_long_for_the_file_is_refused_before_anything_is_saved(
    tenant, settings
):
    account, _user = tenant
    _mandate(account)
    settings.BOROUGH_BACS_SERVICE_USER_NAME = "London Borough of Northmere"
    with pytest.raises(direct_debit.DirectDebitError) as refused:
        direct_debit_runs.bacs_run(FIRST_RUN)
    message = str(refused.value)
    assert "'LONDON BOROUGH OF NORTHMERE' is 27 characters" in message
    assert "BOROUGH_BACS_SERVICE_USER_NAME" in message and "Nothing was sent or saved" in message
    assert not BacsRun.objects.exists()
    assert Mandate.objects.get().status == Status.NEW
    with pytest.raises(CommandError, match=r"27 characters.*Nothing was sent or saved"):
        call_command("housing", "bacs-run", "--input-date", "2026-12-01")
    assert not BacsRun.objects.exists()


def test_the_shipped_profile_gives_a_service_user_name_that_fits_the_file():
    from django.conf import settings

    from borough.housing.bacs.standard18 import service_user_name_problem

    assert settings.COUNCIL.bank.service_user_name == "LB NORTHMERE"
    assert service_user_name_problem(settings.BOROUGH_BACS_SERVICE_USER_NAME) is None


@pytest.mark.django_db
def test_no_run_on_a_day_bacs_is_closed():
    with pytest.raises(direct_debit.DirectDebitError, match="not a Bacs working day"):
        direct_debit_runs.bacs_run(dt.date(2026, 12, 25))


@pytest.mark.django_db
def test_an_amount_change_sends_a_notice(tenant, django_capture_on_commit_callbacks):
    from borough.housing.models import ChargeRate

    account, user = tenant
    _mandate(account, user=user)
    direct_debit_runs.bacs_run(FIRST_RUN)
    direct_debit_runs.bacs_run(COLLECTION_RUN)
    ChargeRate.objects.create(
        account=account, charge_type="DBR", weekly_pence=12000, effective_from=dt.date(2027, 1, 4)
    )
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        direct_debit_runs.bacs_run(dt.date(2027, 1, 13))
    (notice,) = mail.outbox
    assert "changes from" in notice.body and "15 January 2027" in notice.body


# -- reports -----------------------------------------------------------------------------------


def _arudd(reference: str, pence: int, processed: dt.date, *, reason="0128", text="REFER TO PAYER"):
    pounds = f"{pence / 100:.2f}"
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<BACSDocument><Data><ARUDD>
  <Header reportType="REFT1019" adviceNumber="001" currentProcessingDate="2026-12-17"/>
  <ServiceLicenseInformation userName="NORTHMERE COUNCIL" userNumber="123456"/>
  <Advice><OriginatingAccountRecords><OriginatingAccountRecord>
    <ReturnedDebitItem ref="{reference}" transCode="01" returnCode="{reason}"
        returnDescription="{text}" originalProcessingDate="{processed}" valueOf="{pounds}"
        currency="GBP">
      <PayerAccount number="63748472" ref="{reference}" name="ZOE OBRIEN" sortCode="20-29-59"/>
    </ReturnedDebitItem>
    <Totals numberOf="1" valueOf="{pounds}" currency="GBP"/>
  </OriginatingAccountRecord></OriginatingAccountRecords></Advice>
</ARUDD></Data></BACSDocument>""".encode()


def _addacs(*advices: str) -> bytes:
    return (
        '<BACSDocument><Data><MessagingAdvices><MessagingHeader report-type="REFT1019" '
        'user-number="123456" currentProcessingDate="2026-12-20"/>'
        + "".join(advices)
        + "</MessagingAdvices></Data></BACSDocument>"
    ).encode()


def _advice(reference: str, reason: str, *, new_sort_code="", new_account="") -> str:
    return (
        f'<MessagingAdvice user-number="123456" record-type="A" effective-date="2026-12-18" '
        f'reference="{reference}" payer-name="ZOE OBRIEN" payer-account-number="63748472" '
        f'payer-sort-code="202959" reason-code="{reason}" payer-new-sort-code="{new_sort_code}" '
        f'payer-new-account-number="{new_account}"/>'
    )


@pytest.fixture
def collected(tenant):
    account, user = tenant
    mandate = _mandate(account, user=user)
    direct_debit_runs.bacs_run(FIRST_RUN)
    run = direct_debit_runs.bacs_run(COLLECTION_RUN)
    return account, mandate, run, Collection.objects.get()


@pytest.mark.django_db
def test_an_unpaid_collection_is_reversed_once_however_often_the_report_comes(
    collected, django_capture_on_commit_callbacks
):
    account, mandate, run, collection = collected
    report = _arudd(mandate.reference, collection.amount_pence, run.processing_date)
    with django_capture_on_commit_callbacks(execute=True):
        outcome = direct_debit_reports.import_bacs_report(report, source="arudd.xml")
    assert outcome.kind == "ARUDD" and len(outcome.applied) == 1
    assert "presented again (code 18)" in outcome.applied[0]
    collection.refresh_from_db()
    assert collection.status == Collection.Status.UNPAID
    reversal = LedgerEntry.objects.get(reverses=collection.entry)
    assert (reversal.type_code, reversal.amount_pence) == ("RDN", collection.amount_pence)
    assert "Refer to payer" in reversal.description
    assert services.balance_pence(account) == 0
    assert Mandate.objects.get().status == Status.ACTIVE  # reason 0: may be re-presented
    assert any("was not made" in m.subject for m in mail.outbox)

    again = direct_debit_reports.import_bacs_report(report, source="arudd.xml")
    assert (len(again.applied), len(again.already)) == (0, 1)
    assert LedgerEntry.objects.filter(kind="reversal").count() == 1
    assert MandateEvent.objects.filter(action="unpaid").count() == 1


@pytest.mark.django_db
def test_an_unpaid_because_the_account_closed_cancels_the_mandate(collected):
    _account, mandate, run, collection = collected
    report = _arudd(
        mandate.reference, collection.amount_pence, run.processing_date, reason="B", text="X"
    )
    direct_debit_reports.import_bacs_report(report)
    mandate.refresh_from_db()
    assert mandate.status == Status.CANCELLED and "Account closed" in mandate.end_reason
    with pytest.raises(direct_debit.NothingToSubmit):  # no 0C: the bank ended it
        direct_debit_runs.bacs_run(dt.date(2027, 1, 13))


@pytest.mark.django_db
def test_an_unpaid_item_that_matches_no_collection_is_reported_not_guessed(collected):
    _account, mandate, run, collection = collected
    wrong_amount = _arudd(mandate.reference, collection.amount_pence + 1, run.processing_date)
    outcome = direct_debit_reports.import_bacs_report(wrong_amount)
    assert len(outcome.unknown) == 1 and not outcome.applied
    assert not LedgerEntry.objects.filter(kind="reversal").exists()


@pytest.mark.django_db
def test_addacs_cancels_and_changes_bank_details_once(collected):
    _account, mandate, _run, _collection = collected
    report = _addacs(
        _advice(mandate.reference, "C", new_sort_code="089999", new_account="66374958")
    )
    outcome = direct_debit_reports.import_bacs_report(report)
    assert outcome.kind == "ADDACS" and "bank details updated" in outcome.applied[0]
    mandate.refresh_from_db()
    assert mandate.status == Status.ACTIVE
    assert bank_details.details_of(mandate) == ("089999", "66374958")
    assert mandate.masked == "**-**-99 ****4958"
    assert len(direct_debit_reports.import_bacs_report(report).already) == 1

    cancelled = direct_debit_reports.import_bacs_report(_addacs(_advice(mandate.reference, "1")))
    assert "cancelled" in cancelled.applied[0]
    mandate.refresh_from_db()
    assert mandate.status == Status.CANCELLED
    unknown = direct_debit_reports.import_bacs_report(_addacs(_advice("NOSUCHREF1", "1")))
    assert unknown.unknown and not unknown.applied


@pytest.mark.django_db
def test_addacs_new_bank_re_lodges_with_the_new_details(collected):
    _account, mandate, _run, _collection = collected
    direct_debit_reports.import_bacs_report(
        _addacs(_advice(mandate.reference, "3", new_sort_code="089999", new_account="66374958"))
    )
    mandate.refresh_from_db()
    assert mandate.status == Status.NEW
    run = direct_debit_runs.bacs_run(dt.date(2027, 1, 4))
    (instruction,) = _lines(run, "0N")
    assert instruction[:14] == "08999966374958"


@pytest.mark.django_db
def test_an_auddis_rejection_fails_the_instruction(tenant):
    account, _user = tenant
    mandate = _mandate(account)
    direct_debit_runs.bacs_run(FIRST_RUN)
    report = (
        '<BACSDocument><Data><MessagingAdvices><MessagingHeader user-number="123456"/>'
        '<MessagingAdvice record-type="V" accepted-ddi="0" rejected-ddi="1"/>'
        f'<MessagingAdvice record-type="N" reference="{mandate.reference}" payer-name="Z" '
        'payer-sort-code="202959" payer-account-number="63748472" reason-code="5" '
        'transaction-code="0N" effective-date="2026-12-03"/>'
        "</MessagingAdvices></Data></BACSDocument>"
    ).encode()
    outcome = direct_debit_reports.import_bacs_report(report)
    assert outcome.kind == "AUDDIS"
    mandate.refresh_from_db()
    assert mandate.status == Status.FAILED and "No account" in mandate.end_reason


@pytest.mark.django_db
def test_a_malformed_report_changes_nothing(collected):
    _account, mandate, run, collection = collected
    good = _arudd(mandate.reference, collection.amount_pence, run.processing_date)
    broken = good.replace(b'<Totals numberOf="1"', b'<Totals numberOf="2"')
    with pytest.raises(direct_debit.ReportRefused, match="Nothing was changed"):
        direct_debit_reports.import_bacs_report(broken)
    with pytest.raises(direct_debit.ReportRefused, match="not well-formed"):
        direct_debit_reports.import_bacs_report(b"<BACSDocument><Data>")
    other_council = good.replace(b'userNumber="123456"', b'userNumber="654321"')
    with pytest.raises(direct_debit.ReportRefused, match="654321"):
        direct_debit_reports.import_bacs_report(other_council)
    collection.refresh_from_db()
    assert collection.status == Collection.Status.SUBMITTED
    assert not LedgerEntry.objects.filter(kind="reversal").exists()
    assert not MandateEvent.objects.filter(action="unpaid").exists()


@pytest.mark.django_db
def test_the_commands_make_a_run_and_import_a_report(tenant, tmp_path, capsys):
    account, _user = tenant
    mandate = _mandate(account)
    out = tmp_path / "bacs.txt"
    call_command("housing", "bacs-run", "--input-date", "2026-12-01", "--output", str(out))
    assert "1 instructions, 0 collections" in capsys.readouterr().out
    assert validate_standard18(out.read_text()) == []
    report = tmp_path / "addacs.xml"
    report.write_bytes(_addacs(_advice(mandate.reference, "1")))
    call_command("housing", "import-bacs-report", str(report))
    assert "ADDACS report addacs.xml: 1 change made." in capsys.readouterr().out


# -- two runs at once --------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_runs_for_one_day_at_once_collect_each_mandate_once():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL's concurrent writers")
    for n in range(1, 5):
        account = make_account(n)
        _mandate(account, sort_code="08-99-99", account_number="66374958")
    direct_debit_runs.bacs_run(FIRST_RUN)
    barrier = threading.Barrier(4)
    runs, errors = [], []

    def run():
        barrier.wait()
        try:
            runs.append(direct_debit_runs.bacs_run(COLLECTION_RUN).pk)
        except Exception as error:  # collected for the assertion below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(set(runs)) == 1
    assert Collection.objects.count() == 4
    assert LedgerEntry.objects.filter(kind="direct_debit").count() == 4
    assert BacsRun.objects.count() == 2


def test_a_changed_amount_is_notified_ten_working_days_ahead_once_and_not_again_by_the_run(
    tenant, django_capture_on_commit_callbacks
):
    from borough.housing.models import ChargeRate

    account, user = tenant
    _mandate(account, user=user)
    direct_debit_runs.bacs_run(FIRST_RUN)
    direct_debit_runs.bacs_run(COLLECTION_RUN)  # 15 December collected at the old amount
    ChargeRate.objects.create(
        account=account, charge_type="DBR", weekly_pence=12000, effective_from=dt.date(2027, 1, 4)
    )
    mail.outbox.clear()
    # 15 January is within 15 working days of 22 December (bank holidays on 25, 28 Dec, 1 Jan)
    with django_capture_on_commit_callbacks(execute=True):
        assert direct_debit.advance_notices(dt.date(2026, 12, 22)) == [
            Mandate.objects.get().reference
        ]
        assert direct_debit.advance_notices(dt.date(2026, 12, 23)) == []
    (notice,) = mail.outbox
    assert "changes from" in notice.body and "15 January 2027" in notice.body
    assert bacs_calendar.default_calendar().add_working_days(dt.date(2026, 12, 22), 10) <= dt.date(
        2027, 1, 15
    )
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        direct_debit_runs.bacs_run(dt.date(2027, 1, 13))
    assert mail.outbox == []  # told ahead already
    assert Collection.objects.filter(due_on=dt.date(2027, 1, 15)).get().amount_pence != (
        Collection.objects.filter(due_on=dt.date(2026, 12, 15)).get().amount_pence
    )


@pytest.mark.django_db
def test_an_unpaid_refer_to_payer_is_presented_again_once_after_notice(
    collected, django_capture_on_commit_callbacks
):
    account, mandate, run, collection = collected
    report = _arudd(mandate.reference, collection.amount_pence, run.processing_date)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        direct_debit_reports.import_bacs_report(report, source="arudd.xml")
    # reported on 17 December: 5 working days' notice, so from 24 December
    assert (
        "24 December 2026" in mail.outbox[0].body
        and "try to collect it again" in mail.outbox[0].body
    )
    with pytest.raises(direct_debit.NothingToSubmit):
        direct_debit_runs.bacs_run(dt.date(2026, 12, 18))  # entry 22 December: too early
    again = direct_debit_runs.bacs_run(dt.date(2026, 12, 22))  # entry 24 December
    (represented,) = [line for line in again.file_text.splitlines() if line[15:17] == "18"]
    assert str(collection.amount_pence).zfill(11) in represented
    retry = Collection.objects.get(transaction_code="18")
    assert (retry.due_on, retry.amount_pence) == (dt.date(2026, 12, 24), collection.amount_pence)
    assert services.balance_pence(account) == -collection.amount_pence
    # unpaid again: no second re-presentation
    second = _arudd(mandate.reference, retry.amount_pence, again.processing_date)
    outcome = direct_debit_reports.import_bacs_report(second, source="arudd2.xml")
    assert "presented again" not in outcome.applied[0]
    assert MandateEvent.objects.filter(action="represent_due").count() == 1
    # the next regular collection is still taken on its day
    later = direct_debit_runs.bacs_run(dt.date(2027, 1, 13))
    assert Collection.objects.filter(run=later, transaction_code="17").count() == 1


def test_borough_check_says_when_the_service_user_name_does_not_fit_a_bacs_file(settings):
    from borough.housing.direct_debit import check_service_user_name

    assert check_service_user_name() == []
    settings.BOROUGH_BACS_SERVICE_USER_NAME = "London Borough of Northmere"
    errors = check_service_user_name()
    assert [e.id for e in errors] == ["borough.E141"]
    assert "BOROUGH_BACS_SERVICE_USER_NAME" in errors[0].msg
