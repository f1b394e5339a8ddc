"""The suspense queue, where an officer allocates, splits or returns what statement matching
(``statement_import``) could not place, and standing orders that stop or fall short.

The rules:

- an allocation locks its line and checks it is still in suspense, so two officers allocating
  the same line at once post it once; a split must add up to the line;
- returning a payment or marking it as not rent posts nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from itertools import pairwise

from django.db import transaction
from django.utils import timezone

from borough.housing import services
from borough.housing.models import BankLine, LedgerEntry, RentAccount
from borough.housing.statement_import import entry_description, ledger_kind_for
from borough.payments.money import format_pence

Kind = LedgerEntry.Kind


class AllocationError(ValueError):
    """An allocation that cannot be made; the message is for the officer."""


# -- suspense ----------------------------------------------------------------------------------


def suspense_lines():
    return BankLine.objects.filter(outcome=BankLine.Outcome.SUSPENSE).order_by("booking_date", "id")


def allocate(
    line_id: int, parts: list[tuple[int, int]], *, user, note: str = ""
) -> list[LedgerEntry]:
    """Post a suspense line to one or more rent accounts: ``parts`` is (account id, pence),
    adding up to the line. Locked, so two officers at once allocate it once."""
    if not parts:
        raise AllocationError("Choose at least one rent account")
    if any(pence <= 0 for _, pence in parts):
        raise AllocationError("Each amount must be more than £0")
    with transaction.atomic():
        line = BankLine.objects.select_for_update().get(pk=line_id)
        if line.outcome != BankLine.Outcome.SUSPENSE:
            raise AllocationError("This payment has already been dealt with")
        if sum(pence for _, pence in parts) != line.amount_pence:
            raise AllocationError(
                "The amounts must add up to the payment, "
                + format_pence(line.amount_pence, pence_always=True)
            )
        found = set(
            RentAccount.objects.filter(pk__in=[a for a, _ in parts]).values_list("pk", flat=True)
        )
        if len(found) != len({a for a, _ in parts}):
            raise AllocationError("Choose rent accounts that exist")
        kind, code = ledger_kind_for(line)
        entries = []
        for n, (account_id, pence) in enumerate(parts):
            entry, _ = services.post_entry(
                account_id,
                kind=kind,
                type_code=code,
                amount_pence=-pence,
                posted_on=line.booking_date,
                description=entry_description(kind, line),
                source_key=f"statement:{line.line_hash}"
                if len(parts) == 1
                else f"statement:{line.line_hash}:{n}",
                created_by=user,
            )
            entries.append(entry)
        line.outcome = BankLine.Outcome.ALLOCATED
        line.resolved_at = timezone.now()
        line.resolved_by = user
        line.reason = (note or line.reason)[:300]
        line.save(update_fields=["outcome", "resolved_at", "resolved_by", "reason"])
        return entries


def close_without_posting(line_id: int, *, user, outcome: str, note: str) -> BankLine:
    """Return a suspense payment to the payer, or mark it as not a rent payment: nothing is
    posted to any rent account."""
    if outcome not in (BankLine.Outcome.REFUNDED, BankLine.Outcome.IGNORED):
        raise AllocationError("Choose what happened to the payment")
    if not note.strip():
        raise AllocationError("Say why")
    with transaction.atomic():
        line = BankLine.objects.select_for_update().get(pk=line_id)
        if line.outcome != BankLine.Outcome.SUSPENSE:
            raise AllocationError("This payment has already been dealt with")
        line.outcome = outcome
        line.resolved_at = timezone.now()
        line.resolved_by = user
        line.reason = note[:300]
        line.save(update_fields=["outcome", "resolved_at", "resolved_by", "reason"])
        return line


# -- standing orders that stopped or fell short --------------------------------------------------


@dataclass(frozen=True)
class StandingOrderCheck:
    status: str  # "ok", "short", "missing" or "none"
    last_paid_on: dt.date | None
    last_amount_pence: int
    expected_pence: int
    frequency: str | None
    message: str


_GAPS = (("weekly", 7), ("fortnightly", 14), ("four_weekly", 28), ("monthly", 31))


def check_standing_order(account: RentAccount, *, today: dt.date) -> StandingOrderCheck:
    """Does the tenant's standing order still arrive, and cover the rent? The frequency is read
    from the gaps between their last standing-order payments; a payment more than a week
    overdue is missing; one below the amount for the current charges (after the April rent
    change, say) is short."""
    from borough.housing.accounts import standing_order_amounts

    paid = list(
        LedgerEntry.objects.filter(account=account, kind=Kind.STANDING_ORDER)
        .order_by("-posted_on")
        .values_list("posted_on", "amount_pence")[:4]
    )
    if len(paid) < 2:
        return StandingOrderCheck("none", None, 0, 0, None, "No standing order seen yet")
    # the middle gap between the last payments: one short February does not make a monthly
    # standing order look 4-weekly
    gaps = sorted((a[0] - b[0]).days for a, b in pairwise(paid))
    gap = gaps[len(gaps) // 2]
    frequency, days = min(_GAPS, key=lambda g: abs(g[1] - gap))
    last_on, last = paid[0][0], -paid[0][1]
    expected = standing_order_amounts(account, today=today)[frequency]
    if (today - last_on).days > days + 7:
        return StandingOrderCheck(
            "missing",
            last_on,
            last,
            expected,
            frequency,
            f"No standing order since {last_on:%-d %B %Y}",
        )
    if last < expected:
        return StandingOrderCheck(
            "short",
            last_on,
            last,
            expected,
            frequency,
            f"The standing order is {format_pence(expected - last, pence_always=True)} short "
            "of the charges",
        )
    return StandingOrderCheck("ok", last_on, last, expected, frequency, "Standing order on track")
