"""SWIFT MT940 statements, read with ``mt-940`` (the ``mt940`` package).

UK banks put the payer's words in the free-text ``:86:`` narrative, which becomes the line's
``reference``; the payer's name and bank details are only read when ``:86:`` is structured into
``?NN`` sub-fields (``?20``–``?29`` remittance, ``?30`` sort code, ``?31`` account, ``?32`` name).
A file holding several statement blocks (one ``:20:`` each, often one per day) is one statement
when the blocks are for one account and each block's opening balance is the previous closing.
"""

from __future__ import annotations

import decimal

import mt940

from .models import RawLine, Statement, StatementError, build_statement, clean_bank_ref

OPTIONS = mt940.Options(
    applicant_iban=True,  # ?31 is the payer's account, ?32 their name
    merge_keeps_values=True,
    reversal_sign=True,  # RC (reversal of a credit) takes money out
    case_insensitive_marks=True,
    strip_bom=True,
)


def _balance(block, *keys):
    for key in keys:
        balance = block.data.get(key)
        if balance is not None:
            return balance
    return None


def _account(text: str | None) -> str | None:
    if not text:
        return None
    compact = text.replace(" ", "").replace("-", "")
    if compact.isdigit() and len(compact) == 14:  # UK sort code + account number
        return f"{compact[:6]} {compact[6:]}"
    return text.strip()


def parse_mt940(data: bytes, *, source: str, currency: str | None = "GBP") -> Statement:
    try:
        blocks = mt940.parse_statements(data, options=OPTIONS)
    except (RuntimeError, ValueError, KeyError, TypeError, decimal.InvalidOperation) as exc:
        detail = exc.args[0] if exc.args else repr(exc)
        raise StatementError(f"{source}: not a readable MT940 statement: {detail}") from None
    blocks = [block for block in blocks if block.data or len(block)]
    if not blocks:
        raise StatementError(f"{source}: no MT940 statement in the file")

    accounts = {_account(block.data.get("account_identification")) for block in blocks}
    if len(accounts) != 1 or None in accounts:
        raise StatementError(
            f"{source}: statement blocks are for {len(accounts)} accounts "
            f"({', '.join(sorted(str(a) for a in accounts))}); import one account per file"
        )
    raw_lines: list[RawLine] = []
    previous_closing = None
    opening = closing = None
    for number, block in enumerate(blocks, start=1):
        label = f"statement block {number} (:20: {block.data.get('transaction_reference')})"
        block_opening = _balance(block, "final_opening_balance", "opening_balance")
        block_closing = _balance(block, "final_closing_balance", "closing_balance")
        for balance in (block_opening, block_closing):
            if balance is not None and currency and balance.amount.currency != currency:
                raise StatementError(
                    f"{source}: {label}: balance in {balance.amount.currency}, "
                    f"but only {currency} is accepted"
                )
        if previous_closing is not None and block_opening is not None:
            if block_opening.amount.amount != previous_closing.amount.amount:
                raise StatementError(
                    f"{source}: {label}: opening balance {block_opening.amount.amount} is not "
                    f"the previous block's closing balance {previous_closing.amount.amount}"
                )
        if number == 1 and block_opening is not None:
            opening = block_opening.amount.amount
        block_lines = []
        for index, tx in enumerate(block, start=1):
            data = tx.data
            bank_ref = data.get("bank_reference")
            where = f"{label}, :61: entry {index}" + (f" ({bank_ref})" if bank_ref else "")
            amount = data.get("amount")
            booking = data.get("entry_date") or data.get("date")
            block_lines.append(
                RawLine(
                    where=where,
                    booking_date=booking,
                    value_date=data.get("date"),
                    amount=None if amount is None else amount.amount,
                    currency=(amount.currency if amount is not None else None) or None,
                    reference=data.get("purpose")
                    or data.get("transaction_details")
                    or clean_bank_ref(data.get("customer_reference")),
                    payer_name=data.get("applicant_name"),
                    payer_sort_code=data.get("applicant_bin"),
                    payer_account=data.get("applicant_iban"),
                    bank_tx_code=data.get("id"),
                    bank_ref=bank_ref,
                )
            )
        if block_opening is not None and block_closing is not None:
            total = sum(
                (line.amount for line in block_lines if line.amount is not None),
                decimal.Decimal(0),
            )
            if block_opening.amount.amount + total != block_closing.amount.amount:
                raise StatementError(
                    f"{source}: {label}: balances do not reconcile: opening "
                    f"{block_opening.amount.amount} + lines {total} != closing "
                    f"{block_closing.amount.amount}"
                )
        raw_lines.extend(block_lines)
        previous_closing = block_closing or previous_closing
        closing = block_closing.amount.amount if block_closing is not None else None

    first, last = blocks[0], blocks[-1]
    first_opening = _balance(first, "final_opening_balance", "opening_balance")
    last_closing = _balance(last, "final_closing_balance", "closing_balance")
    return build_statement(
        source=source,
        format="mt940",
        account=accounts.pop(),
        statement_id="+".join(
            str(block.data.get("transaction_reference") or "") for block in blocks
        ),
        # :60F: is dated the previous closing day, so the period starts at the first line.
        period_from=None if raw_lines or first_opening is None else first_opening.date,
        period_to=last_closing.date if last_closing is not None else None,
        opening=opening,
        closing=closing,
        raw_lines=raw_lines,
        currency=currency,
    )
