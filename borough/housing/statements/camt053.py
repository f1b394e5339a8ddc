"""ISO 20022 camt.053 (bank-to-customer statement), read with ``pycamt``."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from lxml import etree
from pycamt.parser import Camt053ParseError, Camt053Parser

from .models import (
    RawLine,
    Statement,
    StatementError,
    build_statement,
    clean_bank_ref,
    sort_code_and_account_from_iban,
)

NAMESPACE_MARK = "camt.053"


def _date(text: str | None, *, source: str, where: str) -> dt.date | None:
    if not text:
        return None
    try:
        # <Dt> is a date, <DtTm> a date and time; the booking day is what matters.
        return dt.date.fromisoformat(text.strip()[:10])
    except ValueError:
        raise StatementError(f"{source}: {where}: date {text!r} is not a date") from None


def _balance(text: str | None) -> Decimal | None:
    # pycamt signs a debit balance by way of float ("-12.5"); a balance has at most 15
    # significant digits, so the shortest float repr is the exact decimal the bank sent.
    if text is None:
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def _text(tree, path: str, namespaces) -> str | None:
    found = tree.find(path, namespaces)
    return found.text.strip() if found is not None and found.text else None


def parse_camt053(data: bytes, *, source: str, currency: str | None = "GBP") -> Statement:
    try:
        parser = Camt053Parser(data)  # bytes: pycamt refuses a str with an XML declaration
    except (etree.XMLSyntaxError, ValueError) as exc:
        raise StatementError(f"{source}: not well-formed XML: {exc}") from None
    if NAMESPACE_MARK not in (parser.tree.tag or ""):
        raise StatementError(f"{source}: XML, but not a camt.053 statement ({parser.tree.tag})")
    try:
        infos = parser.get_statement_info()
        transactions = parser.get_transactions()
    except (Camt053ParseError, AttributeError, ValueError) as exc:
        raise StatementError(f"{source}: not a readable camt.053 statement: {exc!r}") from None
    if len(infos) != 1:
        raise StatementError(
            f"{source}: holds {len(infos)} statements; import one statement (one <Stmt>) per file"
        )
    info = infos[0]
    ns = parser.namespaces
    statement_currency = (info.get("Currency") or "").upper() or None
    if currency and statement_currency and statement_currency != currency:
        raise StatementError(
            f"{source}: the account is in {statement_currency}, but only {currency} is accepted"
        )
    for label, key in (("opening", "OpeningBalance"), ("closing", "ClosingBalance")):
        if info.get(key) is not None and _balance(info[key]) is None:
            raise StatementError(f"{source}: {label} balance {info[key]!r} is not a number")

    raw_lines = []
    for number, tx in enumerate(transactions, start=1):
        refs = [clean_bank_ref(tx.get("TransactionID")), clean_bank_ref(tx.get("EndToEndId"))]
        bank_ref = "/".join(ref for ref in refs if ref) or None
        where = f"entry {number}" + (f" ({bank_ref})" if bank_ref else "")
        status = tx.get("Status")
        if status not in (None, "BOOK"):
            raise StatementError(f"{source}: {where}: status {status}, not a booked entry")
        indicator = tx.get("CreditDebitIndicator")
        amount = tx.get("Amount")
        if amount is not None:
            if indicator not in ("CRDT", "DBIT"):
                raise StatementError(f"{source}: {where}: no credit/debit indicator")
            try:
                value = Decimal(amount.strip())
            except InvalidOperation:
                raise StatementError(
                    f"{source}: {where}: amount {amount!r} is not a number"
                ) from None
            amount = -value if indicator == "DBIT" else value
        sort_code, account_number = sort_code_and_account_from_iban(tx.get("DebtorIBAN"))
        codes = [
            tx.get(key)
            for key in ("BankTransactionCode", "TransactionFamilyCode", "TransactionSubFamilyCode")
        ]
        raw_lines.append(
            RawLine(
                where=where,
                booking_date=_date(tx.get("BookingDate"), source=source, where=where),
                value_date=_date(tx.get("ValueDate"), source=source, where=where),
                amount=amount,
                currency=tx.get("Currency") or statement_currency,
                reference=tx.get("RemittanceInformationFull")
                or tx.get("RemittanceInformation")
                or tx.get("AdditionalEntryInformation"),
                payer_name=tx.get("DebtorName"),
                payer_sort_code=sort_code,
                payer_account=account_number,
                bank_tx_code="/".join(code for code in codes if code) or None,
                bank_ref=bank_ref,
            )
        )

    account = info.get("IBAN") or _text(parser.tree, ".//Stmt/Acct/Id/Othr/Id", ns)
    return build_statement(
        source=source,
        format="camt.053",
        account=account,
        statement_id=_text(parser.tree, ".//Stmt/Id", ns),
        period_from=_date(
            _text(parser.tree, ".//Stmt/FrToDt/FrDtTm", ns), source=source, where="period"
        ),
        period_to=_date(
            _text(parser.tree, ".//Stmt/FrToDt/ToDtTm", ns), source=source, where="period"
        ),
        opening=_balance(info.get("OpeningBalance")),
        closing=_balance(info.get("ClosingBalance")),
        raw_lines=raw_lines,
        currency=currency,
    )
