"""SWIFT MT940 statements, read line by line in one pass.

Each tag's text is matched with the grammar the ``mt-940`` package keeps for it (the ``:61:``
statement line and the balances), but not through its whole-file parser: that one builds every
tag's objects and logs dozens of lines for one bad tag. Here a tag that does not follow the
layout is one :class:`StatementError` naming the file's line.

UK banks put the payer's words in the free-text ``:86:`` narrative, which becomes the line's
``reference``; the payer's name and bank details are only read when ``:86:`` is structured into
``?NN`` sub-fields (``?20``–``?29`` remittance, joined; ``?30`` sort code, ``?31`` account,
``?32``/``?33`` name). A file holding several statement blocks (one ``:20:`` each, often one per
day, or one per page with ``:60M:``/``:62M:``) is one statement when the blocks are for one
account and each block's opening balance is the previous closing. Every block must end with its
closing balance (``:62F:`` or ``:62M:``): a file without one has been cut short.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal

import mt940.tags

from .models import RawLine, Statement, StatementBuilder, StatementError, clean_bank_ref
from .source import Opened

_LINE_RE = mt940.tags.Statement().re  # the :61: grammar
_BALANCE_RE = mt940.tags.BalanceBase().re  # :60F:, :60M:, :62F:, :62M:
_TAG = re.compile(r"^:(?P<tag>[0-9]{2}[A-Z]?|NS):(?P<value>.*)$")
_STRUCTURED = re.compile(r"^\d{3}\?\d{2}")
_SUBFIELD = re.compile(r"\?(\d{2})")
_ENVELOPE = ("{1:", "{2:", "{3:", "{4:", "{5:", "-}")
#: An entry date this many days from the value date is in the next (or previous) year.
_YEAR_BOUNDARY_DAYS = 330


def _account(text: str | None) -> str | None:
    if not text:
        return None
    compact = text.replace(" ", "").replace("-", "")
    if compact.isdigit() and len(compact) == 14:  # UK sort code + account number
        return f"{compact[:6]} {compact[6:]}"
    return text.strip()


@dataclass
class _Balance:
    amount: Decimal
    currency: str
    date: dt.date


@dataclass
class _Block:
    number: int
    reference: str
    account: str | None = None
    opening: _Balance | None = None
    closing: _Balance | None = None
    lines: int = 0
    total: Decimal = Decimal(0)

    @property
    def label(self) -> str:
        return f"statement block {self.number} (:20: {self.reference})"


@dataclass
class _Pending:
    """A ``:61:`` line waiting for its ``:86:``."""

    where: str
    booking: dt.date
    value: dt.date
    amount: Decimal
    currency: str
    customer_reference: str | None
    bank_reference: str | None
    code: str | None
    reversal: bool = False
    details: list[str] = field(default_factory=list)


def _date(year: str, month: str, day: str) -> dt.date:
    return dt.date(2000 + int(year), int(month), int(day))


def _details(lines: list[str]) -> dict[str, str | None]:
    """``:86:`` as reference, payer name, sort code and account (see the module's rules)."""
    text = "\n".join(lines).strip()
    joined = "".join(line.strip("\r\n") for line in text.splitlines())
    if not _STRUCTURED.match(joined):
        return {"reference": text or None}
    parts = _SUBFIELD.split(joined)  # [code, "20", text, "30", text, ...]
    fields: dict[str, list[str]] = {}
    for key, value in zip(parts[1::2], parts[2::2], strict=True):
        if key.startswith("2"):
            for label in (" BIC", " IBAN"):  # banks' dangling labels with no value
                if value.endswith(label):
                    value = value.removesuffix(label).rstrip()
                    break
            fields.setdefault("reference", []).append(value)
        elif key in ("30", "31"):
            fields.setdefault(key, []).append(value)
        elif key in ("32", "33"):
            fields.setdefault("name", []).append(value)
    return {
        "reference": "".join(fields.get("reference", [])) or None,
        "payer_name": "".join(fields.get("name", [])) or None,
        "payer_sort_code": "".join(fields.get("30", [])) or None,
        "payer_account": "".join(fields.get("31", [])) or None,
    }


class _Reader:
    def __init__(self, opened: Opened, currency: str | None) -> None:
        self.source = opened.source
        self.required = currency
        self.builder = StatementBuilder(source=opened.source, format="mt940", currency=currency)
        self.blocks: list[_Block] = []
        self.block: _Block | None = None
        self.pending: _Pending | None = None
        self.line = 0

    def error(self, problem: str) -> StatementError:
        return StatementError(f"{self.source}: line {self.line}: {problem}")

    # -- tags ------------------------------------------------------------------------------

    def tag(self, tag: str, value: str) -> None:
        if tag == "20":
            self.close_block(end_of_file=False)
            self.block = _Block(len(self.blocks) + 1, value.strip())
            self.blocks.append(self.block)
            return
        block = self.block
        if block is None:
            if tag in ("NS", "86"):
                return  # notes before the first statement
            raise self.error(f":{tag}: before the statement's :20: reference")
        if tag == "25":
            block.account = _account(value.split("\n", 1)[0])
            first = self.blocks[0].account
            if block.account != first and first is not None:
                raise StatementError(
                    f"{self.source}: {block.label} is for account {block.account}, but the first "
                    f"block is for {first}; import one account per file"
                )
        elif tag in ("60F", "60M", "60"):
            block.opening = self.balance(tag, value)
            self.check_chain(block)
        elif tag == "61":
            self.flush()
            self.pending = self.statement_line(block, value)
        elif tag == "86":
            if self.pending is not None and not self.pending.details:
                self.pending.details = value.split("\n")
        elif tag in ("62F", "62M", "62"):
            self.flush()
            block.closing = self.balance(tag, value)
            self.check_block(block)

    def balance(self, tag: str, value: str) -> _Balance:
        match = _BALANCE_RE.match(value.strip())
        amount = match and match.group("amount").replace(",", ".")
        if not match or not amount or amount == ".":
            raise self.error(
                f"the :{tag}: balance {value.strip()!r} does not follow the MT940 layout "
                "(C or D, YYMMDD, currency, amount such as C260407GBP1234,56)"
            )
        try:
            date = _date(match.group("year"), match.group("month"), match.group("day"))
        except ValueError:
            raise self.error(
                f"the :{tag}: balance's date {value.strip()[1:7]} is not a date"
            ) from None
        currency = match.group("currency").upper()
        if self.required and currency != self.required:
            raise StatementError(
                f"{self.source}: {self.block.label if self.block else ''}: balance in {currency}, "
                f"but only {self.required} is accepted"
            )
        signed = Decimal(amount)
        debit = match.group("status").upper() == "D"
        return _Balance(-signed if debit else signed, currency, date)

    def statement_line(self, block: _Block, value: str) -> _Pending:
        match = _LINE_RE.match(value)
        if not match:
            raise self.error(
                f"the :61: statement line {value.splitlines()[0]!r} does not follow the MT940 "
                "layout (YYMMDD[MMDD]C|D amount type reference[//bank reference])"
            )
        parts = match.groupdict()
        block.lines += 1
        bank_ref = (parts.get("bank_reference") or "").strip() or None
        where = f"{block.label}, :61: entry {block.lines}" + (f" ({bank_ref})" if bank_ref else "")
        try:
            value_date = _date(parts["year"], parts["month"], parts["day"])
        except ValueError:
            raise self.error(f"{where}: value date {value[:6]} is not a date") from None
        booking = value_date
        month, day = (
            (parts.get("entry_month") or "").strip(),
            (parts.get("entry_day") or "").strip(),
        )
        if month and day:
            try:
                booking = dt.date(value_date.year, int(month), int(day))
            except ValueError:
                raise self.error(f"{where}: entry date {month}{day} is not a date") from None
            gap = (booking - value_date).days
            if gap <= -_YEAR_BOUNDARY_DAYS:
                booking = booking.replace(year=booking.year + 1)
            elif gap >= _YEAR_BOUNDARY_DAYS:
                booking = booking.replace(year=booking.year - 1)
        amount = parts["amount"].replace(",", ".")
        if amount in ("", "."):
            raise self.error(f"{where}: no amount")
        mark = parts["status"].upper()
        signed = Decimal(amount)
        if mark in ("D", "RC"):  # a reversal of a credit takes money out
            signed = -signed
        if block.opening is None:
            raise self.error(
                f"{block.label}: a :61: entry before any opening balance (:60F:); this is not a "
                "whole statement (an MT942 interim report has no balances): import the MT940"
            )
        block.total += signed
        return _Pending(
            where=where,
            booking=booking,
            value=value_date,
            amount=signed,
            currency=block.opening.currency,
            customer_reference=parts.get("customer_reference"),
            bank_reference=bank_ref,
            code=parts.get("id"),
            reversal=mark in ("RC", "RD"),
        )

    # -- checks ------------------------------------------------------------------------------

    def flush(self) -> None:
        pending, self.pending = self.pending, None
        if pending is None:
            return
        details = _details(pending.details)
        self.builder.add(
            RawLine(
                where=pending.where,
                booking_date=pending.booking,
                value_date=pending.value,
                amount=pending.amount,
                currency=pending.currency,
                reference=details.get("reference") or clean_bank_ref(pending.customer_reference),
                payer_name=details.get("payer_name"),
                payer_sort_code=details.get("payer_sort_code"),
                payer_account=details.get("payer_account"),
                bank_tx_code=pending.code,
                bank_ref=pending.bank_reference,
                reversal=pending.reversal,
            )
        )

    def check_chain(self, block: _Block) -> None:
        if block.number == 1 or block.opening is None:
            return
        previous = self.blocks[block.number - 2].closing
        if previous is not None and block.opening.amount != previous.amount:
            raise StatementError(
                f"{self.source}: {block.label}: opening balance {block.opening.amount} is not "
                f"the previous block's closing balance {previous.amount}"
            )

    def check_block(self, block: _Block) -> None:
        if block.opening is None or block.closing is None:
            return
        if block.opening.amount + block.total != block.closing.amount:
            raise StatementError(
                f"{self.source}: {block.label}: balances do not reconcile: opening "
                f"{block.opening.amount} + lines {block.total} != closing {block.closing.amount}"
            )

    def close_block(self, *, end_of_file: bool) -> None:
        self.flush()
        block = self.block
        if block is None:
            return
        if block.closing is None:
            cut = "the file ends" if end_of_file else "the next block starts"
            raise StatementError(
                f"{self.source}: {block.label}: no closing balance (:62F:) before {cut}; the "
                "file looks cut short: ask the bank for the whole statement"
            )

    def finish(self) -> Statement:
        self.close_block(end_of_file=True)
        blocks = self.blocks
        if not blocks:
            raise StatementError(f"{self.source}: no MT940 statement in the file")
        accounts = {block.account for block in blocks}
        if len(accounts) != 1 or None in accounts:
            raise StatementError(
                f"{self.source}: statement blocks are for {len(accounts)} accounts "
                f"({', '.join(sorted(str(a) for a in accounts))}); import one account per file"
            )
        first, last = blocks[0], blocks[-1]
        return self.builder.finish(
            account=accounts.pop(),
            statement_id="+".join(block.reference for block in blocks),
            # :60F: is dated the previous closing day, so the period starts at the first line.
            period_from=None if len(self.builder) or first.opening is None else first.opening.date,
            period_to=last.closing.date if last.closing is not None else None,
            opening=first.opening.amount if first.opening is not None else None,
            closing=last.closing.amount if last.closing is not None else None,
        )


def parse_mt940(opened: Opened, *, currency: str | None = "GBP") -> Statement:
    """Read one MT940 file in one pass (see the module's rules)."""
    reader = _Reader(opened, currency)
    tag: str | None = None
    value: list[str] = []
    for number, line in opened.text_lines():
        stripped = line.strip()
        found = _TAG.match(stripped)
        # A tag's text runs to the next tag, to the end of a message ("-") or to a SWIFT
        # envelope line; lines outside any tag are a bank's headers between messages.
        ends = stripped.startswith(_ENVELOPE) or (stripped.startswith("-") and len(stripped) <= 4)
        if found or ends:
            if tag is not None:
                reader.tag(tag, "\n".join(value))
            tag, value = None, []
            if found:
                reader.line = number
                tag, value = found.group("tag"), [found.group("value")]
        elif tag is not None and stripped:
            value.append(line.rstrip())
    if tag is not None:
        reader.tag(tag, "\n".join(value))
    opened.report(force=True)
    return reader.finish()
