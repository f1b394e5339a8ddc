"""The open-data tables: what each counts, read from the warehouse (``borough insights build``).

Each function returns the finest-grain counts (dimension columns and ``count``) for a period;
``opendata.publish`` protects them (``disclosure``) and writes them. Every count is of people,
or of things that each stand for one resident or household (a permit, a rent account), so the
disclosure threshold applies to every cell. Nothing here reads a name, a registration or a
contact detail (the warehouse holds none): only the columns grouped on.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

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


def _query(sql: str, start: dt.date, end: dt.date, columns: list[str]) -> pd.DataFrame:
    from borough.insights import warehouse

    with warehouse.connect() as con:
        rows = con.execute(sql, {"start": start, "end": end}).fetchall()
    frame = pd.DataFrame(rows, columns=columns)
    if "ward" in frame:
        frame["ward"] = frame["ward"].map(_ward)
    return frame


def _ward(name: str | None) -> str:
    return name if name and name != "Not known" else UNKNOWN_WARD


def permits_issued(start: dt.date, end: dt.date) -> pd.DataFrame:
    return _query(
        """
        SELECT w.ward_name, z.zone_name, CASE WHEN p.band = '' THEN 'No band' ELSE p.band END,
               count(*)
        FROM fact_permit p
        LEFT JOIN dim_ward w USING (ward_code)
        LEFT JOIN dim_zone z USING (zone_code)
        WHERE p.partition_date BETWEEN $start AND $end
        GROUP BY ALL
        """,
        start,
        end,
        ["ward", "zone", "band", "count"],
    )


def applications_decided(start: dt.date, end: dt.date) -> pd.DataFrame:
    return _query(
        """
        SELECT strftime(partition_date, '%Y-%m'),
               CASE WHEN decided_automatically THEN 'Automatically' ELSE 'By an officer' END,
               count(*)
        FROM fact_permit_application
        WHERE partition_date BETWEEN $start AND $end AND status IN ('issued', 'refused')
        GROUP BY ALL
        """,
        start,
        end,
        ["month", "how_decided", "count"],
    )


PAYMENT_METHODS = {
    "direct_debit": "Direct Debit",
    "standing_order": "Standing order",
    "bank_payment": "Other",
    "card": "Other",
    "benefit": "Housing Benefit or Universal Credit",
}


def rent_payers(start: dt.date, end: dt.date) -> pd.DataFrame:
    frame = _query(
        """
        SELECT strftime(posted_on, '%Y-%m'), payment_method, count(DISTINCT account_key)
        FROM fact_rent_ledger
        WHERE posted_on BETWEEN $start AND $end AND amount_pence < 0
          AND payment_method IN ('direct_debit', 'standing_order', 'bank_payment', 'card',
                                 'benefit')
        GROUP BY ALL
        """,
        start,
        end,
        ["month", "method", "count"],
    )
    frame["method"] = frame["method"].map(PAYMENT_METHODS)
    # An account paying by two "Other" ways in a month counts in each: counts of accounts a
    # method, not of people in all.
    return frame.groupby(["month", "method"], as_index=False)["count"].sum()


def accounts_in_arrears(start: dt.date, end: dt.date) -> pd.DataFrame:
    return _query(
        """
        SELECT w.ward_name, count(*)
        FROM (
            SELECT account_key FROM fact_rent_ledger WHERE posted_on <= $end
            GROUP BY account_key HAVING sum(amount_pence) > 0
        ) owing
        JOIN dim_rent_account a USING (account_key)
        LEFT JOIN dim_ward w USING (ward_code)
        WHERE $start <= $end
        GROUP BY ALL
        """,
        start,
        end,
        ["ward", "count"],
    )


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
