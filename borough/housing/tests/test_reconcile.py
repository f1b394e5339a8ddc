"""Importing the council's bank statements into rent accounts: automatic matching with no wrong
postings on synthetic ground truth, never posting twice, refusing bad files whole; the
suspense queue (allocate, split, return) also under concurrent officers; standing orders that
stop or fall short."""

from __future__ import annotations

import datetime as dt
import io
import threading

import pytest
from django.core.management import call_command
from django.db import connection

from borough.housing import reconcile, services, statement_import
from borough.housing.finance_views import ReportForm
from borough.housing.matching import synthetic
from borough.housing.models import (
    BankLine,
    LedgerEntry,
    RentAccount,
    StatementImport,
)
from borough.payments.money import format_pence

Kind = LedgerEntry.Kind
COUNCIL = "089999 66374958"  # Northmere's rent account (the profile's bank details)


def _file(made, lines, statement_id="S1", fmt="camt053") -> bytes:
    statement = synthetic.as_statement(list(lines), COUNCIL, statement_id, 0)
    return (
        synthetic.write_camt053(statement) if fmt == "camt053" else synthetic.write_mt940(statement)
    )


def _posted_accounts() -> dict[str, int]:
    """line hash -> the account its statement entry was posted to."""
    return {
        key.split(":")[1]: account
        for key, account in LedgerEntry.objects.filter(
            source_key__startswith="statement:"
        ).values_list("source_key", "account_id")
    }


def test_a_statement_is_matched_with_no_wrong_postings_and_importing_again_posts_nothing(borough):
    made, ids = borough
    data = _file(made, made.lines)
    result = statement_import.import_statement(data, file_name="nov.xml")
    assert result.new_lines == result.credits == len([x for x in made.lines if x.amount_pence > 0])
    assert result.posted + result.to_suspense == result.new_lines
    assert result.posted > 0.6 * result.new_lines
    # what each credit truly belongs to, by what the bank line shows
    truth: dict[tuple, set] = {}
    for line, true in zip(made.lines, made.truth, strict=True):
        key = (line.booking_date, line.amount_pence, line.reference or "", line.payer_name or "")
        truth.setdefault(key, set()).add(ids.get(true))
    posted = _posted_accounts()
    wrong = []
    for bank_line in BankLine.objects.filter(outcome="posted"):
        key = (
            bank_line.booking_date,
            bank_line.amount_pence,
            bank_line.reference,
            bank_line.payer_name,
        )
        if posted[bank_line.line_hash] not in truth[key]:
            wrong.append(bank_line.pk)
    assert wrong == []
    total = sum(LedgerEntry.objects.values_list("amount_pence", flat=True))
    assert total == -sum(
        BankLine.objects.filter(outcome="posted").values_list("amount_pence", flat=True)
    )

    again = statement_import.import_statement(data, file_name="nov-again.xml")
    assert (again.new_lines, again.posted, again.already_seen) == (0, 0, result.credits)
    assert "nothing was posted again" in again.summary()
    assert LedgerEntry.objects.count() == result.posted


def test_overlapping_statements_post_each_payment_once(borough):
    made, _ = borough
    days = sorted({line.booking_date for line in made.lines})
    overlap_from, overlap_to = days[len(days) // 3], days[2 * len(days) // 3]
    # statements hold whole days (line hashes number same-day repeats within a statement)
    a = [line for line in made.lines if line.booking_date <= overlap_to]
    b = [line for line in made.lines if line.booking_date >= overlap_from]
    first = statement_import.import_statement(_file(made, a, "A"), file_name="a.xml")
    second = statement_import.import_statement(_file(made, b, "B"), file_name="b.xml")
    assert second.already_seen > 0
    assert BankLine.objects.count() == len([x for x in made.lines if x.amount_pence > 0])
    keys = list(LedgerEntry.objects.values_list("source_key", flat=True))
    assert len(keys) == len(set(keys)) == first.posted + second.posted


def test_mt940_statements_import_the_same_way(borough):
    made, _ = borough
    result = statement_import.import_statement(
        _file(made, made.lines[:60], fmt="mt940"), file_name="s.sta"
    )
    assert result.new_lines > 0 and result.posted > 0


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"<not a statement", "not"),
        (b"Date,Description,Amount,Balance\n01/13/2026,RENT,10.00,10.00\n", "date"),
    ],
)
def test_a_bad_file_imports_nothing_with_a_clear_message(borough, data, message):
    with pytest.raises(statement_import.ImportRefused) as refused:
        statement_import.import_statement(data, file_name="bad.csv")
    assert message in str(refused.value).lower() and "bad.csv" in str(refused.value)
    assert (
        StatementImport.objects.count()
        == BankLine.objects.count()
        == LedgerEntry.objects.count()
        == 0
    )


def test_another_bank_accounts_statement_is_refused(borough):
    made, _ = borough
    other = synthetic.write_camt053(
        synthetic.as_statement(list(made.lines[:5]), "601613 31926819", "X", 0)
    )
    with pytest.raises(statement_import.ImportRefused, match="not the council's rent account"):
        statement_import.import_statement(other, file_name="other.xml")
    assert BankLine.objects.count() == 0


def test_the_command_imports_and_reports(borough, tmp_path):
    made, _ = borough
    path = tmp_path / "nov.xml"
    path.write_bytes(_file(made, made.lines[:40]))
    out = io.StringIO()
    call_command("housing", "import-statement", str(path), stdout=out)
    assert "posted to rent accounts automatically" in out.getvalue()


# -- suspense -----------------------------------------------------------------------------------


@pytest.fixture
def in_suspense(borough):
    made, _ = borough
    statement_import.import_statement(_file(made, made.lines), file_name="nov.xml")
    line = reconcile.suspense_lines().first()
    assert line is not None
    return line


def test_an_officer_allocates_a_suspense_payment_once(in_suspense, make_staff):
    officer = make_staff("Finance officer")
    account = RentAccount.objects.first()
    before = services.balance_pence(account)
    reconcile.allocate(in_suspense.pk, [(account.pk, in_suspense.amount_pence)], user=officer)
    assert services.balance_pence(account) == before - in_suspense.amount_pence
    with pytest.raises(reconcile.AllocationError, match="already been dealt with"):
        reconcile.allocate(in_suspense.pk, [(account.pk, in_suspense.amount_pence)], user=officer)


def test_a_split_must_add_up_and_posts_to_each_account(in_suspense, make_staff):
    officer = make_staff("Finance officer")
    first, second = RentAccount.objects.all()[:2]
    with pytest.raises(reconcile.AllocationError, match="add up to the payment"):
        reconcile.allocate(in_suspense.pk, [(first.pk, 100), (second.pk, 100)], user=officer)
    part = in_suspense.amount_pence // 3
    entries = reconcile.allocate(
        in_suspense.pk,
        [(first.pk, part), (second.pk, in_suspense.amount_pence - part)],
        user=officer,
    )
    assert sorted(-e.amount_pence for e in entries) == sorted(
        [part, in_suspense.amount_pence - part]
    )


def test_a_payment_returned_to_the_payer_posts_nothing(in_suspense, make_staff):
    officer = make_staff("Finance officer")
    count = LedgerEntry.objects.count()
    with pytest.raises(reconcile.AllocationError, match="Say why"):
        reconcile.close_without_posting(in_suspense.pk, user=officer, outcome="refunded", note=" ")
    reconcile.close_without_posting(
        in_suspense.pk, user=officer, outcome="refunded", note="Not ours"
    )
    assert LedgerEntry.objects.count() == count
    assert BankLine.objects.get(pk=in_suspense.pk).outcome == "refunded"


def test_the_finance_pages_import_and_allocate(
    client, borough, make_staff, sign_in_staff, django_capture_on_commit_callbacks
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    made, _ = borough
    sign_in_staff(client, make_staff("Finance officer"))
    upload = SimpleUploadedFile("nov.xml", _file(made, made.lines), content_type="text/xml")
    with django_capture_on_commit_callbacks(execute=True):
        posted = client.post("/staff/finance/statements", {"file": upload, "format": ""})
    page = client.get(posted["Location"])  # the upload's page, its job done
    assert "posted to rent accounts automatically" in page.content.decode()
    line = reconcile.suspense_lines().first()
    queue = client.get("/staff/finance/suspense").content.decode()
    assert f"/staff/finance/suspense/{line.pk}" in queue
    account = RentAccount.objects.first()
    bad = client.post(
        f"/staff/finance/suspense/{line.pk}", {"action": "allocate", "account_1": "NOPE1"}
    )
    assert "No rent account has the payment reference NOPE1" in bad.content.decode()
    done = client.post(
        f"/staff/finance/suspense/{line.pk}",
        {"action": "allocate", "account_1": account.payment_reference.lower()},
    )
    assert done.status_code == 302
    assert BankLine.objects.get(pk=line.pk).outcome == "allocated"
    assert client.get("/staff/finance/suspense").status_code == 200


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_officers_allocating_one_payment_at_once_post_it_once(borough, make_staff):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL's row locks")
    made, _ = borough
    statement_import.import_statement(_file(made, made.lines), file_name="nov.xml")
    line = reconcile.suspense_lines().first()
    first, second = RentAccount.objects.all()[:2]
    officers = [make_staff("Finance officer", username=f"f{n}") for n in range(2)]
    barrier = threading.Barrier(2)
    outcomes = []

    def allocate(officer, account):
        barrier.wait()
        try:
            reconcile.allocate(line.pk, [(account.pk, line.amount_pence)], user=officer)
            outcomes.append("posted")
        except reconcile.AllocationError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [
        threading.Thread(target=allocate, args=(officers[0], first)),
        threading.Thread(target=allocate, args=(officers[1], second)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["posted", "refused"]
    assert LedgerEntry.objects.filter(source_key=f"statement:{line.line_hash}").count() == 1


# -- standing orders ------------------------------------------------------------------------------


def test_a_standing_order_that_stops_or_falls_short_is_flagged(db):
    from borough.housing.tests.test_ledger import make_account

    account = make_account(1, weekly=(("DBR", 10000),))
    for n, day in enumerate((dt.date(2026, 9, 1), dt.date(2026, 10, 1), dt.date(2026, 11, 1))):
        services.post_entry(
            account,
            kind=Kind.STANDING_ORDER,
            type_code="RSO",
            amount_pence=-40000,
            posted_on=day,
            description="SO",
            source_key=f"so{n}",
        )
    # £100 a week over 50 charged weeks in 12 payments is £416.67: £400 is short
    check = reconcile.check_standing_order(account, today=dt.date(2026, 11, 10))
    assert (check.status, check.frequency, check.expected_pence) == ("short", "monthly", 41667)
    assert "£16.67 short" in check.message
    late = reconcile.check_standing_order(account, today=dt.date(2026, 12, 15))
    assert late.status == "missing" and "since 1 November 2026" in late.message


def test_the_reports_show_cash_by_method_suspense_and_balances(
    client, borough, make_staff, sign_in_staff
):
    made, _ = borough
    result = statement_import.import_statement(_file(made, made.lines), file_name="nov.xml")
    sign_in_staff(client, make_staff("Finance officer"))
    days = sorted(line.booking_date for line in made.lines)
    period = ReportForm.data_for(days[0], days[-1])
    page = client.get("/staff/finance/reports", period).content.decode()
    posted = -sum(LedgerEntry.objects.values_list("amount_pence", flat=True))
    assert f"<strong>{format_pence(posted, pence_always=True)}</strong>" in page
    assert f"{result.to_suspense} payments waiting" in page
    backwards = ReportForm.data_for(dt.date(2026, 11, 30), dt.date(2026, 11, 1))
    bad = client.get("/staff/finance/reports", backwards).content.decode()
    assert '<a href="#id_end_day">The last day must be on or after the first day</a>' in bad
    assert 'value="30"' in bad  # what was typed is kept
    blank = client.get("/staff/finance/reports", {"start_day": "1", "start_year": "2026"})
    blank = blank.content.decode()
    assert "The first date must include a month" in blank
    assert "Enter the last day of the period" in blank
