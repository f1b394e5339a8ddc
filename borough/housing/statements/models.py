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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation

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


def to_pence(amount: Decimal | str | int, *, source: str, where: str) -> int:
    """Pounds as a decimal string or ``Decimal`` → exact integer pence (never via float)."""
    if isinstance(amount, int):
        return amount * 100
    try:
        value = Decimal(str(amount).strip().replace(",", "").replace("£", ""))
    except InvalidOperation:
        raise StatementError(f"{source}: {where}: amount {amount!r} is not a number") from None
    if not value.is_finite():
        raise StatementError(f"{source}: {where}: amount {amount!r} is not a number")
    pence = value * 100
    if pence != pence.to_integral_value():
        raise StatementError(f"{source}: {where}: amount {amount!r} has fractions of a penny")
    return int(pence)


_SPACES = re.compile(r"\s+")


def _clean(text: str | None) -> str | None:
    if text is None:
        return None
    text = _SPACES.sub(" ", text).strip()
    return text or None


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


def line_identity(account: str, line: StatementLine) -> str:
    """The fields that make two lines "the same entry", joined into one string.

    Whitespace and case in the reference and name are ignored, so the same entry exported twice
    (or in two overlapping statements) has the same identity.
    """
    upper = [
        (part or "").upper()
        for part in (line.reference, line.payer_name, line.payer_sort_code, line.payer_account)
    ]
    return "\x1f".join(
        [
            account.replace(" ", "").upper(),
            line.bank_ref or "",
            line.booking_date.isoformat(),
            str(line.amount_pence),
            line.currency,
            *(_SPACES.sub(" ", part).strip() for part in upper),
        ]
    )


def with_line_hashes(account: str, lines: Iterable[StatementLine]) -> list[StatementLine]:
    """Give each line its hash: sha256 of its identity and its occurrence number.

    The occurrence number counts earlier lines *in this statement* with the same identity, so two
    genuinely identical payments on one day (no bank reference) get different hashes, while the
    same day seen again in an overlapping statement gets the same ones.
    """
    seen: Counter[str] = Counter()
    out = []
    for line in lines:
        identity = line_identity(account, line)
        occurrence = seen[identity]
        seen[identity] += 1
        digest = hashlib.sha256(f"{identity}\x1e{occurrence}".encode()).hexdigest()
        out.append(replace(line, line_hash=digest))
    return out


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
    raw_lines: Sequence[RawLine],
    currency: str | None = "GBP",
) -> Statement:
    """Check every line and the balances, then build the :class:`Statement`.

    Rules: each line has a booking date and an amount in whole pence; each line (and the
    statement) is in ``currency`` when one is required; when both balances are given,
    opening + sum(lines) == closing.
    """
    lines = []
    for raw in raw_lines:
        if raw.booking_date is None:
            raise StatementError(f"{source}: {raw.where}: no booking date")
        if raw.amount is None or (isinstance(raw.amount, str) and not raw.amount.strip()):
            raise StatementError(f"{source}: {raw.where}: no amount")
        line_currency = (raw.currency or "").strip().upper()
        if not line_currency:
            raise StatementError(f"{source}: {raw.where}: no currency")
        if currency and line_currency != currency:
            raise StatementError(
                f"{source}: {raw.where}: currency {line_currency}, but only {currency} "
                "is accepted on this account"
            )
        lines.append(
            StatementLine(
                booking_date=_plain_date(raw.booking_date),
                value_date=_plain_date(raw.value_date),
                amount_pence=to_pence(raw.amount, source=source, where=raw.where),
                currency=line_currency,
                reference=_clean(raw.reference) or "",
                payer_name=_clean(raw.payer_name),
                payer_sort_code=_digits(raw.payer_sort_code),
                payer_account=_digits(raw.payer_account),
                bank_tx_code=_clean(raw.bank_tx_code),
                bank_ref=clean_bank_ref(raw.bank_ref),
            )
        )
    opening_pence = (
        None if opening is None else to_pence(opening, source=source, where="opening balance")
    )
    closing_pence = (
        None if closing is None else to_pence(closing, source=source, where="closing balance")
    )
    if opening_pence is not None and closing_pence is not None:
        total = sum(line.amount_pence for line in lines)
        if opening_pence + total != closing_pence:
            raise StatementError(
                f"{source}: balances do not reconcile: opening {_pounds(opening_pence)} + "
                f"{len(lines)} lines totalling {_pounds(total)} = "
                f"{_pounds(opening_pence + total)}, but the closing balance is "
                f"{_pounds(closing_pence)}"
            )
    account = (account or "").strip()
    if not account:
        raise StatementError(f"{source}: the statement does not say which account it is for")
    dates = [line.booking_date for line in lines]
    return Statement(
        account=account,
        statement_id=(statement_id or "").strip(),
        period_from=_plain_date(period_from) or (min(dates) if dates else None),
        period_to=_plain_date(period_to) or (max(dates) if dates else None),
        opening_balance_pence=opening_pence,
        closing_balance_pence=closing_pence,
        lines=tuple(with_line_hashes(account, lines)),
        format=format,
    )


def _plain_date(value: dt.date | None) -> dt.date | None:
    # Parsers hand back their own date subclasses; lines hold plain dates.
    return None if value is None else dt.date(value.year, value.month, value.day)


def _pounds(pence: int) -> str:
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
