"""Bank CSV exports, read with the stdlib ``csv`` module and a declared column mapping.

Banks' CSV exports differ, so each council declares its columns once (a dict, or a TOML table —
see ``docs/bank-statements.md``). :data:`DEFAULT_CSV_MAPPING` reads the simplest export,
``Date,Description,Amount,Balance`` with UK dates (31/01/2026).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import tomllib
from dataclasses import dataclass, fields
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from .models import RawLine, Statement, StatementError, build_statement


@dataclass(frozen=True)
class CsvMapping:
    """Which column holds what. Give ``amount`` (signed, credits positive) *or* ``debit`` and
    ``credit`` (both unsigned). Optional columns left as ``None`` are not read."""

    date: str = "Date"
    date_format: str = "%d/%m/%Y"
    amount: str | None = "Amount"
    debit: str | None = None
    credit: str | None = None
    reference: str = "Description"
    payer_name: str | None = None
    balance: str | None = "Balance"
    value_date: str | None = None
    payer_sort_code: str | None = None
    payer_account: str | None = None
    bank_ref: str | None = None
    bank_tx_code: str | None = None
    currency_column: str | None = None
    currency: str = "GBP"
    account: str = ""
    delimiter: str = ","
    encoding: str = "utf-8-sig"

    def __post_init__(self) -> None:
        if bool(self.amount) == bool(self.debit or self.credit):
            raise ValueError("a CSV mapping gives either 'amount' or 'debit' and 'credit'")
        if not self.amount and not (self.debit and self.credit):
            raise ValueError("a CSV mapping with debit/credit columns needs both")

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> CsvMapping:
        known = {f.name for f in fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"unknown CSV mapping keys: {', '.join(sorted(unknown))}")
        if "debit" in values and "amount" not in values:
            values = {**values, "amount": None}
        return cls(**values)

    @classmethod
    def from_toml(cls, source: str | Path, table: str | None = None) -> CsvMapping:
        """Read a mapping from TOML text or a ``.toml`` file, optionally from one ``[table]``."""
        text = Path(source).read_text() if isinstance(source, Path) else source
        values = tomllib.loads(text)
        if table:
            values = values[table]
        return cls.from_dict(values)

    def required_columns(self) -> list[str]:
        money = [self.amount] if self.amount else [self.debit, self.credit]
        return [self.date, self.reference, *money]  # type: ignore[list-item]


DEFAULT_CSV_MAPPING = CsvMapping()


def _money(text: str | None) -> Decimal | None:
    if text is None:
        return None
    text = text.strip().replace("£", "").replace(",", "")
    if not text:
        return None
    negative = text.startswith("(") and text.endswith(")")
    try:
        value = Decimal(text.strip("()"))
    except InvalidOperation:
        raise ValueError(text) from None
    return -value if negative else value


def looks_like_csv(text: str, mapping: CsvMapping) -> bool:
    header = next(csv.reader(io.StringIO(text), delimiter=mapping.delimiter), [])
    header = [name.strip() for name in header]
    return mapping.date in header and (
        (mapping.amount in header) if mapping.amount else (mapping.debit in header)
    )


def parse_csv(
    data: bytes,
    *,
    source: str,
    mapping: CsvMapping = DEFAULT_CSV_MAPPING,
    account: str | None = None,
    currency: str | None = "GBP",
) -> Statement:
    try:
        text = data.decode(mapping.encoding)
    except UnicodeDecodeError as exc:
        raise StatementError(f"{source}: not {mapping.encoding} text: {exc}") from None
    reader = csv.DictReader(io.StringIO(text), delimiter=mapping.delimiter)
    header = [name.strip() for name in reader.fieldnames or []]
    missing = [name for name in mapping.required_columns() if name not in header]
    if missing:
        raise StatementError(f"{source}: the CSV header has no column {', '.join(missing)}")
    reader.fieldnames = header

    def cell(row: dict, column: str | None) -> str | None:
        if not column:
            return None
        value = row.get(column)
        return value.strip() if isinstance(value, str) else None

    def date(row: dict, column: str | None, where: str) -> dt.date | None:
        value = cell(row, column)
        if not value:
            return None
        try:
            return dt.datetime.strptime(value, mapping.date_format).date()
        except ValueError:
            raise StatementError(
                f"{source}: {where}: date {value!r} is not in the format {mapping.date_format}"
            ) from None

    rows: list[tuple[RawLine, Decimal | None]] = []
    for row_number, row in enumerate(reader, start=2):
        if not any((value or "").strip() for value in row.values() if isinstance(value, str)):
            continue
        where = f"row {row_number}"
        try:
            if mapping.amount:
                amount = _money(cell(row, mapping.amount))
            else:
                debit = _money(cell(row, mapping.debit))
                credit = _money(cell(row, mapping.credit))
                amount = (
                    None
                    if debit is None and credit is None
                    else (credit or Decimal(0)) - abs(debit or Decimal(0))
                )
            balance = _money(cell(row, mapping.balance))
        except ValueError as exc:
            raise StatementError(f"{source}: {where}: {exc.args[0]!r} is not an amount") from None
        rows.append(
            (
                RawLine(
                    where=where,
                    booking_date=date(row, mapping.date, where),
                    value_date=date(row, mapping.value_date, where),
                    amount=amount,
                    currency=cell(row, mapping.currency_column) or mapping.currency,
                    reference=cell(row, mapping.reference),
                    payer_name=cell(row, mapping.payer_name),
                    payer_sort_code=cell(row, mapping.payer_sort_code),
                    payer_account=cell(row, mapping.payer_account),
                    bank_tx_code=cell(row, mapping.bank_tx_code),
                    bank_ref=cell(row, mapping.bank_ref),
                ),
                balance,
            )
        )

    # Many banks export newest first; put the lines in the order they were booked.
    dates = [raw.booking_date for raw, _ in rows if raw.booking_date]
    if len(dates) > 1 and dates[0] > dates[-1]:
        rows.reverse()
    try:
        opening, closing = _running_balances(rows, source)
    except StatementError as in_date_order:
        # All on one day: the dates cannot say which way round the rows are.
        if not dates or dates[0] != dates[-1]:
            raise
        try:
            opening, closing = _running_balances(rows[::-1], source)
        except StatementError:
            raise in_date_order from None
        rows.reverse()
    return build_statement(
        source=source,
        format="csv",
        account=account or mapping.account,
        statement_id="",
        period_from=None,
        period_to=None,
        opening=opening,
        closing=closing,
        raw_lines=[raw for raw, _ in rows],
        currency=currency,
    )


def _running_balances(
    rows: list[tuple[RawLine, Decimal | None]], source: str
) -> tuple[Decimal | None, Decimal | None]:
    """Check the balance column row by row; return the opening and closing balances it implies.

    Rows without a balance are allowed (some banks print it once a day); each balance given
    must equal the previous one plus the amounts in between.
    """
    opening = last = None
    pending = Decimal(0)
    for raw, balance in rows:
        if raw.amount is None:
            continue  # build_statement reports it, naming the row
        pending += Decimal(raw.amount)
        if balance is None:
            continue
        if last is None:
            opening = balance - pending
        elif last + pending != balance:
            raise StatementError(
                f"{source}: {raw.where}: balance {balance} is not the previous balance "
                f"{last} plus the amounts since ({pending})"
            )
        last, pending = balance, Decimal(0)
    if last is None:
        return None, None
    closing = last if pending == 0 else None
    return opening, closing
