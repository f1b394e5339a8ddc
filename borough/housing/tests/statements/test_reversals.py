"""Entries the bank marks as reversals (camt.053 ``<RvslInd>true``, MT940 ``RD``/``RC``): a
credit that undoes a payment out is nobody's rent, whatever reference it carries, and a debit
that takes a payment back is named to the officer who imports the statement."""

from __future__ import annotations

import datetime as dt

import pytest

from borough.housing import statement_import
from borough.housing.models import BankLine, LedgerEntry, RentAccount
from borough.housing.statements import parse_statement

ACCOUNT = "08999966374958"  # the profile's rent account


def _mt940(reference: str) -> bytes:
    return (
        ":20:REV1\n"
        f":25:{ACCOUNT}\n"
        ":28C:1/1\n"
        ":60F:C260406GBP100,00\n"
        ":61:2604070407C10,00NTRF//PAID1\n"
        f":86:{reference}\n"
        ":61:2604070407RD10,00NTRF//BACK1\n"
        f":86:{reference}\n"
        ":61:2604080408RC25,50NTRF//TAKEN1\n"
        f":86:RECALL {reference}\n"
        ":62F:C260408GBP94,50\n"
        "-\n"
    ).encode()


def _camt(reference: str, reversal: str) -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt>
<GrpHdr><MsgId>M1</MsgId><CreDtTm>2026-04-08T09:00:00</CreDtTm></GrpHdr>
<Stmt><Id>S1</Id><Acct><Id><Othr><Id>{ACCOUNT}</Id></Othr></Id><Ccy>GBP</Ccy></Acct>
<Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="GBP">0.00</Amt>
<CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-04-06</Dt></Dt></Bal>
<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="GBP">10.00</Amt>
<CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-04-07</Dt></Dt></Bal>
<Ntry><Amt Ccy="GBP">10.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><RvslInd>{reversal}</RvslInd>
<Sts>BOOK</Sts><BookgDt><Dt>2026-04-07</Dt></BookgDt><ValDt><Dt>2026-04-07</Dt></ValDt>
<AcctSvcrRef>E1</AcctSvcrRef>
<NtryDtls><TxDtls><RmtInf><Ustrd>{reference}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>
</Stmt></BkToCstmrStmt></Document>""".encode()


def test_the_parsers_read_the_banks_reversal_marks():
    lines = parse_statement(_mt940("ANY"), name="rev.sta").lines
    assert [(line.amount_pence, line.reversal) for line in lines] == [
        (1000, False),
        (1000, True),
        (-2550, True),
    ]
    for reversal, expected in (("true", True), ("false", False)):
        (line,) = parse_statement(_camt("ANY", reversal), name="rev.xml").lines
        assert line.reversal is expected


def test_the_reversal_mark_does_not_change_a_lines_hash():
    # a statement imported before the mark was read is still recognised
    reversed_, plain = (
        parse_statement(_camt("ANY", mark), name="rev.xml").lines[0] for mark in ("true", "false")
    )
    assert reversed_.line_hash == plain.line_hash


@pytest.mark.parametrize("file_format", ["mt940", "camt053"])
def test_a_reversed_debit_quoting_a_tenants_reference_is_not_posted_as_their_rent(
    borough, file_format
):
    made, ids = borough
    account = RentAccount.objects.get(pk=ids[made.accounts[0].account_id])
    reference = account.payment_reference
    data = _mt940(reference) if file_format == "mt940" else _camt(reference, "true")
    result = statement_import.import_statement(data, file_name=f"rev.{file_format}")
    reversals = BankLine.objects.filter(method="reversal")
    assert reversals.count() == 1
    line = reversals.get()
    assert line.outcome == BankLine.Outcome.SUSPENSE
    assert "reversal of an earlier payment out" in line.reason
    assert not LedgerEntry.objects.filter(source_key=f"statement:{line.line_hash}").exists()
    if file_format == "mt940":
        # the ordinary credit with the same reference is the tenant's payment
        assert result.posted == 1
        assert account.entries.filter(amount_pence=-1000, posted_on=dt.date(2026, 4, 7)).exists()


def test_a_payment_the_bank_took_back_is_named_in_the_imports_message(borough):
    made, ids = borough
    reference = RentAccount.objects.get(pk=ids[made.accounts[0].account_id]).payment_reference
    result = statement_import.import_statement(_mt940(reference), file_name="rev.sta")
    assert result.taken_back == (f"8 April 2026, £25.50 (RECALL {reference})",)
    assert "The bank took back 1 earlier payment into the account (reversals)" in result.summary()
    assert f"8 April 2026, £25.50 (RECALL {reference})" in result.summary()


def test_finance_reads_a_reversal_in_words_never_as_matched_automatically():
    from borough.housing.finance_views import how_matched

    line = BankLine(outcome=BankLine.Outcome.SUSPENSE, method="reversal")
    assert how_matched(line) == "Marked by the bank as a reversal, not a payment"
    # a method the page has no words for is never called a match unless it was posted
    assert how_matched(BankLine(outcome=BankLine.Outcome.SUSPENSE, method="new")) == "Not matched"
    assert how_matched(BankLine(outcome=BankLine.Outcome.POSTED, method="new")).startswith(
        "Matched automatically"
    )
