"""What a parsed bank statement is, whatever format it arrived in.

Every parser (camt.053, MT940, CSV) hands its rows to :func:`build_statement`, which checks them
and the balances and gives each line its ``line_hash``. Nothing is returned unless the whole file
is good: a bad line is a :class:`StatementError` naming the file and the line.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from operator import attrgetter

# Placeholders banks put where a reference would go; they identify nothing.
NO_BANK_REFERENCE = frozenset({"", "NONREF", "NOTPROVIDED", "NOT PROVIDED", "NONE", "N/A"})


class StatementError(ValueError):
    """A statement file that cannot be imported; nothing from it may be used."""


@dataclass(frozen=True, slots=True)
class StatementLine:
    """One booked entry on the council's bank account.

    ``amount_pence`` is signed: credits (money in, such as rent) are positive.
    ``reference`` is what the payer typed, or the bank's narrative when that is all there is.
    ``bank_ref`` is the bank's own identifier for the entry (EndToEndId, AcctSvcrRef or the
    ``:61:`` bank reference), ``None`` when the bank gave a placeholder such as NOTPROVIDED.
    ``reversal`` is the bank's mark that the entry undoes an earlier one (camt.053
    ``<RvslInd>true``, MT940 ``RC``/``RD``): a credit so marked is money coming back, not a
    payment, and a debit so marked takes back a payment made earlier.
    ``line_hash`` is what an import uses to post each line once (see ``docs/bank-statements.md``).
    """

    booking_date: dt.date
    value_date: dt.date | None
    amount_pence: int
    currency: str
    reference: str
    payer_name: str | None = None
    payer_sort_code: str | None = None
    payer_account: str | None = None
    bank_tx_code: str | None = None
    bank_ref: str | None = None
    reversal: bool = False
    line_hash: str = ""

    @property
    def is_credit(self) -> bool:
        return self.amount_pence > 0


@dataclass(frozen=True, slots=True)
class Statement:
    """A statement of one council bank account: ``account`` is "sort code account" or an IBAN."""

    account: str
    statement_id: str
    period_from: dt.date | None
    period_to: dt.date | None
    opening_balance_pence: int | None
    closing_balance_pence: int | None
    lines: tuple[StatementLine, ...] = field(default_factory=tuple)
    format: str = ""


@dataclass(slots=True)
class RawLine:
    """A parser's view of one entry before checking: ``where`` says how to find it in the file."""

    where: str
    booking_date: dt.date | None
    amount: Decimal | str | None
    currency: str | None
    value_date: dt.date | None = None
    reference: str | None = None
    payer_name: str | None = None
    payer_sort_code: str | None = None
    payer_account: str | None = None
    bank_tx_code: str | None = None
    bank_ref: str | None = None
    reversal: bool = False


def to_pence(amount: Decimal | str | int, *, source: str, where: str) -> int:
    """Pounds as a decimal string or ``Decimal`` → exact integer pence (never via float)."""
    if isinstance(amount, int):
        return amount * 100
    if isinstance(amount, Decimal) and amount.is_finite():
        pence = amount * 100  # already a number: the parsers' own amounts
        if pence == pence.to_integral_value():
            return int(pence)
    text = str(amount).strip()
    try:
        value = Decimal(text.replace(",", "").replace("£", ""))
    except InvalidOperation:
        raise StatementError(f"{source}: {where}: amount {text!r} is not a number") from None
    if not value.is_finite():
        raise StatementError(f"{source}: {where}: amount {text!r} is not a number")
    pence = value * 100
    if pence != pence.to_integral_value():
        raise StatementError(f"{source}: {where}: amount {text!r} has fractions of a penny")
    return int(pence)


def _clean(text: str | None) -> str | None:
    # Runs of whitespace (any Unicode whitespace) to one space; split() is the fast way.
    if text is None:
        return None
    return " ".join(text.split()) or None


def _digits(text: str | None) -> str | None:
    if not text:
        return None
    digits = re.sub(r"\D", "", text)
    return digits or None


def clean_bank_ref(text: str | None) -> str | None:
    text = _clean(text)
    if text is None or text.upper() in NO_BANK_REFERENCE:
        return None
    return text


_GB_IBAN = re.compile(r"GB\d{2}[A-Z]{4}(\d{14})")
_SORT_CODE_AND_NUMBER = re.compile(r"[\d-]+")


def account_key(account: str) -> str:
    """One form of an account however a file writes it: a UK account is its sort code and
    number, 14 digits, whether written ``60-16-13 31926819``, ``60161331926819`` or as the IBAN
    ``GB29 NWBK 6016 1331 9268 19``; anything else as written, without spaces, in capitals.
    (Two files of one account that wrote it differently must still give one identity to one
    entry, or it would be posted twice.)"""
    compact = account.replace(" ", "").upper()
    iban = _GB_IBAN.fullmatch(compact)
    if iban:
        return iban.group(1)
    if _SORT_CODE_AND_NUMBER.fullmatch(compact):
        digits = compact.replace("-", "")
        if len(digits) == 14:
            return digits
    return compact


def line_identity(account: str, line: StatementLine) -> str:
    """The fields that make two lines "the same entry", joined into one string.

    Whitespace and case in the reference and name are ignored, and the account is taken in one
    form (``account_key``), so the same entry exported twice (or in two overlapping statements,
    or by a bank that writes the account one way in camt.053 and another in MT940) has the same
    identity.
    """
    return _identity(account_key(account), *_IDENTITY_FIELDS(line))


#: A line's fields that go into its identity, in order (a line and a builder row share them).
_IDENTITY_FIELDS = attrgetter(
    "bank_ref",
    "booking_date",
    "amount_pence",
    "currency",
    "reference",
    "payer_name",
    "payer_sort_code",
    "payer_account",
)


def _identity(account_key: str, bank_ref, booking_date, amount_pence, currency, *words) -> str:
    return "\x1f".join(
        [
            account_key,
            bank_ref or "",
            booking_date.isoformat(),
            str(amount_pence),
            currency,
            *(" ".join((part or "").upper().split()) for part in words),
        ]
    )


def _digests(identities: Iterable[str]) -> Iterator[str]:
    seen: Counter[str] = Counter()
    for identity in identities:
        occurrence = seen[identity]
        seen[identity] += 1
        yield hashlib.sha256(f"{identity}\x1e{occurrence}".encode()).hexdigest()


def with_line_hashes(account: str, lines: Iterable[StatementLine]) -> list[StatementLine]:
    """Give each line its hash: sha256 of its identity and its occurrence number.

    The occurrence number counts earlier lines *in this statement* with the same identity, so two
    genuinely identical payments on one day (no bank reference) get different hashes, while the
    same day seen again in an overlapping statement gets the same ones.
    """
    lines = list(lines)
    digests = _digests(line_identity(account, line) for line in lines)
    return [replace(line, line_hash=digest) for line, digest in zip(lines, digests, strict=True)]


#: Told of each checked line as its builder takes it (see :func:`lines_told_to`).
_LINE_LISTENER: ContextVar[Callable[[tuple], None] | None] = ContextVar(
    "statement_line_listener", default=None
)


@contextmanager
def lines_told_to(listener: Callable[[tuple], None]) -> Iterator[None]:
    """While inside, every :class:`StatementBuilder` made calls ``listener(row)`` with each line
    it has checked, in the file's order, before the file has been read to its end. ``row`` is
    :class:`StatementLine`'s fields without ``line_hash`` (a line's hash needs the whole
    statement); the statement may still be refused afterwards."""
    token = _LINE_LISTENER.set(listener)
    try:
        yield
    finally:
        _LINE_LISTENER.reset(token)


class StatementBuilder:
    """Takes a parser's entries one at a time, checks each as it comes, and builds the
    :class:`Statement` at the end (:meth:`finish`).

    Rules: each line has a booking date and an amount in whole pence; each line (and the
    statement) is in ``currency`` when one is required; when both balances are given,
    opening + sum(lines) == closing. A parser that streams its file keeps only the checked
    lines, never the file.
    """

    def __init__(self, *, source: str, format: str, currency: str | None = "GBP") -> None:
        self.source = source
        self.format = format
        self.currency = currency
        self.total_pence = 0
        self._rows: list[tuple] = []
        self._listener = _LINE_LISTENER.get()

    def __len__(self) -> int:
        return len(self._rows)

    def error(self, where: str, problem: str) -> StatementError:
        """The error for ``problem`` at ``where`` (an entry, a row, a line of the file)."""
        return StatementError(
            f"{self.source}: {where}: {problem}" if where else f"{self.source}: {problem}"
        )

    def add(self, raw: RawLine) -> None:
        """Check one entry and keep it; a problem is a :class:`StatementError` naming it."""
        if raw.booking_date is None:
            raise self.error(raw.where, "no booking date")
        if raw.amount is None or (isinstance(raw.amount, str) and not raw.amount.strip()):
            raise self.error(raw.where, "no amount")
        line_currency = (raw.currency or "").strip().upper()
        if not line_currency:
            raise self.error(raw.where, "no currency")
        if self.currency and line_currency != self.currency:
            raise self.error(
                raw.where,
                f"currency {line_currency}, but only {self.currency} is accepted on this account",
            )
        pence = to_pence(raw.amount, source=self.source, where=raw.where)
        self.total_pence += pence
        row = (
            _plain_date(raw.booking_date),
            _plain_date(raw.value_date),
            pence,
            line_currency,
            _clean(raw.reference) or "",
            _clean(raw.payer_name),
            _digits(raw.payer_sort_code),
            _digits(raw.payer_account),
            _clean(raw.bank_tx_code),
            clean_bank_ref(raw.bank_ref),
            bool(raw.reversal),
        )
        self._rows.append(row)
        if self._listener is not None:
            self._listener(row)

    def finish(
        self,
        *,
        account: str | None,
        statement_id: str | None,
        period_from: dt.date | None,
        period_to: dt.date | None,
        opening: Decimal | str | None,
        closing: Decimal | str | None,
    ) -> Statement:
        """Check the balances and the account, then hash every line (see :func:`with_line_hashes`)."""
        source = self.source
        opening_pence = (
            None if opening is None else to_pence(opening, source=source, where="opening balance")
        )
        closing_pence = (
            None if closing is None else to_pence(closing, source=source, where="closing balance")
        )
        if opening_pence is not None and closing_pence is not None:
            total = self.total_pence
            if opening_pence + total != closing_pence:
                raise StatementError(
                    f"{source}: balances do not reconcile: opening {pounds(opening_pence)} + "
                    f"{len(self._rows)} lines totalling {pounds(total)} = "
                    f"{pounds(opening_pence + total)}, but the closing balance is "
                    f"{pounds(closing_pence)}"
                )
        account = (account or "").strip()
        if not account:
            raise StatementError(f"{source}: the statement does not say which account it is for")
        rows, self._rows = self._rows, []
        dates = [row[0] for row in rows]
        return Statement(
            account=account,
            statement_id=(statement_id or "").strip(),
            period_from=_plain_date(period_from) or (min(dates) if dates else None),
            period_to=_plain_date(period_to) or (max(dates) if dates else None),
            opening_balance_pence=opening_pence,
            closing_balance_pence=closing_pence,
            lines=tuple(_hashed(account, rows)),
            format=self.format,
        )


def _hashed(account: str, rows: list[tuple]) -> Iterator[StatementLine]:
    # Rows are StatementLine's fields in order; each line is built once, with its hash.
    key = account_key(account)
    identities = (
        _identity(key, row[9], row[0], row[2], row[3], row[4], row[5], row[6], row[7])
        for row in rows
    )
    for row, digest in zip(rows, _digests(identities), strict=True):
        yield StatementLine(*row, line_hash=digest)


def build_statement(
    *,
    source: str,
    format: str,
    account: str | None,
    statement_id: str | None,
    period_from: dt.date | None,
    period_to: dt.date | None,
    opening: Decimal | str | None,
    closing: Decimal | str | None,
    raw_lines: Iterable[RawLine],
    currency: str | None = "GBP",
) -> Statement:
    """Check every line and the balances, then build the :class:`Statement` (see
    :class:`StatementBuilder` for the rules)."""
    builder = StatementBuilder(source=source, format=format, currency=currency)
    for raw in raw_lines:
        builder.add(raw)
    return builder.finish(
        account=account,
        statement_id=statement_id,
        period_from=period_from,
        period_to=period_to,
        opening=opening,
        closing=closing,
    )


def _plain_date(value: dt.date | None) -> dt.date | None:
    # Parsers hand back their own date subclasses; lines hold plain dates.
    return None if value is None else dt.date(value.year, value.month, value.day)


def pounds(pence: int) -> str:
    """Pence as pounds for a message: -£1,234.50."""
    sign = "-" if pence < 0 else ""
    return f"{sign}£{abs(pence) // 100:,}.{abs(pence) % 100:02d}"


def sort_code_and_account_from_iban(iban: str | None) -> tuple[str | None, str | None]:
    """A UK IBAN (GBkk BANK SSSSSS AAAAAAAA) holds the sort code and account number."""
    if not iban:
        return None, None
    compact = iban.replace(" ", "").upper()
    if len(compact) == 22 and compact.startswith("GB") and compact[8:].isdigit():
        return compact[8:14], compact[14:22]
    return None, None
