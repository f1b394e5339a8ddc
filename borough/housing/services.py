"""Every change to the rent ledger, in a transaction. The rules:

- money is integer pence; an entry is never zero; positive is owed, negative is paid;
- entries are never changed or deleted: a mistake is reversed by an entry of the opposite
  amount that points at it, and an entry can be reversed once;
- every entry has a ``source_key`` naming where it came from, unique in the database, so the
  same charge, statement line or collection is posted once however many times, or by however
  many processes at once, it is offered (``post_entry`` returns the entry already there);
- a balance is the sum of an account's entries, nothing else.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import NamedTuple

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Sum
from django.utils import timezone

from borough.core.bulk import insert_rows
from borough.housing.models import ChargeRate, ChargeRun, LedgerEntry, RentAccount
from borough.housing.rent_weeks import RentWeek, rent_week
from borough.payments.money import format_pence

Kind = LedgerEntry.Kind

#: Which kinds may be which sign: charges and refunds add to what is owed; payments reduce it.
_SIGN = {
    Kind.CHARGE: 1,
    Kind.REFUND: 1,
    Kind.DIRECT_DEBIT: -1,
    Kind.STANDING_ORDER: -1,
    Kind.BANK_PAYMENT: -1,
    Kind.CARD: -1,
    Kind.BENEFIT: -1,
}


class LedgerError(ValueError):
    """An entry that breaks a ledger rule; the message says which."""


class SourceConflict(LedgerError):
    """The source was posted already, with different details."""


def _check_entry(kind: str, amount_pence: int, source_key: str) -> None:
    if not isinstance(amount_pence, int) or isinstance(amount_pence, bool):
        raise LedgerError("Amounts are whole pence")
    if amount_pence == 0:
        raise LedgerError("An entry cannot be for £0")
    sign = _SIGN.get(kind)
    if sign is not None and (amount_pence > 0) != (sign > 0):
        raise LedgerError(
            f"A {Kind(kind).label.lower()} must be {'positive' if sign > 0 else 'negative'}"
        )
    if not source_key:
        raise LedgerError("Every entry needs a source key")


def post_entry(
    account: RentAccount | int,
    *,
    kind: str,
    type_code: str,
    amount_pence: int,
    posted_on: dt.date,
    description: str,
    source_key: str,
    created_by=None,
) -> tuple[LedgerEntry, bool]:
    """Post one entry, or return the one already posted from ``source_key`` (``created``
    False). Offering the same source with a different account or amount is a
    ``SourceConflict``: never silently a second posting."""
    account_id = account if isinstance(account, int) else account.pk
    _check_entry(kind, amount_pence, source_key)
    existing = LedgerEntry.objects.filter(source_key=source_key).first()
    if existing is None:
        try:
            with transaction.atomic():
                return (
                    LedgerEntry.objects.create(
                        account_id=account_id,
                        kind=kind,
                        type_code=type_code,
                        amount_pence=amount_pence,
                        posted_on=posted_on,
                        description=description[:200],
                        source_key=source_key,
                        created_by=created_by,
                    ),
                    True,
                )
        except IntegrityError:
            existing = LedgerEntry.objects.filter(source_key=source_key).first()
            if existing is None:
                raise
    if existing.account_id != account_id or existing.amount_pence != amount_pence:
        raise SourceConflict(
            f"{source_key} was posted already to another account or for another amount"
        )
    return existing, False


class NewEntry(NamedTuple):
    """An entry for :func:`post_new_entries` (a plain tuple: a statement brings 100,000)."""

    account_id: int
    kind: str
    type_code: str
    amount_pence: int
    posted_on: dt.date
    description: str
    source_key: str
    created_by_id: int | None = None


def post_new_entries(entries: list[NewEntry]) -> int:
    """Post many new entries at once (a statement's automatic matches): each obeys
    :func:`post_entry`'s rules, and each ``source_key`` must be new: one already posted is an
    ``IntegrityError`` that undoes the caller's transaction, never a silent skip. Call it
    inside a transaction that has made sure the sources are new."""
    adapt_date = connection.ops.adapt_datefield_value
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    rows = []
    for entry in entries:
        _check_entry(entry.kind, entry.amount_pence, entry.source_key)
        rows.append(
            (
                entry.account_id,
                str(entry.kind),
                entry.type_code,
                adapt_date(entry.posted_on),
                entry.amount_pence,
                entry.description[:200],
                entry.source_key,
                now,
                entry.created_by_id,
            )
        )
    return insert_rows(
        LedgerEntry,
        (
            "account",
            "kind",
            "type_code",
            "posted_on",
            "amount_pence",
            "description",
            "source_key",
            "created_at",
            "created_by",
        ),
        rows,
    )


def reverse_entry(
    entry: LedgerEntry, *, reason: str, posted_on: dt.date, type_code: str = "", created_by=None
) -> LedgerEntry:
    """Reverse ``entry`` once: an entry of the opposite amount pointing at it. Reversing it
    again returns the first reversal."""
    if not reason.strip():
        raise LedgerError("Give the reason for the reversal")
    with transaction.atomic():
        already = LedgerEntry.objects.filter(reverses=entry).first()
        if already is not None:
            return already
        try:
            with transaction.atomic():
                return LedgerEntry.objects.create(
                    account_id=entry.account_id,
                    kind=Kind.REVERSAL,
                    type_code=type_code or entry.type_code,
                    amount_pence=-entry.amount_pence,
                    posted_on=posted_on,
                    description=f"Reversal: {reason}"[:200],
                    source_key=f"reversal:{entry.pk}",
                    reverses=entry,
                    created_by=created_by,
                )
        except IntegrityError:
            return LedgerEntry.objects.get(reverses=entry)


def balance_pence(account: RentAccount | int, *, on: dt.date | None = None) -> int:
    """What the tenant owes (negative: in credit), from the ledger alone."""
    account_id = account if isinstance(account, int) else account.pk
    entries = LedgerEntry.objects.filter(account_id=account_id)
    if on is not None:
        entries = entries.filter(posted_on__lte=on)
    return entries.aggregate(total=Sum("amount_pence"))["total"] or 0


def weekly_charges_by_account(on: dt.date, accounts=None) -> dict[int, dict[str, int]]:
    """The weekly charges in force on ``on`` of ``accounts`` (a queryset; default: every
    account), by account id and charge type, in one query. The latest rate of each type from
    on or before ``on`` applies; a rate of 0 ends that charge."""
    rates = ChargeRate.objects.filter(effective_from__lte=on)
    if accounts is not None:
        rates = rates.filter(account__in=accounts)
    current: dict[int, dict[str, int]] = {}
    for account_id, code, pence in rates.order_by("effective_from").values_list(
        "account_id", "charge_type", "weekly_pence"
    ):
        current.setdefault(account_id, {})[code] = pence
    return {
        account_id: {code: pence for code, pence in charges.items() if pence}
        for account_id, charges in current.items()
    }


def weekly_charge_pence(account: RentAccount | int, on: dt.date) -> dict[str, int]:
    """The weekly charges in force on ``on``, by charge type."""
    account_id = account if isinstance(account, int) else account.pk
    return weekly_charges_by_account(on, RentAccount.objects.filter(pk=account_id)).get(
        account_id, {}
    )


@dataclass(frozen=True)
class ChargeRunResult:
    week: RentWeek
    run: ChargeRun
    posted: int
    already_done: bool


def _housing():
    return settings.COUNCIL.housing


def post_weekly_charges(monday: dt.date) -> ChargeRunResult:
    """Post the week's charges (one entry per account and charge type) to every account open
    on ``monday``, unless the week is rent-free. Running it again for the same week posts
    nothing more; two runs at once post each charge once (the source keys)."""
    cfg = _housing()
    week = rent_week(monday, rent_free_weeks=cfg.rent_free_weeks, week_53=cfg.week_53)
    names = {c.code: c.name for c in cfg.charge_types}
    existing = ChargeRun.objects.filter(week_starting=monday).first()
    if existing is not None:
        return ChargeRunResult(week, existing, 0, True)
    entries = []
    if not week.free:
        accounts = RentAccount.objects.filter(opened_on__lte=monday).exclude(closed_on__lte=monday)
        rates = weekly_charges_by_account(monday, accounts)
        for account_id, charges in rates.items():
            for code, pence in sorted(charges.items()):  # never 0: those are left out
                entries.append(
                    LedgerEntry(
                        account_id=account_id,
                        kind=Kind.CHARGE,
                        type_code=code,
                        amount_pence=pence,
                        posted_on=monday,
                        description=f"{names.get(code, code)}, {week.label}",
                        source_key=f"charge:{account_id}:{code}:{monday.isoformat()}",
                    )
                )
    with transaction.atomic():
        run, created = ChargeRun.objects.get_or_create(
            week_starting=monday,
            defaults={"rent_week": week.number, "rent_free": week.free, "entries": len(entries)},
        )
        if not created:
            return ChargeRunResult(week, run, 0, True)
        LedgerEntry.objects.bulk_create(entries, batch_size=2000, ignore_conflicts=True)
        if entries:
            # the week's charges changed every open account: one action, recorded per batch
            from borough.housing.accounts import record_tenants_use

            record_tenants_use(
                accounts.values("tenancy_id"),
                None,
                purpose="housing_rent_account_administration",
                action="updated_records",
                reference=f"weekly-charges-{monday:%Y-%m-%d}",
                label="Borough weekly rent charges",
            )
    return ChargeRunResult(week, run, len(entries), False)


# -- payment arrangements ------------------------------------------------------------------

_PERIOD_DAYS = {"weekly": 7, "fortnightly": 14, "four_weekly": 28}


def _instalments_due(arrangement, today: dt.date) -> int:
    """How many instalments had fallen due by ``today`` (the first on the start date)."""
    if today < arrangement.start_date:
        return 0
    if arrangement.frequency == "monthly":
        months = (today.year - arrangement.start_date.year) * 12 + (
            today.month - arrangement.start_date.month
        )
        if today.day < arrangement.start_date.day:
            months -= 1
        return months + 1
    return (today - arrangement.start_date).days // _PERIOD_DAYS[arrangement.frequency] + 1


@dataclass(frozen=True)
class ArrangementCheck:
    status: str  # "live", "breached" or "cleared"
    expected_reduction_pence: int
    actual_reduction_pence: int
    shortfall_pence: int
    reason: str


def check_arrangement(arrangement, *, today: dt.date, grace_days: int = 7) -> ArrangementCheck:
    """Is the arrangement on track? The arrears should have fallen by the instalments due
    (counting an instalment only ``grace_days`` after it fell due); they are measured from the
    ledger: the balance at the start less the balance now. Cleared once nothing is owed."""
    balance = balance_pence(arrangement.account_id, on=today)
    if balance <= 0:
        return ArrangementCheck("cleared", 0, arrangement.start_balance_pence, 0, "Nothing is owed")
    due = _instalments_due(arrangement, today - dt.timedelta(days=grace_days))
    expected = min(due * arrangement.amount_pence, arrangement.start_balance_pence)
    actual = arrangement.start_balance_pence - balance
    shortfall = max(expected - actual, 0)
    if shortfall > 0:
        return ArrangementCheck(
            "breached",
            expected,
            actual,
            shortfall,
            f"The arrears should have fallen by {format_pence(expected, pence_always=True)} by "
            f"now but fell by {format_pence(max(actual, 0), pence_always=True)}",
        )
    return ArrangementCheck("live", expected, actual, 0, "Payments are on track")


def refresh_arrangement(arrangement, *, today: dt.date):
    """Store the arrangement's status as ``check_arrangement`` finds it (live ones only)."""
    from borough.housing.models import PaymentArrangement

    if arrangement.status not in (
        PaymentArrangement.Status.LIVE,
        PaymentArrangement.Status.BREACHED,
    ):
        return arrangement
    found = check_arrangement(arrangement, today=today)
    if found.status != arrangement.status:
        PaymentArrangement.objects.filter(pk=arrangement.pk).update(status=found.status)
        arrangement.status = found.status
    return arrangement
