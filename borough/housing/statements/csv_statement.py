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
from .source import Opened

#: The mapping's keys that name a column, in the words a message uses for them.
COLUMNS = {
    "date": "booking date",
    "amount": "amount",
    "debit": "money out",
    "credit": "money in",
    "reference": "reference",
    "payer_name": "payer's name",
    "balance": "balance",
    "value_date": "value date",
    "payer_sort_code": "payer's sort code",
    "payer_account": "payer's account",
    "bank_ref": "bank reference",
    "bank_tx_code": "transaction code",
    "currency_column": "currency",
}


class MappingError(ValueError):
    """A CSV mapping that cannot be used; the message names its file and the problem."""


@dataclass(frozen=True)
class CsvMapping:
    """Which column holds what. Give ``amount`` (signed, credits positive) *or* ``debit`` and
    ``credit`` (both unsigned). Optional columns left as ``None`` (or ``""``) are not read;
    every column named must be in the file's header."""

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
        for name in COLUMNS:
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                raise MappingError(f"'{name}' must be a column name in quotes, not {value!r}")
            if value is not None and not value.strip():
                object.__setattr__(self, name, None)  # "" means the export has no such column
        if not self.date or not self.reference:
            raise MappingError("a CSV mapping needs the 'date' and 'reference' columns")
        if bool(self.amount) == bool(self.debit or self.credit):
            raise MappingError("a CSV mapping gives either 'amount' or 'debit' and 'credit'")
        if not self.amount and not (self.debit and self.credit):
            raise MappingError("a CSV mapping with debit/credit columns needs both")
        if len(self.delimiter) != 1:
            raise MappingError(f"the delimiter must be one character, not {self.delimiter!r}")
        try:
            "".encode(self.encoding)
        except LookupError:
            raise MappingError(f"unknown encoding {self.encoding!r}") from None

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> CsvMapping:
        known = {f.name for f in fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise MappingError(
                f"unknown CSV mapping keys: {', '.join(sorted(unknown))} "
                f"(the keys are {', '.join(sorted(known))})"
            )
        if "debit" in values and "amount" not in values:
            values = {**values, "amount": None}
        try:
            return cls(**values)
        except TypeError as error:
            raise MappingError(str(error)) from None

    @classmethod
    def from_toml(cls, source: str | Path, table: str | None = None) -> CsvMapping:
        """Read a mapping from TOML text or a ``.toml`` file: from ``[table]`` when named, else
        from the one table the file holds (as the docs lay it out, ``[bank]``), else from its
        top-level keys. A problem is a :class:`MappingError` naming the file."""
        label = source.name if isinstance(source, Path) else "the CSV mapping"
        try:
            if isinstance(source, Path):
                try:
                    text = source.read_text(encoding="utf-8")
                except FileNotFoundError:
                    raise MappingError("there is no such file") from None
                except (OSError, UnicodeDecodeError) as error:
                    raise MappingError(f"cannot be read: {error}") from None
            else:
                text = source
            try:
                values = tomllib.loads(text)
            except tomllib.TOMLDecodeError as error:
                raise MappingError(f"not a valid TOML file: {error}") from None
            tables = [key for key, value in values.items() if isinstance(value, dict)]
            if table:
                if table not in tables:
                    raise MappingError(f"has no [{table}] table")
                values = values[table]
            elif len(tables) == 1 and len(values) == 1:
                values = values[tables[0]]
            elif tables:
                raise MappingError(
                    f"holds several tables ({', '.join(tables)}); keep one mapping per file"
                )
            return cls.from_dict(values)
        except MappingError as error:
            raise MappingError(f"{label}: {error}") from None

    def required_columns(self) -> list[str]:
        money = [self.amount] if self.amount else [self.debit, self.credit]
        return [self.date, self.reference, *money]  # type: ignore[list-item]

    def declared_columns(self) -> dict[str, str]:
        """Every column this mapping names, with what it holds."""
        return {getattr(self, key): words for key, words in COLUMNS.items() if getattr(self, key)}

    def header_matches(self, first_line: str) -> bool:
        """Whether a file's first line is this mapping's header (its date and money columns)."""
        try:
            header = next(csv.reader(io.StringIO(first_line), delimiter=self.delimiter), [])
        except csv.Error:
            return False
        header = [name.strip() for name in header]
        return self.date in header and (
            (self.amount in header) if self.amount else (self.debit in header)
        )


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


def parse_csv(
    opened: Opened,
    *,
    mapping: CsvMapping = DEFAULT_CSV_MAPPING,
    account: str | None = None,
    currency: str | None = "GBP",
) -> Statement:
    """Read a CSV export with ``mapping``: the account is the mapping's, else ``account``."""
    source = opened.source
    # A UTF-16 or UTF-32 file says so itself (a byte order mark, or the zero bytes beside each
    # character): it is read as what it is, whatever encoding the mapping expects.
    unicode = opened.encoding if (opened.encoding or "").startswith("utf-") else None
    encoding = unicode if unicode and unicode != "utf-8-sig" else mapping.encoding
    text = io.TextIOWrapper(opened.stream, encoding=encoding, newline="")
    try:
        return _parse_rows(text, source, mapping, account, currency, opened)
    except UnicodeDecodeError as exc:
        raise StatementError(f"{source}: not {encoding} text: {exc}") from None
    finally:
        text.detach()  # the stream is the caller's to close


def _parse_rows(text, source, mapping, account, currency, opened) -> Statement:
    reader = csv.DictReader(text, delimiter=mapping.delimiter)
    try:
        header = [name.strip() for name in reader.fieldnames or []]
    except csv.Error as exc:
        raise StatementError(f"{source}: row 1: not CSV: {exc}") from None
    missing = [
        f"{column} ({words})"
        for column, words in mapping.declared_columns().items()
        if column not in header
    ]
    if missing:
        raise StatementError(
            f"{source}: the CSV header has no column {', '.join(missing)}; the mapping "
            'declares it (set it to "" in the mapping if this export has none)'
        )
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
        except ValueError as error:
            # strptime says "day is out of range for month" for 31/02: a real format, no date
            problem = (
                "is not a real date"
                if "out of range" in str(error) or "must be in" in str(error)
                else f"is not in the format {mapping.date_format}"
            )
            raise StatementError(f"{source}: {where}: date {value!r} {problem}") from None

    rows: list[tuple[RawLine, Decimal | None]] = []
    row_number = 1
    try:
        for row_number, row in enumerate(reader, start=2):
            if row_number % 2000 == 0:
                opened.report()
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
                raise StatementError(
                    f"{source}: {where}: {exc.args[0]!r} is not an amount"
                ) from None
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
    except csv.Error as exc:
        raise StatementError(f"{source}: row {row_number + 1}: not CSV: {exc}") from None
    opened.report(force=True)

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
        account=mapping.account or account,
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
