"""The open-data tables: what each counts, read in bulk from the services' tables.

Each function returns the finest-grain counts (dimension columns and ``count``) for a period;
``opendata.publish`` protects them (``disclosure``) and writes them. Every count is of people,
or of things that each stand for one resident or household (a permit, a rent account), so the
disclosure threshold applies to every cell. Nothing here reads a name, a registration or a
contact detail: only the columns grouped on.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
from django.db.models import Count, Sum
from django.db.models.functions import TruncMonth

from borough.insights.disclosure import TableSpec

UNKNOWN_WARD = "Ward not known"


@dataclass(frozen=True)
class Publication:
    """Tables cut from the same counts, protected together (``disclosure.protect_tables``)."""

    code: str
    tables: tuple[tuple[TableSpec, str, str], ...]  # spec, title, how it is counted
    dimensions: dict[str, str]  # column → its meaning, for the data dictionary

    def counts(self, start: dt.date, end: dt.date) -> pd.DataFrame:
        return COUNTERS[self.code](start, end)


def _month(value) -> str:
    return value.strftime("%Y-%m")


def _ward(name: str | None) -> str:
    return name or UNKNOWN_WARD


def permits_issued(start: dt.date, end: dt.date) -> pd.DataFrame:
    from borough.parking.models import Permit

    rows = (
        Permit.objects.filter(issued_at__date__gte=start, issued_at__date__lte=end)
        .values("property__ward_name", "zone__name", "application__band")
        .annotate(n=Count("id"))
    )
    frame = pd.DataFrame(
        [(r["property__ward_name"], r["zone__name"], r["application__band"], r["n"]) for r in rows],
        columns=["ward", "zone", "band", "count"],
    )
    frame["ward"] = frame["ward"].map(_ward)
    frame["band"] = frame["band"].replace("", "No band").fillna("No band")
    return frame


def applications_decided(start: dt.date, end: dt.date) -> pd.DataFrame:
    from borough.parking.models import PermitApplication

    decided = PermitApplication.objects.filter(
        status__in=[PermitApplication.Status.ISSUED, PermitApplication.Status.REFUSED],
        created_at__date__gte=start,
        created_at__date__lte=end,
    )
    rows = (
        decided.annotate(month=TruncMonth("created_at"))
        .values("month", "decided_by")
        .annotate(count=Count("id"))
    )
    frame = pd.DataFrame(
        [
            {
                "month": _month(r["month"]),
                "how_decided": "Automatically" if r["decided_by"] is None else "By an officer",
                "count": r["count"],
            }
            for r in rows
        ],
        columns=["month", "how_decided", "count"],
    )
    return frame.groupby(["month", "how_decided"], as_index=False)["count"].sum()


PAYMENT_METHODS = {
    "direct_debit": "Direct Debit",
    "standing_order": "Standing order",
    "bank_payment": "Other",
    "card": "Other",
    "benefit": "Housing Benefit or Universal Credit",
}


def rent_payers(start: dt.date, end: dt.date) -> pd.DataFrame:
    from borough.housing.models import LedgerEntry

    rows = (
        LedgerEntry.objects.filter(
            posted_on__gte=start,
            posted_on__lte=end,
            amount_pence__lt=0,
            kind__in=list(PAYMENT_METHODS),
        )
        .annotate(month=TruncMonth("posted_on"))
        .values("month", "kind")
        .annotate(count=Count("account_id", distinct=True))
    )
    frame = pd.DataFrame(
        [
            {
                "month": _month(r["month"]),
                "method": PAYMENT_METHODS[r["kind"]],
                "count": r["count"],
            }
            for r in rows
        ],
        columns=["month", "method", "count"],
    )
    # An account paying by two "Other" ways in a month counts in each: counts of accounts a
    # method, not of people in all.
    return frame.groupby(["month", "method"], as_index=False)["count"].sum()


def accounts_in_arrears(start: dt.date, end: dt.date) -> pd.DataFrame:
    from borough.housing.models import LedgerEntry

    balances = (
        LedgerEntry.objects.filter(posted_on__lte=end)
        .values("account_id", "account__tenancy__property__ward_name")
        .annotate(balance=Sum("amount_pence"))
        .filter(balance__gt=0)
    )
    frame = pd.DataFrame(
        [(r["account_id"], r["account__tenancy__property__ward_name"]) for r in balances],
        columns=["account_id", "ward"],
    )
    frame["ward"] = frame["ward"].map(_ward)
    return frame.groupby("ward", as_index=False).size().rename(columns={"size": "count"})


COUNTERS = {
    "permits": permits_issued,
    "applications": applications_decided,
    "rent-payers": rent_payers,
    "arrears": accounts_in_arrears,
}

PUBLICATIONS = (
    Publication(
        "permits",
        (
            (
                TableSpec("permits-by-ward-and-band", "ward", "band"),
                "Parking permits issued, by ward and emission band",
                "Permits issued in the period (including any later cancelled), by the ward of "
                "the address and the vehicle's emission band.",
            ),
            (
                TableSpec("permits-by-zone-and-band", "zone", "band"),
                "Parking permits issued, by zone and emission band",
                "The same permits, by controlled parking zone and emission band. Published "
                "with the table by ward and checked with it.",
            ),
        ),
        {
            "ward": "The electoral ward of the permit's address",
            "zone": "The controlled parking zone the permit is for",
            "band": "The vehicle's emission band (CO2 g/km bands in the council's price list)",
        },
    ),
    Publication(
        "applications",
        (
            (
                TableSpec("permit-applications-by-month-and-decision", "month", "how_decided"),
                "Parking permit applications decided, by month and how they were decided",
                "Applications made in the period and since issued or refused, by the month "
                "they were made and whether the checks decided them automatically or an officer did.",
            ),
        ),
        {
            "month": "The month the application was made (YYYY-MM)",
            "how_decided": "Automatically, or by an officer",
        },
    ),
    Publication(
        "rent-payers",
        (
            (
                TableSpec("rent-accounts-paying-by-method-and-month", "month", "method"),
                "Rent accounts that paid, by month and payment method",
                "Rent accounts with at least one payment by the method in the month. An "
                "account paying by two methods counts under each.",
            ),
        ),
        {
            "month": "The month the payment reached the rent account (YYYY-MM)",
            "method": "Direct Debit, standing order, Housing Benefit or Universal Credit, other",
        },
    ),
    Publication(
        "arrears",
        (
            (
                TableSpec("rent-accounts-in-arrears-by-ward", "ward"),
                "Rent accounts in arrears at the end of the period, by ward",
                "Rent accounts owing money on the last day of the period, by the ward of the home.",
            ),
        ),
        {"ward": "The electoral ward of the home"},
    ),
)
