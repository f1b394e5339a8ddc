"""The dashboards' reads of the published warehouse (``borough/insights/schema.py``).

Each function takes a read-only DuckDB connection and the filters, and returns rows as dicts
with the figures and ``people``: how many people (or applications, accounts, payments) each row
counts, which the disclosure rule (``dashboards.suppress``) checks. Queries read only
pseudonymised keys and never return one.

The SQL is put together from fragments written in this module (``Filters.where``, the theme
patterns are parameters); every value a user chose is a query parameter, never text in the SQL.

Most charts read the build's summary tables (``aggregates.py``: facts added up by month and
ward), not the facts: a page reads thousands of rows whatever the size of the ledger. The
small facts (suspense, feedback) and the rent accounts are read as they are. Summary tables are
filtered by ``month`` (the filters are whole months, so this is exact), facts by
``partition_date``, and, where the figures have a ward, by ``ward_code``. Figures with no ward
(verifications, enforcement checks, bank statement lines, suspense, feedback) ignore the ward
filter, and the page says so.
"""

from __future__ import annotations

import bisect
import datetime as dt
from dataclasses import dataclass
from typing import Any

import duckdb


@dataclass(frozen=True)
class Filters:
    """The months from ``start`` (the 1st) to ``end`` (the last day), and one ward or all."""

    start: dt.date
    end: dt.date
    ward: str | None = None

    def where(self, date_column: str = "partition_date", ward_column: str | None = None):
        """SQL conditions and their parameters for these filters."""
        sql = f"{date_column} BETWEEN ? AND ?"
        params: list[Any] = [self.start, self.end]
        if ward_column and self.ward is not None:
            sql += f" AND {ward_column} = ?"
            params.append(self.ward)
        return sql, params

    def months_where(self, ward_column: str | None = None):
        """SQL conditions and parameters for a summary table's ``month`` (the 1st of each
        month): exact because the filters are whole months."""
        if self.start.day != 1 or (self.end + dt.timedelta(days=1)).day != 1:
            raise ValueError("The summary tables answer for whole months only.")
        return self.where("month", ward_column)

    def key(self) -> tuple:
        return (self.start, self.end, self.ward)


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list) -> list[dict]:
    cursor = con.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def month_label(value: dt.date) -> str:
    return value.strftime("%B %Y")


# --- what the filters offer ---------------------------------------------------------------


def months(con: duckdb.DuckDBPyConnection) -> list[dt.date]:
    """The first day of every month the warehouse's date dimension covers, oldest first."""
    return [
        row[0]
        for row in con.execute(
            "SELECT DISTINCT month_start FROM dim_date ORDER BY month_start"
        ).fetchall()
    ]


def wards(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    """(ward code, ward name) for every ward, by name; '' (not known) last."""
    return [
        (code, name)
        for code, name in con.execute(
            "SELECT ward_code, ward_name FROM dim_ward ORDER BY ward_code = '', ward_name"
        ).fetchall()
    ]


def _by_month(con, filters: Filters, table: str, figures: str) -> list[dict]:
    """One row a month of a (small) fact ``table`` under the period: ``month``, ``people`` (its
    rows) and the ``figures`` (SQL select items written in this module)."""
    where, params = filters.where()
    return _rows(
        con,
        f"""
        SELECT date_trunc('month', partition_date)::DATE AS month, count(*) AS people, {figures}
        FROM {table} WHERE {where}
        GROUP BY 1 ORDER BY 1
        """,  # noqa: S608
        params,
    )


def _summed(
    con, filters: Filters, table: str, figures: str, by: str = "month", ward: bool = False
) -> list[dict]:
    """Rows of a summary table (``aggregates.py``) under the filters, added up ``by`` (SQL
    written in this module) and ordered by it; ``figures`` are select items written here."""
    where, params = filters.months_where(ward_column="ward_code" if ward else None)
    return _rows(
        con,
        f"SELECT {by}, {figures} FROM {table} WHERE {where} GROUP BY ALL ORDER BY ALL",  # noqa: S608
        params,
    )


def _share_of(part: str, whole: str, name: str) -> str:
    """``part`` and ``whole`` summed, as ``name`` and ``people``, and their ``share``."""
    return (
        f"sum({whole})::BIGINT AS people, sum({part})::BIGINT AS {name}, "
        f"sum({part})::DOUBLE / sum({whole}) AS share"
    )


# --- applications and verification ---------------------------------------------------------


def applications_by_month(con, filters: Filters) -> list[dict]:
    """Permit applications decided each month, and the share decided with no officer."""
    return _summed(
        con,
        filters,
        "agg_application_month",
        _share_of("automatic", "decided", "automatic"),
        ward=True,
    )


def applications_by_ward(con, filters: Filters) -> list[dict]:
    return _summed(
        con,
        filters,
        "agg_application_month a LEFT JOIN dim_ward w USING (ward_code)",
        _share_of("a.automatic", "a.decided", "automatic"),
        by="coalesce(w.ward_name, 'Not known') AS ward",
        ward=True,
    )


def time_to_decision(con, filters: Filters) -> list[dict]:
    """Median days from application to decision each month, automatic and by an officer
    (each month's median, for the ward chosen or all wards, is worked out by the build)."""
    where, params = filters.months_where()
    if filters.ward is None:
        where += " AND all_wards"
    else:
        where += " AND NOT all_wards AND ward_code = ?"
        params.append(filters.ward)
    return _rows(
        con,
        f"""
        SELECT month, how, decided AS people, days FROM agg_decision_time
        WHERE {where} ORDER BY month, how
        """,  # noqa: S608
        params,
    )


def verifications_by_service(con, filters: Filters) -> list[dict]:
    """Checks against the resident index by service; the share answered with no officer."""
    return _summed(
        con,
        filters,
        "agg_verification_month v LEFT JOIN dim_service s USING (service_code)",
        _share_of("v.automatic", "v.checks", "automatic"),
        by="coalesce(s.service_name, v.service_code) AS service",
    )


def automatic_checks_by_month(con, filters: Filters) -> list[dict]:
    """Verifications answered with no officer each month: the checks an officer did not do."""
    return [
        row
        for row in _summed(
            con, filters, "agg_verification_month", "sum(automatic)::BIGINT AS people"
        )
        if row["people"]
    ]


# --- parking ---------------------------------------------------------------------------------


def permits_by_zone(con, filters: Filters) -> list[dict]:
    return _summed(
        con,
        filters,
        "agg_permit_zone p LEFT JOIN dim_zone z USING (zone_code)",
        "sum(p.permits)::BIGINT AS people",
        by="coalesce(z.zone_name, p.zone_code) AS zone",
        ward=True,
    )


def permits_by_band(con, filters: Filters) -> list[dict]:
    where, params = filters.months_where(ward_column="p.ward_code")
    return _rows(
        con,
        f"""
        SELECT CASE WHEN p.band = '' THEN 'No band' ELSE 'Band ' || p.band END AS band,
               sum(p.permits)::BIGINT AS people
        FROM agg_permit_band p LEFT JOIN dim_emission_band b USING (band)
        WHERE {where}
        GROUP BY 1, b.sort_order ORDER BY b.sort_order NULLS LAST, 1
        """,  # noqa: S608
        params,
    )


def permit_money_by_month(con, filters: Filters) -> list[dict]:
    """Paid for permits issued each month, and refunded on them since (pence)."""
    return _summed(
        con,
        filters,
        "agg_permit_money",
        "sum(permits)::BIGINT AS people, sum(paid_pence)::BIGINT AS paid_pence, "
        "sum(refunded_pence)::BIGINT AS refunded_pence, "
        "(sum(paid_pence) - sum(refunded_pence))::BIGINT AS net_pence",
        ward=True,
    )


def enforcement_checks_by_month(con, filters: Filters) -> list[dict]:
    return _summed(con, filters, "agg_enforcement_month", _share_of("allowed", "checks", "allowed"))


# --- rent ------------------------------------------------------------------------------------

METHOD_GROUPS = {
    "direct_debit": "Direct Debit",
    "standing_order": "Standing order",
    "other": "Other",
    "reversed": "Reversed by the bank",
}


def rent_collected_by_method(con, filters: Filters) -> list[dict]:
    """Money received on rent accounts each month by how it was paid (pence), and the accounts
    that paid. Payments the bank reversed are their own method (``reversed``), as a negative
    amount. An account is in one ward, so the build's counts for each ward add up."""
    return _summed(
        con,
        filters,
        "agg_rent_collected",
        "sum(accounts)::BIGINT AS people, sum(collected_pence)::BIGINT AS collected_pence",
        by="month, method",
        ward=True,
    )


def direct_debits_on_time(con, filters: Filters) -> list[dict]:
    """Direct Debit collections due each month and the share the bank paid on the day (not
    returned unpaid)."""
    return _summed(
        con,
        filters,
        "agg_dd_month",
        "sum(accounts)::BIGINT AS people, sum(collections)::BIGINT AS collections, "
        "sum(on_time)::DOUBLE / sum(collections) AS share",
        ward=True,
    )


def arrears_cube(con) -> list[dict]:
    """Arrears by ward from each month on (``aggregates.py``'s ``agg_arrears``): each
    account's balance at the end of each month it has entries in counts (if above zero) until
    the next such month, so each ward's arrears change only in the months it has rows for."""
    return _rows(
        con,
        "SELECT ward_code, month, accounts AS people, arrears_pence FROM agg_arrears "
        "ORDER BY ward_code, month",
        [],
    )


def arrears_by_month_end(cube: list[dict], filters: Filters) -> list[dict]:
    """Arrears at the end of each month of the filters: the sum of every account's balance
    that was owed (above zero) on that day, from the ledger (through ``arrears_cube``);
    ``people`` is the accounts in arrears."""
    by_ward: dict[str, list[dict]] = {}
    for row in cube:
        if filters.ward is None or row["ward_code"] == filters.ward:
            by_ward.setdefault(row["ward_code"], []).append(row)
    out = []
    month = filters.start.replace(day=1)
    while month <= filters.end:
        people = arrears = 0
        for rows in by_ward.values():
            at = bisect.bisect_right([r["month"] for r in rows], month) - 1
            if at >= 0:
                people += rows[at]["people"]
                arrears += rows[at]["arrears_pence"]
        out.append({"month": month, "people": people, "arrears_pence": arrears})
        month = (month + dt.timedelta(days=32)).replace(day=1)
    return out


def arrears_by_ward(con, filters: Filters) -> list[dict]:
    """Accounts in arrears and what they owe, by ward, as the warehouse was built."""
    ward = "AND a.ward_code = ?" if filters.ward is not None else ""
    return _rows(
        con,
        f"""
        SELECT coalesce(w.ward_name, 'Not known') AS ward,
               count(*) AS people,
               sum(a.balance_pence)::BIGINT AS arrears_pence
        FROM dim_rent_account a LEFT JOIN dim_ward w USING (ward_code)
        WHERE a.balance_pence > 0 AND a.closed_on IS NULL {ward}
        GROUP BY 1 ORDER BY 1
        """,  # noqa: S608
        [filters.ward] if filters.ward is not None else [],
    )


SUSPENSE_AGES = [(0, 7, "Up to 7 days"), (8, 30, "8 to 30 days"), (31, 90, "31 to 90 days")]


def suspense_by_age(con, as_at: dt.date) -> list[dict]:
    """Payments in suspense now, by how long they have waited."""
    cases = " ".join(
        f"WHEN age BETWEEN {low} AND {high} THEN {i}"
        for i, (low, high, _label) in enumerate(SUSPENSE_AGES)
    )
    rows = _rows(
        con,
        f"""
        SELECT CASE {cases} ELSE {len(SUSPENSE_AGES)} END AS age_band,
               count(*) AS people, sum(amount_pence)::BIGINT AS amount_pence
        FROM (SELECT amount_pence, date_diff('day', entered_on, ?::DATE) AS age
              FROM fact_suspense WHERE open)
        GROUP BY 1 ORDER BY 1
        """,  # noqa: S608
        [as_at],
    )
    labels = [label for _low, _high, label in SUSPENSE_AGES] + ["More than 90 days"]
    found = {row["age_band"]: row for row in rows}
    return [
        {
            "age": label,
            "people": found.get(i, {}).get("people", 0),
            "amount_pence": found.get(i, {}).get("amount_pence", 0) or 0,
        }
        for i, label in enumerate(labels)
    ]


def suspense_by_month(con, filters: Filters) -> list[dict]:
    return _by_month(
        con,
        filters,
        "fact_suspense",
        "sum(amount_pence)::BIGINT AS amount_pence, count(*) FILTER (WHERE open) AS still_open",
    )


def statement_lines_matched(con, filters: Filters) -> list[dict]:
    """Money-in bank statement lines each month and the share posted with no officer."""
    return _summed(
        con, filters, "agg_statement_line_month", _share_of("automatic", "lines", "automatic")
    )


# --- feedback --------------------------------------------------------------------------------


def feedback_ratings(con, filters: Filters) -> list[dict]:
    where, params = filters.where()
    return _rows(
        con,
        f"""
        SELECT satisfaction, count(*) AS people
        FROM fact_feedback WHERE {where}
        GROUP BY 1 ORDER BY 1 DESC
        """,  # noqa: S608
        params,
    )


def feedback_by_month(con, filters: Filters) -> list[dict]:
    return _by_month(
        con,
        filters,
        "fact_feedback",
        "avg(satisfaction) AS rating, "
        "count(*) FILTER (WHERE satisfaction >= 4)::DOUBLE / count(*) AS share",
    )


#: Themes of feedback comments: a comment is about a theme when it holds any of its words
#: (whole words, any case). A comment may count in several themes, or none. Only the counts are
#: shown; the comments themselves never leave the warehouse.
THEMES: dict[str, tuple[str, ...]] = {
    "Paying and prices": (
        "pay",
        "paid",
        "payment",
        "card",
        "price",
        "cost",
        "expensive",
        "fee",
        "refund",
        "charge",
        "charged",
        "money",
    ),
    "Signing in and accounts": (
        "sign",
        "login",
        "log",
        "password",
        "account",
        "link",
        "email",
        "code",
    ),
    "Proof and checks": (
        "proof",
        "document",
        "documents",
        "upload",
        "verify",
        "verified",
        "evidence",
        "check",
        "checks",
    ),
    "Speed and waiting": (
        "slow",
        "quick",
        "quickly",
        "fast",
        "wait",
        "waiting",
        "waited",
        "delay",
        "days",
        "weeks",
        "long",
    ),
    "Ease of use": (
        "easy",
        "simple",
        "clear",
        "confusing",
        "difficult",
        "hard",
        "unclear",
        "understand",
    ),
    "Help and contact": ("help", "phone", "call", "contact", "staff", "officer", "support"),
}


def _theme_pattern(words: tuple[str, ...]) -> str:
    return r"\b(" + "|".join(words) + r")\b"


def feedback_themes(con, filters: Filters) -> list[dict]:
    """How many of the period's comments touch each theme (``THEMES``)."""
    where, params = filters.where()
    counts = ", ".join(
        f"count(*) FILTER (WHERE regexp_matches(lower(comments), ?)) AS t{i}"
        for i in range(len(THEMES))
    )
    patterns = [_theme_pattern(words) for words in THEMES.values()]
    row = con.execute(
        f"SELECT count(*), {counts} FROM fact_feedback WHERE comments <> '' AND {where}",  # noqa: S608
        patterns + params,
    ).fetchone()
    rows = (
        [
            {"theme": theme, "people": row[i + 1] or 0, "share": (row[i + 1] or 0) / row[0]}
            for i, theme in enumerate(THEMES)
        ]
        if row[0]
        else []
    )
    return sorted(rows, key=lambda r: -r["people"])


def feedback_comment_count(con, filters: Filters) -> int:
    where, params = filters.where()
    return con.execute(
        f"SELECT count(*) FROM fact_feedback WHERE comments <> '' AND {where}",  # noqa: S608
        params,
    ).fetchone()[0]
