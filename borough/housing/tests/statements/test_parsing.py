import datetime as dt
from pathlib import Path

import pytest

from borough.housing.statements import CsvMapping, StatementError, parse_statement

DATA = Path(__file__).parent / "data"
APRIL_7 = dt.date(2026, 4, 7)


def _camt(
    entries: str, opening: str = "100.00", closing: str = "110.00", ccy: str = "GBP"
) -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt>
<GrpHdr><MsgId>M1</MsgId><CreDtTm>2026-04-08T06:00:00Z</CreDtTm></GrpHdr>
<Stmt><Id>S1</Id><Acct><Id><IBAN>GB29NWBK60161331926819</IBAN></Id><Ccy>{ccy}</Ccy></Acct>
<Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="{ccy}">{opening}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-04-07</Dt></Dt></Bal>
<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="{ccy}">{closing}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-04-07</Dt></Dt></Bal>
{entries}
</Stmt></BkToCstmrStmt></Document>""".encode()


def _entry(
    amount: str = "10.00", booked: str = "2026-04-07", ccy: str = "GBP", ref: str = "E1"
) -> str:
    amt = f'<Amt Ccy="{ccy}">{amount}</Amt>' if amount else ""
    date = f"<BookgDt><Dt>{booked}</Dt></BookgDt>" if booked else ""
    return (
        f"<Ntry>{amt}<CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>{date}"
        f"<AcctSvcrRef>{ref}</AcctSvcrRef><NtryDtls><TxDtls><RmtInf><Ustrd>RENT 12345678I"
        "</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>"
    )


def _mt940(
    lines: str, opening: str = "C260406GBP100,00", closing: str = "C260407GBP110,00"
) -> bytes:
    return (
        f":20:ST1\n:25:60161331926819\n:28C:1/1\n:60F:{opening}\n{lines}:62F:{closing}\n-\n"
    ).encode()


# -- the shared samples -------------------------------------------------------------------


def test_camt053_sample_gives_the_standing_order_with_its_reference_and_payer():
    statement = parse_statement(DATA / "uk_camt053.xml")
    assert statement.format == "camt.053"
    assert statement.account == "GB29NWBK60161331926819"
    assert statement.statement_id == "20260105-1"
    assert (statement.opening_balance_pence, statement.closing_balance_pence) == (100000, 112550)
    [line] = statement.lines
    assert line.amount_pence == 12550
    assert line.booking_date == dt.date(2026, 1, 5)
    assert line.reference == "RENT 1234567890"
    assert line.payer_name == "J SMITH"
    assert line.bank_tx_code == "PMNT/RCDT/STDO"
    assert line.bank_ref == "BGC0001"  # EndToEndId NOTPROVIDED is a placeholder, not an id
    assert len(line.line_hash) == 64


def test_mt940_sample_gives_a_credit_and_a_returned_direct_debit():
    statement = parse_statement(DATA / "uk_mt940.sta")
    assert statement.format == "mt940"
    assert statement.account == "601613 31926819"
    assert (statement.opening_balance_pence, statement.closing_balance_pence) == (100000, 110050)
    credit, debit = statement.lines
    assert (credit.amount_pence, credit.bank_ref) == (12550, "BGC0001")
    assert credit.reference == "RENT 1234567890 J SMITH STANDING ORDER"
    assert (debit.amount_pence, debit.bank_ref) == (-2500, "DD0002")
    assert type(credit.booking_date) is dt.date


# -- hand-written UK statements -----------------------------------------------------------


def test_camt053_with_uk_references_reads_payer_bank_details_from_their_iban():
    statement = parse_statement(DATA / "uk_rents_camt053.xml")
    assert statement.period_from == statement.period_to == APRIL_7
    so, uc, returned = statement.lines
    assert so.reference == "RENT 0010 1995C"
    assert (so.payer_name, so.payer_sort_code, so.payer_account) == (
        "MRS A O'NEIL",
        "202015",
        "55555555",
    )
    assert uc.reference == "UC 00102392F APR 2026"  # every <Ustrd>, joined
    assert uc.booking_date == APRIL_7  # from a <DtTm>
    assert uc.bank_ref == "BGC2604070002/UC2604070002"
    assert returned.amount_pence == -2700
    assert returned.reference == "RETURNED PAYMENT HSG 00101106E"


def test_mt940_with_structured_86_reads_the_payer_and_free_text_keeps_the_narrative():
    statement = parse_statement(DATA / "uk_rents_mt940.sta")
    so, uc, returned = statement.lines
    assert so.reference == "RENT 0010 1995C MRS A ONEIL"
    assert so.payer_name is None
    assert (uc.reference, uc.payer_name, uc.payer_sort_code, uc.payer_account) == (
        "UC 00102392F APR 2026",
        "DWP UC HOUSING",
        "089250",
        "10004513",
    )
    assert returned.amount_pence == -2700
    assert sum(line.amount_pence for line in statement.lines) == 63195


def test_mt940_blocks_for_several_days_make_one_statement_when_balances_chain():
    day_two = (
        ":20:ST2\n:25:60161331926819\n:28C:2/1\n:60F:C260407GBP110,00\n"
        ":61:2604080408C5,00NTRFNONREF//B2\n:86:RENT 00001234C\n:62F:C260408GBP115,00\n-\n"
    )
    data = _mt940(":61:2604070407C10,00NTRFNONREF//B1\n:86:RENT 12345678I\n") + day_two.encode()
    statement = parse_statement(data)
    assert [line.bank_ref for line in statement.lines] == ["B1", "B2"]
    assert (statement.opening_balance_pence, statement.closing_balance_pence) == (10000, 11500)
    assert statement.statement_id == "ST1+ST2"


def test_csv_with_the_default_mapping_reads_date_description_amount_balance():
    data = (
        b"Date,Description,Amount,Balance\n"
        b"07/04/2026,RENT 12345678I,127.27,1127.27\n"
        b'08/04/2026,"BANK CHARGE, APRIL",-2.50,1124.77\n'
    )
    statement = parse_statement(data, account="601613 31926819")
    assert statement.format == "csv"
    assert [line.amount_pence for line in statement.lines] == [12727, -250]
    assert (statement.opening_balance_pence, statement.closing_balance_pence) == (100000, 112477)
    assert statement.lines[1].reference == "BANK CHARGE, APRIL"


def test_csv_newest_first_is_put_in_booking_order():
    data = (
        b"Date,Description,Amount,Balance\n"
        b"08/04/2026,SECOND,5.00,115.00\n"
        b"07/04/2026,FIRST,10.00,110.00\n"
    )
    statement = parse_statement(data, account="x")
    assert [line.reference for line in statement.lines] == ["FIRST", "SECOND"]
    assert statement.opening_balance_pence == 10000


def test_csv_with_a_toml_mapping_of_debit_and_credit_columns():
    mapping = CsvMapping.from_toml(
        """
        [bank]
        date = "Posting Date"
        date_format = "%Y-%m-%d"
        debit = "Paid out"
        credit = "Paid in"
        reference = "Reference"
        payer_name = "Counterparty"
        payer_sort_code = "Sort code"
        payer_account = "Account"
        balance = ""
        account = "601613 31926819"
        delimiter = ";"
        """,
        table="bank",
    )
    data = (
        "Posting Date;Reference;Counterparty;Sort code;Account;Paid in;Paid out\n"
        "2026-04-07;HSG 0010 1995 C;MRS A O'NEIL;20-20-15;55555555;£1,127.27;\n"
        "2026-04-07;RETURN;;;;;27.00\n"
    ).encode()
    statement = parse_statement(data, format="csv", csv_mapping=mapping)
    credit, debit = statement.lines
    assert credit.amount_pence == 112727
    assert (credit.payer_name, credit.payer_sort_code, credit.payer_account) == (
        "MRS A O'NEIL",
        "202015",
        "55555555",
    )
    assert debit.amount_pence == -2700
    assert statement.opening_balance_pence is None


def test_format_is_told_from_the_content():
    assert parse_statement((DATA / "uk_camt053.xml").read_bytes()).format == "camt.053"
    assert parse_statement((DATA / "uk_mt940.sta").read_bytes()).format == "mt940"
    csv = b"Date,Description,Amount,Balance\n07/04/2026,RENT,1.00,1.00\n"
    assert parse_statement(csv, account="x").format == "csv"
    for other in (b"<html><body>statement</body></html>", b"hello"):
        with pytest.raises(StatementError, match="not a statement format"):
            parse_statement(other)


def test_amounts_are_exact_pence():
    data = _camt(_entry("0.10") + _entry("0.20", ref="E2"), opening="0.00", closing="0.30")
    assert [line.amount_pence for line in parse_statement(data).lines] == [10, 20]


# -- all or nothing -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (_camt(_entry())[:-60], "not well-formed XML"),
        (b"<Document><broken>", "not well-formed XML"),
        (b"\x00\x01 binary", "not a statement format"),
        (b"", "empty"),
        (
            b'<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.02"/>',
            "not a statement format",
        ),
        (_camt(_entry(amount="")), "entry 1 (E1): no amount"),
        (_camt(_entry(booked="")), "entry 1 (E1): no booking date"),
        (_camt(_entry(booked="07/04/2026")), "is not a date"),
        (_camt(_entry(ccy="EUR")), "currency EUR"),
        (_camt(_entry(), ccy="EUR"), "account is in EUR"),
        (_camt(_entry("10.005"), closing="110.005"), "fractions of a penny"),
        (_camt(_entry("10.00"), closing="120.00"), "balances do not reconcile"),
        (
            _mt940(":61:2604070407C10,00NTRFNONREF//B1\n", closing="C260407GBP99,00"),
            "do not reconcile",
        ),
        (
            _mt940(":61:26XX070407C10,00NTRFNONREF//B1\n"),
            "line 5: the :61: statement line '26XX070407C10,00NTRFNONREF//B1' does not follow",
        ),
        (
            _mt940(
                ":61:2604070407C10,00NTRF//B1\n",
                opening="C260406EUR100,00",
                closing="C260407EUR110,00",
            ),
            "EUR",
        ),
        (b"Date,Description,Amount,Balance\n07/04/2026,RENT,,\n", "row 2: no amount"),
        (b"Date,Description,Amount,Balance\n,RENT,1.00,\n", "row 2: no booking date"),
        (b"Date,Description,Amount,Balance\n2026-04-07,RENT,1.00,\n", "not in the format"),
        (
            b"Date,Description,Amount,Balance\n07/04/2026,RENT,ten,\n",
            "row 2: 'ten' is not an amount",
        ),
        (
            b"Date,Description,Amount,Balance\n07/04/2026,A,1.00,11.00\n08/04/2026,B,1.00,13.00\n",
            "row 3: balance 13.00 is not the previous balance",
        ),
    ],
)
def test_a_bad_file_is_rejected_whole_with_a_message_naming_it(data, message):
    with pytest.raises(StatementError) as error:
        parse_statement(data, name="bad-file", account="601613 31926819")
    assert str(error.value).startswith("bad-file: ")
    assert message in str(error.value)


def test_camt053_with_two_statements_is_rejected():
    single = _camt(_entry())
    stmt = single[single.index(b"<Stmt>") : single.index(b"</Stmt>") + 7]
    double = single.replace(stmt, stmt + stmt)
    with pytest.raises(StatementError, match="holds 2 statements"):
        parse_statement(double)


def test_mt940_blocks_whose_balances_do_not_chain_are_rejected():
    day_two = ":20:ST2\n:25:60161331926819\n:60F:C260407GBP999,00\n:62F:C260408GBP999,00\n-\n"
    data = _mt940(":61:2604070407C10,00NTRFNONREF//B1\n") + day_two.encode()
    with pytest.raises(StatementError, match="is not the previous block's closing"):
        parse_statement(data)


def test_csv_without_an_account_is_rejected():
    with pytest.raises(StatementError, match="which account"):
        parse_statement(b"Date,Description,Amount,Balance\n07/04/2026,RENT,1.00,\n")


def test_any_currency_is_accepted_when_none_is_required():
    statement = parse_statement(_camt(_entry(ccy="EUR"), ccy="EUR"), currency=None)
    assert statement.lines[0].currency == "EUR"


def test_a_missing_file_is_a_statement_error():
    with pytest.raises(StatementError, match="cannot be read"):
        parse_statement(DATA / "no-such-file.xml")


def test_csv_an_impossible_date_is_called_that_not_a_wrong_format():
    data = b"Date,Description,Amount,Balance\n31/02/2026,RENT 00000001X,10.00,10.00\n"
    with pytest.raises(StatementError) as caught:
        parse_statement(data, format="csv", account="601613 31926819", name="feb.csv")
    assert "date '31/02/2026' is not a real date" in str(caught.value)
