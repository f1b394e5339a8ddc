"""Importing statements as an operator does: ``borough housing import-statement`` and the finance
upload page, with the files banks and people really hand over. Every bad file gets one message
naming the file and the problem, and nothing is imported; never a traceback or a 500."""

from __future__ import annotations

import io
import re
import threading
import zipfile

import pytest
from django.core.management import ManagementUtility, call_command
from django.core.management.base import CommandError
from django.db import connection

from borough.housing import statement_import
from borough.housing.models import BankLine, LedgerEntry, StatementImport, StatementUpload
from borough.housing.tests.test_reconcile import _file

DOCS_MAPPING = """
[bank]
date = "Posting Date"
date_format = "%Y-%m-%d"
debit = "Paid out"          # or: amount = "Amount" (signed, credits positive)
credit = "Paid in"
reference = "Reference"
payer_name = "Counterparty"
payer_sort_code = "Sort code"
payer_account = "Account"
balance = ""                # no balance column
account = "089999 66374958" # CSV exports do not say which account they are for
delimiter = ";"
"""

DOCS_CSV = (
    "Posting Date;Reference;Counterparty;Sort code;Account;Paid in;Paid out\n"
    "2026-04-07;HSG 0010 1995 C;MRS A O'NEIL;20-20-15;55555555;£1,127.27;\n"
    "2026-04-07;RETURN;;;;;27.00\n"
)


def _zip(data: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("statement.xml", data)
    return buffer.getvalue()


def _nothing_imported() -> None:
    assert (
        StatementImport.objects.count()
        == BankLine.objects.count()
        == LedgerEntry.objects.count()
        == 0
    )


def _import(path, *args) -> str:
    out = io.StringIO()
    call_command("housing", "import-statement", str(path), *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


# -- the command -----------------------------------------------------------------------------

BAD_FILES = [
    ("photo.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 4, "not a statement"),
    ("statement.zip", _zip(b"<Document/>"), "a zip file"),
    (
        "bad.sta",
        b":20:X\n:25:08999966374958\n:60F:C2604ZZGBP100,00\n:61:26XX070407C10,00NTRF//B1\n"
        b":62F:C260407GBP110,00\n-\n",
        "line 3",
    ),
    (
        "cut.sta",
        b":20:X\n:25:08999966374958\n:60F:C260406GBP100,00\n:61:2604070407C10,00NTRF//B1\n",
        "no closing balance",
    ),
    (
        "dtd.xml",
        b'<?xml version="1.0"?><!DOCTYPE Document [<!ENTITY a "b">]><Document/>',
        "DTD",
    ),
    ("empty.csv", b"\n\n", "empty"),
]


@pytest.mark.parametrize(("name", "data", "problem"), BAD_FILES)
def test_a_bad_file_is_refused_by_the_command_with_one_message(
    borough, tmp_path, name, data, problem
):
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(CommandError) as refused:
        _import(path)
    message = str(refused.value)
    assert message.startswith(f"{name}: ")
    assert problem in message and "Nothing was imported." in message
    assert "Traceback" not in message and "\n" not in message.strip()
    _nothing_imported()


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (None, r"bank\.toml: there is no such file\. Nothing was imported\."),
        ('[bank]\ndate = "Posting Date\n', r"bank\.toml: not a valid TOML file.*line 2"),
        ('[bank]\ndate = "Posting Date"\npayee = "Who"\n', r"bank\.toml: unknown .*payee"),
        ('[a]\ndate = "D"\n[b]\ndate = "E"\n', r"bank\.toml: holds several tables"),
    ],
)
def test_a_mapping_file_that_cannot_be_used_is_named_with_its_problem(
    borough, tmp_path, text, problem
):
    path, mapping = tmp_path / "s.csv", tmp_path / "bank.toml"
    path.write_text(DOCS_CSV)
    if text is not None:
        mapping.write_text(text)
    with pytest.raises(CommandError, match=problem):
        _import(path, "--csv-mapping", str(mapping))
    _nothing_imported()


def test_the_mapping_in_the_docs_imports_a_csv_as_the_docs_say(borough, tmp_path):
    path, mapping = tmp_path / "april.csv", tmp_path / "bank.toml"
    path.write_text(DOCS_CSV, encoding="utf-8")
    mapping.write_text(DOCS_MAPPING, encoding="utf-8")
    out = _import(path, "--csv-mapping", str(mapping), "--format", "csv")
    assert "april.csv: 1 credit" in out
    assert BankLine.objects.get().amount_pence == 112727


def test_a_mapping_for_another_account_is_refused(borough, tmp_path):
    path, mapping = tmp_path / "april.csv", tmp_path / "bank.toml"
    path.write_text(DOCS_CSV, encoding="utf-8")
    mapping.write_text(DOCS_MAPPING.replace("089999 66374958", "601613 31926819"))
    with pytest.raises(CommandError, match="601613 31926819, not the council's rent account"):
        _import(path, "--csv-mapping", str(mapping))
    _nothing_imported()


@pytest.mark.parametrize("name", ["camt.053", "camt053"])
def test_the_format_names_the_help_and_docs_give_are_accepted(borough, tmp_path, name):
    made, _ = borough
    path = tmp_path / "nov.xml"
    path.write_bytes(_file(made, made.lines[:20]))
    assert "posted to rent accounts automatically" in _import(path, "--format", name)


def test_a_statement_with_no_credits_says_so(borough, tmp_path):
    made, _ = borough
    debits = [line for line in made.lines if line.amount_pence < 0] or None
    if debits is None:
        from dataclasses import replace

        debits = [replace(made.lines[0], amount_pence=-made.lines[0].amount_pence)]
    path = tmp_path / "charges.xml"
    path.write_bytes(_file(made, debits))
    out = _import(path)
    assert f"charges.xml: {len(debits)} line" in out
    assert "no payments into the account" in out
    assert "imported before" not in out


def test_a_two_line_csv_with_a_bare_carriage_return_imports(borough, tmp_path):
    path = tmp_path / "cr.csv"
    path.write_bytes(b"Date,Description,Amount,Balance\r07/04/2026,RENT 12345678I,1.00,101.00\n")
    assert "cr.csv: 1 credit" in _import(path)


def test_an_impossible_input_date_is_a_message_not_a_traceback(capsys):
    utility = ManagementUtility(["borough", "housing", "bacs-run", "--input-date", "2026-02-30"])
    with pytest.raises(SystemExit) as exited:
        utility.execute()
    assert exited.value.code != 0
    err = capsys.readouterr().err
    assert "2026-02-30 is not a date" in err and "Traceback" not in err


# -- the finance upload page ---------------------------------------------------------------


@pytest.fixture
def officer(client, make_staff, sign_in_staff):
    sign_in_staff(client, make_staff("Finance officer"))
    return client


def _upload(client, name: str, data: bytes, capture):
    from django.core.files.uploadedfile import SimpleUploadedFile

    with capture(execute=True):  # the job runs when the upload is committed
        posted = client.post(
            "/staff/finance/statements", {"file": SimpleUploadedFile(name, data), "format": ""}
        )
    if posted.status_code != 302:
        return posted
    page = client.get(posted["Location"])
    page.redirect_chain = [(posted["Location"], 302)]
    return page


@pytest.mark.parametrize(("name", "data", "problem"), BAD_FILES)
def test_a_bad_file_uploaded_shows_one_message_and_imports_nothing(
    borough, officer, django_capture_on_commit_callbacks, name, data, problem
):
    page = _upload(officer, name, data, django_capture_on_commit_callbacks)
    assert page.status_code == 200
    text = page.content.decode()
    assert f"{name}: " in text and problem in text and "Nothing was imported." in text
    _nothing_imported()


def test_a_two_line_csv_with_a_bare_carriage_return_uploads(
    borough, officer, django_capture_on_commit_callbacks
):
    data = b"Date,Description,Amount,Balance\r07/04/2026,RENT 12345678I,1.00,101.00\n"
    page = _upload(officer, "cr.csv", data, django_capture_on_commit_callbacks)
    assert page.status_code == 200
    assert "cr.csv: 1 credit" in page.content.decode()


def test_an_upload_runs_as_a_background_job_and_its_page_shows_the_result(
    borough, officer, django_capture_on_commit_callbacks
):
    made, _ = borough
    page = _upload(officer, "nov.xml", _file(made, made.lines), django_capture_on_commit_callbacks)
    upload = StatementUpload.objects.get()
    assert page.redirect_chain[-1][0] == f"/staff/finance/statements/uploads/{upload.pk}"
    assert upload.status == StatementUpload.Status.DONE
    assert upload.statement_import is not None and upload.progress_percent == 100
    assert "posted to rent accounts automatically" in page.content.decode()
    assert upload.stored_name == ""  # the bank's file is not kept once read


def test_a_running_upload_shows_its_progress_and_how_to_check_again(borough, officer, make_staff):
    upload = StatementUpload.objects.create(
        file_name="big.xml",
        size_bytes=60_000_000,
        status=StatementUpload.Status.RUNNING,
        stage="Reading and checking the file",
        progress_percent=45,
        requested_by=make_staff("Finance officer", username="other"),
    )
    url = f"/staff/finance/statements/uploads/{upload.pk}"
    text = officer.get(url).content.decode()
    assert "Reading and checking the file: 45% done" in text
    assert 'value="45"' in text  # the <progress> element
    # no page that reloads itself (WCAG F41): the officer checks again when they choose
    assert 'http-equiv="refresh"' not in text and f'href="{url}"' in text


def test_the_page_states_the_size_limit_and_refuses_a_bigger_file(
    borough, officer, settings, django_capture_on_commit_callbacks
):
    settings.BOROUGH_STATEMENT_UPLOAD_MAX_BYTES = 1000
    assert "smaller than 1KB" in officer.get("/staff/finance/statements").content.decode()
    page = _upload(officer, "big.xml", b"<" * 5000, django_capture_on_commit_callbacks)
    text = page.content.decode()
    assert page.status_code == 413 and "must be smaller than 1KB" in text
    assert StatementUpload.objects.count() == 0


# -- two imports at once ------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_statement_imported_twice_at_once_posts_each_payment_once(borough):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: two connections writing at once")
    made, _ = borough
    data = _file(made, made.lines)
    barrier = threading.Barrier(2)
    results, errors = [], []

    def run(name: str) -> None:
        barrier.wait()
        try:
            results.append(statement_import.import_statement(data, file_name=name))
        except Exception as error:  # the test reports any, whatever it is
            errors.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(f"copy{n}.xml",)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    first, second = sorted(results, key=lambda r: -r.new_lines)
    assert first.new_lines == first.credits > 0
    assert (second.new_lines, second.posted, second.already_seen) == (0, 0, first.credits)
    keys = list(LedgerEntry.objects.values_list("source_key", flat=True))
    assert len(keys) == len(set(keys)) == first.posted
    assert BankLine.objects.count() == first.credits


def test_a_file_over_the_limit_is_not_read_past_its_start(
    borough, make_staff, settings, monkeypatch, sign_in_staff
):
    """An upload over the limit stops at the file's first bytes: the rest of the body is not
    read or stored (the officer's CSRF token, sent before the file, is still checked)."""
    from django.test import Client
    from django.test import client as test_client

    settings.BOROUGH_STATEMENT_UPLOAD_MAX_BYTES = 1000
    strict = Client(enforce_csrf_checks=True)
    sign_in_staff(strict, make_staff("Finance officer", username="strict"))
    token = strict.get("/staff/finance/statements").cookies["csrftoken"].value
    read: list[int] = []
    original = test_client.FakePayload.read

    def counted(self, *args):
        chunk = original(self, *args)
        read.append(len(chunk))
        return chunk

    monkeypatch.setattr(test_client.FakePayload, "read", counted)
    boundary = "BoUnDaRy"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="csrfmiddlewaretoken"\r\n\r\n'
        f"{token}\r\n--{boundary}\r\n"
        'Content-Disposition: form-data; name="file"; filename="big.xml"\r\n'
        "Content-Type: text/xml\r\n\r\n"
    )
    body = head.encode() + b"<" * (5 * 1024 * 1024) + f"\r\n--{boundary}--\r\n".encode()
    response = strict.generic(
        "POST",
        "/staff/finance/statements",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    assert response.status_code == 413
    assert "must be smaller than 1KB" in response.content.decode()
    assert sum(read) < 1024 * 1024  # of a 5MB body
    assert StatementUpload.objects.count() == 0


def test_an_import_that_cannot_get_the_database_says_so_and_imports_nothing(
    borough, tmp_path, monkeypatch
):
    """SQLite: another import holds the database past the 20 s wait. The officer is told to
    try again, never shown a traceback; nothing is written."""
    from django.db import OperationalError

    made, _ = borough
    path = tmp_path / "locked.xml"
    path.write_bytes(_file(made, made.lines))

    def locked(*args, **kwargs):
        raise OperationalError("database is locked")

    monkeypatch.setattr(statement_import, "_one_import_at_a_time", locked)
    with pytest.raises(statement_import.ImportRefused) as refused:
        statement_import.import_statement(path, file_name="locked.xml")
    assert "another statement import was still being written" in str(refused.value)
    assert "Nothing was imported" in str(refused.value)
    assert not BankLine.objects.exists()


def test_one_account_written_two_ways_in_two_files_posts_each_payment_once(borough, tmp_path):
    """A bank writes the council's account as sort code and number in one MT940 and as an IBAN
    in the next: the same payments must not be posted twice."""
    from borough.housing.matching import synthetic

    made, _ = borough
    own = statement_import.council_account()
    data = synthetic.write_mt940(
        synthetic.as_statement(list(made.lines)[:20], f"{own[:6]} {own[6:]}", "S1", 0)
    )
    as_iban = re.sub(rb":25:[^\r\n]*", f":25:GB29NWBK{own}".encode(), data)
    assert as_iban != data
    posted = None
    for n, content in enumerate((data, as_iban)):
        path = tmp_path / f"statement{n}.sta"
        path.write_bytes(content)
        result = statement_import.import_statement(path, file_name=path.name)
        if posted is None:
            posted = result.posted
        else:
            assert result.new_lines == 0 and result.posted == 0, result.summary()
    assert posted and LedgerEntry.objects.count() == posted


def test_an_empty_upload_is_named_and_nothing_is_imported(
    borough, officer, django_capture_on_commit_callbacks
):
    page = _upload(officer, "empty.xml", b"", django_capture_on_commit_callbacks)
    text = page.content.decode()
    assert "empty.xml: the file is empty. Nothing was imported." in text
    _nothing_imported()
