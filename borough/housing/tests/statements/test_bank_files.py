"""Statement files as banks send them: batch bookings, truncated MT940, other encodings, long
headers, DTDs, the format names people type, CSV quirks; and files read in one pass."""

from __future__ import annotations

import io
import logging
import time
import zipfile

import pytest

from borough.housing.matching.synthetic import as_statement, generate, write_camt053, write_mt940
from borough.housing.statements import CsvMapping, StatementError, parse_statement

from .test_parsing import _camt, _entry, _mt940

ACCOUNT = "089999 66374958"


def _batch(*details: str, amount: str = "30.00") -> str:
    """One booked credit entry whose NtryDtls holds ``details`` (TxDtls bodies)."""
    txs = "".join(f"<TxDtls>{body}</TxDtls>" for body in details)
    return (
        f'<Ntry><Amt Ccy="GBP">{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>'
        "<BookgDt><Dt>2026-04-07</Dt></BookgDt><AcctSvcrRef>BATCH1</AcctSvcrRef>"
        f"<NtryDtls><Btch><NbOfTxs>{len(details)}</NbOfTxs></Btch>{txs}</NtryDtls></Ntry>"
    )


def _tx(reference: str, amount: str | None = None, name: str = "") -> str:
    money = f'<AmtDtls><TxAmt><Amt Ccy="GBP">{amount}</Amt></TxAmt></AmtDtls>' if amount else ""
    party = f"<RltdPties><Dbtr><Nm>{name}</Nm></Dbtr></RltdPties>" if name else ""
    return f"{money}{party}<RmtInf><Ustrd>{reference}</Ustrd></RmtInf>"


# -- ISO 20022 batch bookings --------------------------------------------------------------


def test_an_entry_with_several_details_and_no_amounts_is_one_payment():
    data = _camt(
        _batch(_tx("RENT 12345678I"), _tx("RENT 00001234C"), _tx("RENT 00101995C")),
        opening="100.00",
        closing="130.00",
    )
    statement = parse_statement(data, name="batch.xml")
    [line] = statement.lines
    assert line.amount_pence == 3000
    assert "12345678I" in line.reference and "00101995C" in line.reference


def test_details_with_their_own_amounts_are_each_a_payment():
    data = _camt(
        _batch(_tx("RENT 12345678I", "10.00", "A ONE"), _tx("RENT 00001234C", "20.00", "B TWO")),
        opening="100.00",
        closing="130.00",
    )
    first, second = parse_statement(data, name="batch.xml").lines
    assert (first.amount_pence, first.payer_name, first.reference) == (
        1000,
        "A ONE",
        "RENT 12345678I",
    )
    assert (second.amount_pence, second.payer_name) == (2000, "B TWO")
    assert first.line_hash != second.line_hash


def test_details_whose_amounts_do_not_add_up_to_the_entry_are_refused():
    data = _camt(
        _batch(_tx("RENT 12345678I", "10.00"), _tx("RENT 00001234C", "25.00")),
        opening="100.00",
        closing="130.00",
    )
    with pytest.raises(StatementError) as error:
        parse_statement(data, name="batch.xml")
    message = str(error.value)
    assert message.startswith("batch.xml: entry 1 (BATCH1)")
    assert "add up to £35.00" in message and "£30.00" in message


def test_details_where_only_some_give_an_amount_are_refused():
    data = _camt(_batch(_tx("A", "10.00"), _tx("B")), opening="100.00", closing="130.00")
    with pytest.raises(StatementError, match=r"entry 1 .*some transaction details give"):
        parse_statement(data, name="batch.xml")


# -- MT940 ---------------------------------------------------------------------------------


def test_an_mt940_without_a_closing_balance_is_refused_as_truncated():
    data = b":20:ST1\n:25:08999966374958\n:60F:C260406GBP100,00\n:61:2604070407C10,00NTRFNONREF//B1\n:86:RENT\n"
    with pytest.raises(StatementError) as error:
        parse_statement(data, name="cut.sta")
    assert str(error.value).startswith("cut.sta: ")
    assert "no closing balance" in str(error.value)


def test_an_mt940_that_stops_after_an_earlier_complete_day_is_still_refused():
    whole = _mt940(":61:2604070407C10,00NTRFNONREF//B1\n:86:RENT 12345678I\n")
    cut = (
        whole + b":20:ST2\n:25:60161331926819\n:60F:C260407GBP110,00\n:61:2604080408C5,00NTRF//B2\n"
    )
    with pytest.raises(StatementError, match=r"statement block 2 .*no closing balance"):
        parse_statement(cut, name="cut.sta")


def test_an_unreadable_mt940_is_one_message_and_nothing_in_the_log(caplog):
    data = (
        b":20:X\n:25:08999966374958\n:60F:C2604ZZGBP100,00\n"
        b":61:26XX070407C10,00NTRF//B1\n:86:RENT\n:62F:C260407GBP110,00\n-\n"
    )
    caplog.set_level(logging.DEBUG)
    with pytest.raises(StatementError) as error:
        parse_statement(data, name="bad.sta")
    assert str(error.value).startswith("bad.sta: line 3: ")
    assert "\n" not in str(error.value)
    assert [r for r in caplog.records if r.levelno >= logging.INFO] == []


# -- how the file is told and decoded ------------------------------------------------------


@pytest.mark.parametrize("name", ["camt.053", "camt053", "CAMT053", "camt"])
def test_the_camt053_format_is_accepted_by_each_name_the_help_gives(name):
    statement = parse_statement(_camt(_entry()), format=name)
    assert statement.format == "camt.053"


@pytest.mark.parametrize("name", ["mt940", "MT940", "mt-940"])
def test_the_mt940_format_is_accepted_by_each_name(name):
    statement = parse_statement(_mt940(":61:2604070407C10,00NTRFNONREF//B1\n"), format=name)
    assert statement.format == "mt940"


def test_an_unknown_format_name_lists_the_ones_there_are():
    with pytest.raises(StatementError, match=r"use one of camt\.053, mt940, csv"):
        parse_statement(_camt(_entry()), format="bai2", name="x.bai")


def test_a_utf16_camt053_with_a_byte_order_mark_is_read():
    text = _camt(_entry()).decode().replace('encoding="UTF-8"', 'encoding="UTF-16"')
    statement = parse_statement(text.encode("utf-16"), name="utf16.xml")
    assert [line.amount_pence for line in statement.lines] == [1000]


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_files_without_a_byte_order_mark_are_read_as_utf16(encoding):
    # Windows tools save "Unicode" text without a BOM; each character has a zero byte beside it
    xml = _camt(_entry()).decode().replace('encoding="UTF-8"', 'encoding="UTF-16"')
    mt940 = _mt940(":61:2604070407C10,00NTRFNONREF//B1\n").decode()
    csv = "Date,Description,Amount,Balance\n07/04/2026,HSG 0010 1995 C,10.00,110.00\n"
    for text, name in ((xml, "u.xml"), (mt940, "u.sta"), (csv, "u.csv")):
        statement = parse_statement(text.encode(encoding), name=name, account="089999 66374958")
        assert [line.amount_pence for line in statement.lines] == [1000], name


def test_binary_data_with_zero_bytes_is_still_not_text():
    data = bytes(range(256)) * 8  # zero bytes, but not beside each character
    with pytest.raises(StatementError, match="binary data"):
        parse_statement(data, name="x.bin")


def test_a_camt053_with_a_long_comment_before_the_document_is_read():
    data = _camt(_entry())
    declaration, rest = data.split(b"\n", 1)
    comment = b"<!-- " + b"exported by the bank's portal; " * 400 + b"-->\n"
    assert len(comment) > 8192
    statement = parse_statement(declaration + b"\n" + comment + rest, name="long.xml")
    assert statement.format == "camt.053" and len(statement.lines) == 1


def test_an_mt940_with_a_bank_header_before_the_first_tag_is_read():
    data = b"ABNANL2A\n940\nABNANL2A\n" + _mt940(":61:2604070407C10,00NTRFNONREF//B1\n")
    assert parse_statement(data).format == "mt940"


# -- XML the bank should never send ----------------------------------------------------------


@pytest.mark.parametrize(
    ("prolog", "word"),
    [
        ("<!DOCTYPE Document>", "DTD"),
        ('<!DOCTYPE Document [<!ENTITY x "RENT 12345678I">]>', "DTD"),
        ('<!DOCTYPE Document [<!ENTITY x SYSTEM "file:///etc/passwd">]>', "DTD"),
    ],
)
def test_a_statement_with_a_dtd_or_entities_is_refused(prolog, word):
    data = _camt(_entry()).replace(b"\n<Document", f"\n{prolog}\n<Document".encode(), 1)
    with pytest.raises(StatementError) as error:
        parse_statement(data, name="dtd.xml")
    assert str(error.value).startswith("dtd.xml: ")
    assert word in str(error.value)


def test_binary_and_zip_files_are_refused_by_what_they_are():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("statement.xml", _camt(_entry()))
    with pytest.raises(StatementError, match=r"zip\.xml: a zip file"):
        parse_statement(buffer.getvalue(), name="zip.xml")
    with pytest.raises(StatementError, match=r"photo\.jpg: not a statement format"):
        parse_statement(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)), name="photo.jpg")


# -- CSV -------------------------------------------------------------------------------------


def test_a_two_line_csv_with_a_bare_carriage_return_is_read():
    data = b"Date,Description,Amount,Balance\r07/04/2026,RENT 12345678I,1.00,101.00\n"
    statement = parse_statement(data, name="cr.csv", account=ACCOUNT)
    assert [line.amount_pence for line in statement.lines] == [100]


def test_a_declared_csv_column_missing_from_the_header_is_an_error():
    mapping = CsvMapping(payer_name="Payer")  # the balance column is declared too
    data = b"Date,Description,Amount\n07/04/2026,RENT,1.00\n"
    with pytest.raises(StatementError) as error:
        parse_statement(data, format="csv", csv_mapping=mapping, account=ACCOUNT, name="b.csv")
    assert str(error.value).startswith("b.csv: ")
    assert "Balance" in str(error.value) and "Payer" in str(error.value)


def test_a_mapping_laid_out_as_the_docs_show_is_read_without_naming_its_table():
    mapping = CsvMapping.from_toml('[bank]\ndate = "When"\nreference = "Ref"\nbalance = ""\n')
    assert (mapping.date, mapping.reference, mapping.balance) == ("When", "Ref", None)


# -- one pass ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def big():
    made = generate(20_000, 10_000, seed=2)
    return as_statement(list(made.lines), ACCOUNT, "BIG", 0)


@pytest.mark.parametrize(("writer", "suffix"), [(write_camt053, "xml"), (write_mt940, "sta")])
def test_a_large_statement_is_read_in_one_pass_as_it_streams(big, writer, suffix, tmp_path):
    path = tmp_path / f"big.{suffix}"
    path.write_bytes(writer(big))
    seen = []
    started = time.perf_counter()
    statement = parse_statement(path, progress=lambda done, total: seen.append((done, total)))
    seconds = time.perf_counter() - started
    assert len(statement.lines) == len(big.lines)
    # progress is reported while the file is being read, and reaches the end once
    assert seen and seen[-1] == (path.stat().st_size, path.stat().st_size)
    assert any(0 < done < total / 2 for done, total in seen)
    # today's whole-file camt.053 parse takes minutes at this size; one pass takes about a second
    assert seconds < 20
