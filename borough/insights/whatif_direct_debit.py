"""The Direct Debit what-if: other collection days of the month, replayed over past weeks.

From the rent ledger in bulk (``housing``): every entry in the weeks asked for stays where it
was, except Direct Debit collections from monthly mandates. Each of those moves to the chosen
day nearest the day it was due (the earlier on a tie), in the same month, and is posted on the
Bacs working day the council would take it (``direct_debit.collection_day_of``). A collection
moved past the last week drops out of the weeks shown; unpaid Direct Debits (reversals) stay on
the day they came back. Weekly, fortnightly and four-weekly mandates are on weekdays and do not
move. Each week runs Monday to Sunday; arrears are the balances owed at the end of its Sunday.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

import pandas as pd

from borough.insights.disclosure import CONFIDENTIAL, Rule

PAYMENT_KINDS = ("direct_debit", "standing_order", "bank_payment", "card", "benefit")


class DaysError(ValueError):
    """The collection days or weeks asked for are not valid."""


@dataclass(frozen=True)
class CollectionDays:
    days: tuple[int, ...]
    weeks: int
    last_sunday: dt.date

    def __post_init__(self):
        if not self.days:
            raise DaysError("Enter at least one collection day, like 1 or 1, 15")
        bad = [d for d in self.days if not 1 <= d <= 28]
        if bad:
            raise DaysError("Collection days must be from 1 to 28")
        if not 1 <= self.weeks <= 26:
            raise DaysError("Weeks must be from 1 to 26")
        if self.last_sunday.weekday() != 6:
            raise DaysError("The last week must end on a Sunday")

    @property
    def first_monday(self) -> dt.date:
        return self.last_sunday - dt.timedelta(days=7 * self.weeks - 1)

    def as_dict(self) -> dict:
        return {
            "collection_days": list(self.days),
            "weeks": self.weeks,
            "from": self.first_monday.isoformat(),
            "to": self.last_sunday.isoformat(),
        }


def last_full_week_end(today: dt.date) -> dt.date:
    """The Sunday before ``today`` (``today`` itself if it is a Sunday it is not over yet)."""
    return today - dt.timedelta(days=today.weekday() + 1)


def moved_day(due: dt.date, days: tuple[int, ...]) -> dt.date:
    """The chosen day of ``due``'s month nearest ``due`` (the earlier on a tie)."""
    best = min(days, key=lambda d: (abs(d - due.day), d))
    return due.replace(day=best)


def run_direct_debit_whatif(choice: CollectionDays, rule: Rule | None = None) -> dict:
    from borough.housing.direct_debit import collection_day_of
    from borough.housing.models import LedgerEntry, Mandate

    rule = rule or Rule.from_profile()
    start, end = choice.first_monday, choice.last_sunday
    opening = dict(
        LedgerEntry.objects.filter(posted_on__lt=start)
        .values_list("account_id")
        .annotate(balance=_sum())
        .values_list("account_id", "balance")
    )
    entries = list(
        LedgerEntry.objects.filter(posted_on__gte=start, posted_on__lte=end).values_list(
            "account_id",
            "posted_on",
            "amount_pence",
            "kind",
            "collection__due_on",
            "collection__mandate__frequency",
        )
    )
    now_rows, then_rows = [], []
    moved = 0
    for account, posted, pence, kind, due, frequency in entries:
        now_rows.append((account, posted, pence, kind))
        if kind == "direct_debit" and due is not None and frequency == Mandate.Frequency.MONTHLY:
            new_posted = collection_day_of(moved_day(due, choice.days))
            moved += new_posted != posted
            posted = new_posted
        then_rows.append((account, posted, pence, kind))
    accounts = set(opening) | {row[0] for row in now_rows}
    figures = {
        "accounts": len(accounts),
        "collections_moved": moved,
        "threshold": rule.threshold,
        "weeks": [],
    }
    if len(accounts) < rule.threshold:
        figures["too_few"] = True
        return figures
    now = _weekly(now_rows, opening, start, choice.weeks)
    then = _weekly(then_rows, opening, start, choice.weeks)
    for week, (a, b) in enumerate(zip(now, then, strict=True)):
        monday = start + dt.timedelta(days=7 * week)
        figures["weeks"].append(
            {
                "week_starting": monday.isoformat(),
                "collected_now_pence": a["collected"],
                "collected_then_pence": b["collected"],
                "arrears_now_pence": a["arrears"],
                "arrears_then_pence": b["arrears"],
                "in_arrears_now": _count(a["in_arrears"], rule),
                "in_arrears_then": _count(b["in_arrears"], rule),
            }
        )
    figures["collected_now_pence"] = sum(w["collected_now_pence"] for w in figures["weeks"])
    figures["collected_then_pence"] = sum(w["collected_then_pence"] for w in figures["weeks"])
    return figures


def _sum():
    from django.db.models import Sum

    return Sum("amount_pence")


def _count(n: int, rule: Rule):
    return CONFIDENTIAL if 0 < n < rule.threshold else n


def _weekly(rows, opening: dict, start: dt.date, weeks: int) -> list[dict]:
    """Cash collected each week and, at each week's end, what the accounts in debit owe."""
    frame = pd.DataFrame(rows, columns=["account", "posted", "pence", "kind"])
    frame = frame[frame["posted"] <= start + dt.timedelta(days=7 * weeks - 1)]
    frame["week"] = frame["posted"].map(lambda d: (d - start).days // 7)
    balances = defaultdict(int, opening)
    result = []
    for week in range(weeks):
        this = frame[frame["week"] == week]
        paid = this[this["kind"].isin(PAYMENT_KINDS) & (this["pence"] < 0)]
        for account, pence in this.groupby("account")["pence"].sum().items():
            balances[account] += int(pence)
        owing = [b for b in balances.values() if b > 0]
        result.append(
            {
                "collected": int(-paid["pence"].sum()),
                "arrears": int(sum(owing)),
                "in_arrears": len(owing),
            }
        )
    return result
