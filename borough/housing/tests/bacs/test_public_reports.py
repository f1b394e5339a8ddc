"""Bacs reports as a bank sends them: the public so-sure reports in data/public (README there
names the source), read by the parsers, imported through the service, the command and the
finance upload page. Each import says what it changed, or that it changed nothing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from borough.housing import direct_debit, direct_debit_reports, direct_debit_runs
from borough.housing.bacs.reports import ReportError, parse_addacs, parse_auddis, report_kind
from borough.housing.models import BacsRun, Mandate, MandateEvent
from borough.housing.tests.test_ledger import make_account

PUBLIC = Path(__file__).parent / "data" / "public" / "so-sure"
D = dt.date
FIRST_RUN = D(2026, 12, 1)  # entry day Thursday 3 December 2026


def public(name: str) -> bytes:
    return (PUBLIC / name).read_bytes()


# ----------------------------------------------------------------- parsers


def test_the_kind_of_a_messaging_report_comes_from_its_advice_type():
    assert report_kind(public("ADDACS.xml")) == "ADDACS"
    assert report_kind(public("AUDDIS.xml")) == "AUDDIS"
    assert report_kind(public("AUDDIS-error.xml")) == "AUDDIS"


def test_without_an_advice_type_the_records_tell_the_kind_and_zeros_are_no_error():
    addacs = public("ADDACS.xml").replace(b'advice-type="ADDACS" ', b"")
    accepted = public("AUDDIS.xml").replace(b'advice-type="AUDACC"', b"")
    assert report_kind(addacs) == "ADDACS"
    assert report_kind(accepted) == "AUDDIS"
    report = parse_auddis(accepted)
    assert report.file_errors == () and not report.files[0].rejected_file


def test_an_advice_type_borough_does_not_read_is_named():
    other = public("ADDACS.xml").replace(b'advice-type="ADDACS"', b'advice-type="AWACS"')
    with pytest.raises(ReportError, match="advice-type 'AWACS' is not a report Borough reads"):
        report_kind(other, source="AWACS.xml")


def test_the_public_addacs_report_is_read_despite_its_empty_messaging_error():
    report = parse_addacs(public("ADDACS.xml"), source="ADDACS.xml")
    assert report.service_user_number == "123456"
    assert report.processing_date == D(2018, 3, 6)  # report-generation-date
    (advice,) = report.advices
    assert (advice.reference, advice.reason_code, advice.effective_date) == (
        "SOSURE01",
        "1",
        D(2018, 3, 6),
    )
    assert (advice.payer_sort_code, advice.payer_account) == ("20-29-59", "12345678")


def test_the_public_auddis_acceptance_is_no_rejection():
    report = parse_auddis(public("AUDDIS.xml"), source="AUDDIS.xml")
    assert report.advice_type == "AUDACC"
    assert report.rejections == () and report.file_errors == ()
    (summary,) = report.files
    assert (summary.record_type, summary.volume_serial, summary.file_number) == (
        "V",
        "000010",
        "010",
    )
    assert (summary.accepted, summary.rejected, summary.processing_date) == (1, 0, D(2018, 2, 16))
    assert not summary.rejected_file


def test_the_public_auddis_whole_file_rejection_keeps_the_bank_s_reason():
    report = parse_auddis(public("AUDDIS-error.xml"), source="AUDDIS-error.xml")
    assert report.advice_type == "AUDREJ"
    (summary,) = report.files
    assert summary.rejected_file and summary.error_code == "30264"
    assert report.file_errors == ("User Status is TEST on Arrival Day",)


# ----------------------------------------------------------------- imports


@pytest.fixture
def lodged(db):
    """A mandate with the public ADDACS report's reference, lodged by the first run."""
    account = make_account(1)
    mandate = direct_debit.set_up_mandate(
        account,
        account_holder="Bar",
        sort_code="20-29-59",
        account_number="63748472",
        frequency="monthly",
        collection_day=15,
        today=FIRST_RUN,
    )
    Mandate.objects.filter(pk=mandate.pk).update(reference="SOSURE01")
    run = direct_debit_runs.bacs_run(FIRST_RUN)
    mandate.refresh_from_db()
    assert mandate.status == Mandate.Status.LODGED
    return mandate, run


@pytest.mark.django_db
def test_a_bank_s_addacs_with_an_empty_messaging_error_cancels_the_mandate_once(lodged):
    mandate, _run = lodged
    outcome = direct_debit_reports.import_bacs_report(public("ADDACS.xml"), source="ADDACS.xml")
    assert outcome.kind == "ADDACS"
    (applied,) = outcome.applied
    assert applied.startswith("SOSURE01") and "mandate cancelled" in applied
    assert outcome.changed
    assert outcome.summary().startswith("ADDACS report ADDACS.xml: 1 change made")
    mandate.refresh_from_db()
    assert mandate.status == Mandate.Status.CANCELLED

    again = direct_debit_reports.import_bacs_report(public("ADDACS.xml"), source="ADDACS.xml")
    assert not again.changed and len(again.already) == 1
    assert "Nothing was changed" in again.summary()
    assert MandateEvent.objects.filter(action="addacs_1").count() == 1


@pytest.mark.django_db
def test_an_auddis_acceptance_summary_is_not_reported_as_a_rejected_file(lodged):
    mandate, run = lodged
    BacsRun.objects.filter(pk=run.pk).update(serial="000010")
    outcome = direct_debit_reports.import_bacs_report(public("AUDDIS.xml"), source="AUDDIS.xml")
    assert outcome.kind == "AUDDIS"
    assert not any("rejected" in note for note in outcome.notes)
    (accepted,) = outcome.accepted
    assert "accepted file 000010" in accepted and "run for entry day 3 December 2026" in accepted
    assert "1 instruction accepted, 0 rejected" in accepted
    assert not outcome.changed
    assert outcome.summary() == (
        "AUDDIS report AUDDIS.xml: the bank accepted file 000010. Nothing was changed."
    )
    mandate.refresh_from_db()
    assert mandate.status == Mandate.Status.LODGED


@pytest.mark.django_db
def test_an_auddis_whole_file_rejection_names_the_file_the_run_and_the_bank_s_reason(lodged):
    _mandate, run = lodged
    BacsRun.objects.filter(pk=run.pk).update(serial="000009")
    outcome = direct_debit_reports.import_bacs_report(
        public("AUDDIS-error.xml"), source="AUDDIS-error.xml"
    )
    (note,) = outcome.notes
    assert "rejected the whole of file 000009" in note
    assert "run for entry day 3 December 2026" in note
    assert "User Status is TEST on Arrival Day" in note and "30264" in note
    assert not outcome.changed
    assert "Nothing was changed" in outcome.summary()


@pytest.mark.django_db
def test_a_bacs_input_report_is_refused_and_changes_nothing(lodged):
    with pytest.raises(direct_debit.ReportRefused) as refused:
        direct_debit_reports.import_bacs_report(public("Input.xml"), source="Input.xml")
    message = str(refused.value)
    assert message.startswith("Input.xml: ") and "InputReport" in message
    assert message.endswith("Nothing was changed")


@pytest.mark.django_db
def test_the_command_says_what_changed_or_that_nothing_did(lodged, capsys):
    call_command("housing", "import-bacs-report", str(PUBLIC / "ADDACS.xml"))
    out = capsys.readouterr().out
    assert "ADDACS report ADDACS.xml: 1 change made" in out and "mandate cancelled" in out
    call_command("housing", "import-bacs-report", str(PUBLIC / "AUDDIS.xml"))
    out = capsys.readouterr().out
    assert "the bank accepted file 000010. Nothing was changed." in out
    assert "rejected" not in out.replace("0 rejected", "")


@pytest.mark.django_db
def test_the_upload_page_says_what_changed_or_that_nothing_did(
    sign_in_staff, client, make_staff, lodged
):
    sign_in_staff(client, make_staff("Finance officer"))

    def upload(name: str) -> str:
        response = client.post(
            "/staff/finance/direct-debit/reports",
            {"file": SimpleUploadedFile(name, public(name))},
        )
        assert response.status_code == 200
        return response.content.decode()

    page = upload("ADDACS.xml")
    assert "ADDACS report ADDACS.xml: 1 change made" in page and "Imported" in page
    page = upload("AUDDIS.xml")
    assert "Nothing was changed" in page and "accepted file 000010" in page
    assert "rejected a whole file" not in page and "Imported" not in page
    page = upload("Input.xml")
    assert "There is a problem" in page and "Nothing was changed" in page
