"""The dashboards' reads of the published warehouse (``borough/insights/schema.py``).

Each function takes a read-only DuckDB connection and the filters, and returns rows as dicts
with the figures and ``people``: how many people (or applications, accounts, payments) each row
counts, which the disclosure rule (``dashboards.suppress``) checks. Queries read only
pseudonymised keys and never return one.

The SQL is put together from fragments written in this module (``Filters.where``, the theme
patterns are parameters); every value a user chose is a query parameter, never text in the SQL.

Facts are filtered by ``partition_date`` (the month filter) and, where the fact has a ward,
by ``ward_code``. Facts with no ward (verifications, enforcement checks, bank statement lines,
suspense, feedback) ignore the ward filter, and the page says so.
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


def _by_month(
    con, filters: Filters, table: str, figures: str, condition: str = "", ward: bool = False
) -> list[dict]:
    """One row a month of ``table`` under the filters: ``month``, ``people`` (its rows) and the
    ``figures`` (SQL select items written in this module)."""
    where, params = filters.where(ward_column="ward_code" if ward else None)
    return _rows(
        con,
        f"""
        SELECT date_trunc('month', partition_date)::DATE AS month, count(*) AS people, {figures}
        FROM {table}
        WHERE {where} {"AND " + condition if condition else ""}
        GROUP BY 1 ORDER BY 1
        """,  # noqa: S608
        params,
    )


def _count_and_share(flag: str, name: str) -> str:
    """How many rows have ``flag``, as ``name``, and their share of the rows, as ``share``."""
    return (
        f"count(*) FILTER (WHERE {flag}) AS {name}, "
        f"count(*) FILTER (WHERE {flag})::DOUBLE / count(*) AS share"
    )


# --- applications and verification ---------------------------------------------------------


def applications_by_month(con, filters: Filters) -> list[dict]:
    """Permit applications decided each month, and the share decided with no officer."""
    return _by_month(
        con,
        filters,
        "fact_permit_application",
        _count_and_share("decided_automatically", "automatic"),
        "decided_at IS NOT NULL",
        ward=True,
    )


def applications_by_ward(con, filters: Filters) -> list[dict]:
    where, params = filters.where("a.partition_date", ward_column="a.ward_code")
    return _rows(
        con,
        f"""
        SELECT coalesce(w.ward_name, 'Not known') AS ward,
               count(*) AS people,
               count(*) FILTER (WHERE a.decided_automatically) AS automatic,
               count(*) FILTER (WHERE a.decided_automatically)::DOUBLE / count(*) AS share
        FROM fact_permit_application a LEFT JOIN dim_ward w USING (ward_code)
        WHERE {where} AND a.decided_at IS NOT NULL
        GROUP BY 1 ORDER BY 1
        """,  # noqa: S608
        params,
    )


def time_to_decision(con, filters: Filters) -> list[dict]:
    """Median days from application to decision each month, automatic and by an officer."""
    where, params = filters.where(ward_column="ward_code")
    return _rows(
        con,
        f"""
        SELECT date_trunc('month', partition_date)::DATE AS month,
               CASE WHEN decided_automatically THEN 'Automatically' ELSE 'By an officer' END
                   AS how,
               count(*) AS people,
               median(epoch(decided_at - created_at)) / 86400 AS days
        FROM fact_permit_application
        WHERE {where} AND decided_at IS NOT NULL
        GROUP BY 1, 2 ORDER BY 1, 2
        """,  # noqa: S608
        params,
    )


def verifications_by_service(con, filters: Filters) -> list[dict]:
    """Checks against the resident index by service; the share answered with no officer."""
    where, params = filters.where("v.partition_date")
    return _rows(
        con,
        f"""
        SELECT coalesce(s.service_name, v.service_code) AS service,
               count(*) AS people,
               count(*) FILTER (WHERE v.decided_automatically) AS automatic,
               count(*) FILTER (WHERE v.decided_automatically)::DOUBLE / count(*) AS share
        FROM fact_verification v LEFT JOIN dim_service s USING (service_code)
        WHERE {where}
        GROUP BY 1 ORDER BY 1
        """,  # noqa: S608
        params,
    )


def automatic_checks_by_month(con, filters: Filters) -> list[dict]:
    """Verifications answered with no officer each month: the checks an officer did not do."""
    return _by_month(con, filters, "fact_verification", "1 AS one", "decided_automatically")


# --- parking ---------------------------------------------------------------------------------


def permits_by_zone(con, filters: Filters) -> list[dict]:
    where, params = filters.where("p.partition_date", ward_column="p.ward_code")
    return _rows(
        con,
        f"""
        SELECT coalesce(z.zone_name, p.zone_code) AS zone, count(*) AS people
        FROM fact_permit p LEFT JOIN dim_zone z USING (zone_code)
        WHERE {where}
        GROUP BY 1 ORDER BY 1
        """,  # noqa: S608
        params,
    )


def permits_by_band(con, filters: Filters) -> list[dict]:
    where, params = filters.where("p.partition_date", ward_column="p.ward_code")
    return _rows(
        con,
        f"""
        SELECT CASE WHEN p.band = '' THEN 'No band' ELSE 'Band ' || p.band END AS band,
               count(*) AS people
        FROM fact_permit p LEFT JOIN dim_emission_band b USING (band)
        WHERE {where}
        GROUP BY 1, b.sort_order ORDER BY b.sort_order NULLS LAST, 1
        """,  # noqa: S608
        params,
    )


def permit_money_by_month(con, filters: Filters) -> list[dict]:
    """Paid for permits issued each month, and refunded on them since (pence)."""
    return _by_month(
        con,
        filters,
        "fact_permit",
        "sum(paid_pence)::BIGINT AS paid_pence, sum(refunded_pence)::BIGINT AS refunded_pence, "
        "(sum(paid_pence) - sum(refunded_pence))::BIGINT AS net_pence",
        ward=True,
    )


def enforcement_checks_by_month(con, filters: Filters) -> list[dict]:
    return _by_month(con, filters, "fact_enforcement_check", _count_and_share("allowed", "allowed"))


# --- rent ------------------------------------------------------------------------------------

METHOD_GROUPS = {
    "direct_debit": "Direct Debit",
    "standing_order": "Standing order",
    "other": "Other",
    "reversed": "Reversed by the bank",
}


def rent_collected_cube(con) -> list[dict]:
    """Money received on rent accounts by month, ward and how it was paid, over the whole
    warehouse: the rows ``rent_collected_by_method`` adds up for any filters. Payments the
    bank reversed are their own method (``reversed``), as a negative amount. ``people`` is the
    accounts in the row: an account is in one ward, so the counts of wards add up."""
    return _rows(
        con,
        """
        SELECT date_trunc('month', l.partition_date)::DATE AS month, l.ward_code,
               CASE WHEN l.payment_method = 'reversal' THEN 'reversed' ELSE m.method_group END
                   AS method,
               count(DISTINCT l.account_key) AS people,
               (-sum(l.amount_pence))::BIGINT AS collected_pence
        FROM fact_rent_ledger l JOIN dim_payment_method m USING (payment_method)
        WHERE m.is_payment OR l.payment_method = 'reversal'
        GROUP BY ALL
        """,
        [],
    )


def rent_collected_by_method(cube: list[dict], filters: Filters) -> list[dict]:
    """Money received each month by method (pence) under the filters, from the cube."""
    totals: dict[tuple, dict] = {}
    for row in cube:
        if not filters.start <= row["month"] <= filters.end:
            continue
        if filters.ward is not None and row["ward_code"] != filters.ward:
            continue
        key = (row["month"], row["method"])
        total = totals.setdefault(
            key, {"month": row["month"], "method": row["method"], "people": 0, "collected_pence": 0}
        )
        total["people"] += row["people"]
        total["collected_pence"] += row["collected_pence"]
    return [totals[key] for key in sorted(totals)]


def direct_debits_on_time(con, filters: Filters) -> list[dict]:
    """Direct Debit collections due each month and the share the bank paid on the day (not
    returned unpaid)."""
    where, params = filters.where("c.partition_date", ward_column="a.ward_code")
    return _rows(
        con,
        f"""
        SELECT date_trunc('month', c.partition_date)::DATE AS month,
               count(DISTINCT c.account_key) AS people,
               count(*) AS collections,
               count(*) FILTER (WHERE NOT c.returned)::DOUBLE / count(*) AS share
        FROM fact_dd_collection c JOIN dim_rent_account a USING (account_key)
        WHERE {where}
        GROUP BY 1 ORDER BY 1
        """,  # noqa: S608
        params,
    )


def arrears_cube(con) -> list[dict]:
    """Arrears by ward from each month on, over the whole warehouse: each account's balance
    at the end of each month it has entries in counts (if above zero) until the next such
    month, so each ward's arrears change only in the months it has rows for."""
    return _rows(
        con,
        """
        WITH monthly AS (
            SELECT account_key, any_value(ward_code) AS ward_code,
                   date_trunc('month', posted_on)::DATE AS month, sum(amount_pence) AS amount
            FROM fact_rent_ledger GROUP BY account_key, date_trunc('month', posted_on)
        ), running AS (
            SELECT ward_code, month, lead(month) OVER w AS next_month,
                   sum(amount) OVER (w ROWS UNBOUNDED PRECEDING) AS balance
            FROM monthly WINDOW w AS (PARTITION BY account_key ORDER BY month)
        ), changes AS (
            SELECT ward_code, month, greatest(balance, 0) AS owed, (balance > 0)::INTEGER AS n
            FROM running
            UNION ALL
            SELECT ward_code, next_month, -greatest(balance, 0), -(balance > 0)::INTEGER
            FROM running WHERE next_month IS NOT NULL
        )
        SELECT ward_code, month,
               sum(sum(n)) OVER (PARTITION BY ward_code ORDER BY month)::BIGINT AS people,
               sum(sum(owed)) OVER (PARTITION BY ward_code ORDER BY month)::BIGINT
                   AS arrears_pence
        FROM changes GROUP BY ward_code, month ORDER BY ward_code, month
        """,
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
    return _by_month(
        con,
        filters,
        "fact_statement_line",
        _count_and_share("matched_automatically", "automatic"),
        "amount_pence > 0",
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
