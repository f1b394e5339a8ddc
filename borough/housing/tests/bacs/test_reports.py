import datetime as dt
from pathlib import Path

import pytest

from borough.housing.bacs.reports import (
    ADDACS_REASONS,
    ARUDD_REASONS,
    AUDDIS_REASONS,
    ReportError,
    parse_addacs,
    parse_arudd,
    parse_auddis,
)

DATA = Path(__file__).parent / "data"
D = dt.date


def read(name: str) -> bytes:
    return (DATA / name).read_bytes()


# ----------------------------------------------------------------- ARUDD


def test_arudd_lists_each_unpaid_direct_debit():
    report = parse_arudd(read("arudd.xml"), source="arudd.xml")
    assert report.service_user_number == "123456"
    assert report.processing_date == D(2026, 12, 31)
    assert [item.reference for item in report.items] == [
        "RENT0005678",
        "RENT0009999",
        "RENT0007777",
    ]
    first = report.items[0]
    assert first.amount_pence == 12_345
    assert first.return_code == "0128"
    assert first.description == "REFER TO PAYER"
    assert first.original_processing_date == D(2026, 12, 23)
    assert first.payer_sort_code == "87-14-27"
    assert first.payer_account == "46238510"
    assert first.payer_name == "A N OTHER"
    assert first.transaction_code == "17"
    assert report.total_pence == 12_345 + 99 + 100_000


def test_arudd_reason_comes_from_the_description_or_the_code():
    reasons = [item.reason_code for item in parse_arudd(read("arudd.xml")).items]
    # "REFER TO PAYER" (code 0128), "INSTRUCTION  CANCELLED" (code 1012), returnCode "B".
    assert reasons == ["0", "1", "B"]
    item = parse_arudd(read("arudd.xml")).items[0]
    assert item.reason.meaning == "Refer to payer"
    assert "Re-present (code 18)" in item.reason.action


def test_arudd_pads_a_six_digit_account_and_formats_the_sort_code():
    item = parse_arudd(read("arudd.xml")).items[2]
    assert item.payer_account == "00733445"
    assert item.payer_sort_code == "30-99-50"
    assert item.amount_pence == 100_000


def test_arudd_reason_code_attribute_wins_and_unknown_descriptions_stay_unknown():
    xml = read("arudd.xml").decode("latin-1")
    xml = xml.replace('returnCode="0128"', 'returnCode="0128" reasonCode="4"')
    xml = xml.replace('"INSTRUCTION  CANCELLED"', '"SOMETHING NEW"')
    items = parse_arudd(xml).items
    assert items[0].reason_code == "4"
    assert items[1].reason_code is None and items[1].reason is None


def _arudd_with(old: str, new: str) -> bytes:
    return read("arudd.xml").replace(old.encode(), new.encode(), 1)


def test_arudd_totals_that_disagree_are_refused():
    with pytest.raises(ReportError, match="valueOf is 112445 pence but the items add up to 112444"):
        parse_arudd(_arudd_with('valueOf="1124.44"', 'valueOf="1124.45"'))
    with pytest.raises(ReportError, match="numberOf 4 but 3 items"):
        parse_arudd(_arudd_with('numberOf="3"', 'numberOf="4"'))


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('valueOf="123.45"', 'valueOf="12x.45"', r"ReturnedDebitItem 1: valueOf '12x.45' is not"),
        ('valueOf="123.45"', 'valueOf="123.456"', "not an amount in pounds"),
        ('ref="RENT0005678" transCode', "transCode", "ReturnedDebitItem 1: ref is missing"),
        (
            'originalProcessingDate="2026-12-23"',
            'originalProcessingDate="23/12/2026"',
            "not a date",
        ),
        ('sortCode="87-14-27"', 'sortCode="87-14"', "PayerAccount: sortCode '87-14' is not"),
        ('currency="GBP">', 'currency="EUR">', "currency 'EUR' is not GBP"),
    ],
)
def test_a_malformed_arudd_item_names_file_and_element(old, new, message):
    with pytest.raises(ReportError, match=message) as error:
        parse_arudd(_arudd_with(old, new), source="arudd-2026-12-31.xml")
    assert error.value.source == "arudd-2026-12-31.xml"
    assert str(error.value).startswith("arudd-2026-12-31.xml: ")


def test_not_xml_at_all():
    with pytest.raises(ReportError, match=r"^upload.xml: document: not well-formed XML"):
        parse_arudd(b"VOL1000001 this is a Standard 18 file", source="upload.xml")


def test_xml_that_is_not_a_bacs_document():
    with pytest.raises(ReportError, match="expected a BACSDocument"):
        parse_arudd(b"<html><body/></html>")


def test_an_addacs_report_given_as_arudd():
    with pytest.raises(ReportError, match=r"BACSDocument/Data/ARUDD: missing"):
        parse_arudd(read("addacs.xml"))


def test_entity_expansion_is_refused():
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]><BACSDocument>&b;</BACSDocument>'
    )
    with pytest.raises(ReportError, match="document"):
        parse_arudd(bomb)


# ----------------------------------------------------------------- ADDACS


def test_addacs_lists_each_advice():
    report = parse_addacs(read("addacs.xml"), source="addacs.xml")
    assert report.service_user_number == "123456"
    assert report.processing_date == D(2027, 1, 5)
    assert len(report.advices) == 3
    cancelled = report.advices[0]
    assert cancelled.reference == "RENT0001234"
    assert cancelled.reason_code == "1"
    assert cancelled.reason.meaning == "Instruction cancelled by the payer"
    assert cancelled.effective_date == D(2027, 1, 4)
    assert cancelled.payer_sort_code == "20-29-59"
    assert cancelled.payer_account == "63748472"
    assert cancelled.new_sort_code is None and not cancelled.has_new_details


def test_addacs_transfer_carries_the_new_account():
    transferred = parse_addacs(read("addacs.xml")).advices[1]
    assert transferred.reason_code == "3"
    assert transferred.has_new_details
    assert (transferred.new_sort_code, transferred.new_account) == ("08-99-99", "66374958")
    assert "no 0C to the old bank" in transferred.reason.action


def test_addacs_attribute_names_in_camel_case_are_read_too():
    branch = parse_addacs(read("addacs.xml")).advices[2]
    assert branch.reason_code == "C"
    assert branch.payer_name == "C PAYER"
    assert branch.payer_sort_code == "30-99-50"
    assert branch.new_account == "12345678"
    assert branch.effective_date == D(2027, 1, 5)


def test_addacs_with_an_unknown_reason_code():
    data = read("addacs.xml").replace(b'reason-code="1"', b'reason-code="Z"')
    with pytest.raises(ReportError, match=r"MessagingAdvice 1: reason-code 'Z' is not an ADDACS"):
        parse_addacs(data, source="addacs.xml")


def test_addacs_without_a_reference():
    data = read("addacs.xml").replace(b' reference="RENT0005678"', b"")
    with pytest.raises(ReportError, match="MessagingAdvice 2: reference is missing"):
        parse_addacs(data)


def test_an_arudd_report_given_as_addacs():
    with pytest.raises(ReportError, match="Data/MessagingAdvices: missing"):
        parse_addacs(read("arudd.xml"))


# ----------------------------------------------------------------- AUDDIS


def test_auddis_lists_rejected_instructions_and_skips_the_summary():
    report = parse_auddis(read("auddis.xml"))
    assert report.service_user_number == "123456"
    assert [(r.reference, r.reason_code) for r in report.rejections] == [
        ("RENT0002222", "5"),
        ("RENT0003333", "I"),
    ]
    first = report.rejections[0]
    assert first.transaction_code == "0N"
    assert first.payer_sort_code == "20-29-59"
    assert first.reason.meaning == "No account"
    assert report.rejections[1].reason.meaning == "Payer reference is not unique"
    assert report.file_errors == ()


def test_auddis_whole_file_rejection():
    report = parse_auddis(read("auddis-file-rejected.xml"))
    assert report.rejections == ()
    assert report.file_errors == ("FILE REJECTED: UTL1 TOTALS DO NOT AGREE",)


def test_auddis_with_an_unknown_reason_code():
    data = read("auddis.xml").replace(b'reason-code="5"', b'reason-code="9"')
    with pytest.raises(ReportError, match="reason-code '9' is not an AUDDIS code"):
        parse_auddis(data)


# ----------------------------------------------------------------- tables


def test_reason_tables_hold_every_code_in_the_brief():
    assert set(ARUDD_REASONS) == set("0123456789AB")
    assert set(ADDACS_REASONS) == set("0123BCDER")
    assert set(AUDDIS_REASONS) == set("12356BCFGHIKLMNOPQ")
    for table in (ARUDD_REASONS, ADDACS_REASONS, AUDDIS_REASONS):
        for code, reason in table.items():
            assert reason.code == code and reason.meaning and reason.action
