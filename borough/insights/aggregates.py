"""Summary tables the dashboards read: the facts added up once a build, by month and ward.

A dashboard's figures are counts and sums by month (and ward, zone, band, method, service), so
the build adds the facts up to that grain once, at its end (``build``), and the dashboards'
queries (``dashboards_queries``) read these tables: thousands of rows, not the ledger's
millions. Every filter a dashboard offers is a whole month and one ward or all, so a figure
summed from these rows equals the one summed from the facts. Figures that do not add up across
rows are kept at the grain the dashboards show them:

- a median (days to a decision) is worked out for each month and way of deciding, for each ward
  and for all wards together (``all_wards``);
- accounts counted once however many entries they have (``count(DISTINCT …)``) are counted for
  each month and ward: an account's ward is its property's, one ward, so wards add up;
- arrears carry each account's balance forward month to month (``agg_arrears``: a ward's
  arrears and accounts in arrears from each month it changed in).

The tables are rebuilt whole on every build (full or incremental) from the facts in the
warehouse, and ``check`` proves on every build, before publishing, that each one's totals
equal the facts'. They are not part of the published schema (``schema.py``) nor of the Parquet
files: they are the dashboards' own, and may change with them.
"""

from __future__ import annotations

from dataclasses import dataclass

from borough.insights.checks import CheckResult

MONTH_OF = "date_trunc('month', partition_date)::DATE"
# Facts have a ``month`` column of their own (the partition's, 1-12): group by the expression.
MONTH = f"{MONTH_OF} AS month"
HOW = "CASE WHEN decided_automatically THEN 'Automatically' ELSE 'By an officer' END"


@dataclass(frozen=True)
class Aggregate:
    name: str
    grain: str
    select: str
    #: (what is compared, the figure from this table, the same figure from the facts).
    totals: tuple[tuple[str, str, str], ...]


AGGREGATES: tuple[Aggregate, ...] = (
    Aggregate(
        "agg_application_month",
        "month × ward: permit applications decided, and decided with no officer",
        f"""
        SELECT {MONTH}, ward_code, count(*) AS decided,
               count(*) FILTER (WHERE decided_automatically) AS automatic
        FROM fact_permit_application WHERE decided_at IS NOT NULL
        GROUP BY ALL
        """,  # noqa: S608 - written in this module
        (
            (
                "applications decided",
                "SELECT sum(decided) FROM agg_application_month",
                "SELECT count(*) FROM fact_permit_application WHERE decided_at IS NOT NULL",
            ),
            (
                "applications decided automatically",
                "SELECT sum(automatic) FROM agg_application_month",
                "SELECT count(*) FROM fact_permit_application "
                "WHERE decided_at IS NOT NULL AND decided_automatically",
            ),
        ),
    ),
    Aggregate(
        "agg_decision_time",
        "month × how decided × ward, and × all wards: applications and median days to decide",
        f"""
        SELECT {MONTH}, {HOW} AS how, ward_code, grouping(ward_code) = 1 AS all_wards,
               count(*) AS decided, median(epoch(decided_at - created_at)) / 86400 AS days
        FROM fact_permit_application WHERE decided_at IS NOT NULL
        GROUP BY GROUPING SETS (({MONTH_OF}, {HOW}, ward_code), ({MONTH_OF}, {HOW}))
        """,  # noqa: S608 - written in this module
        (
            (
                "applications decided (all wards)",
                "SELECT sum(decided) FROM agg_decision_time WHERE all_wards",
                "SELECT count(*) FROM fact_permit_application WHERE decided_at IS NOT NULL",
            ),
            (
                "applications decided (by ward)",
                "SELECT sum(decided) FROM agg_decision_time WHERE NOT all_wards",
                "SELECT count(*) FROM fact_permit_application WHERE decided_at IS NOT NULL",
            ),
        ),
    ),
    Aggregate(
        "agg_verification_month",
        "month × service: checks against the resident index, and answered with no officer",
        f"""
        SELECT {MONTH}, service_code, count(*) AS checks,
               count(*) FILTER (WHERE decided_automatically) AS automatic
        FROM fact_verification GROUP BY ALL
        """,  # noqa: S608 - written in this module
        (
            (
                "verifications",
                "SELECT sum(checks) FROM agg_verification_month",
                "SELECT count(*) FROM fact_verification",
            ),
            (
                "verifications answered automatically",
                "SELECT sum(automatic) FROM agg_verification_month",
                "SELECT count(*) FROM fact_verification WHERE decided_automatically",
            ),
        ),
    ),
    Aggregate(
        "agg_permit_zone",
        "month issued × ward × zone: permits",
        f"""
        SELECT {MONTH}, ward_code, zone_code, count(*) AS permits FROM fact_permit GROUP BY ALL
        """,  # noqa: S608 - written in this module
        (
            (
                "permits",
                "SELECT sum(permits) FROM agg_permit_zone",
                "SELECT count(*) FROM fact_permit",
            ),
        ),
    ),
    Aggregate(
        "agg_permit_band",
        "month issued × ward × emission band: permits",
        f"""
        SELECT {MONTH}, ward_code, band, count(*) AS permits FROM fact_permit GROUP BY ALL
        """,  # noqa: S608 - written in this module
        (
            (
                "permits",
                "SELECT sum(permits) FROM agg_permit_band",
                "SELECT count(*) FROM fact_permit",
            ),
        ),
    ),
    Aggregate(
        "agg_permit_money",
        "month issued × ward: permits, paid and refunded (pence)",
        f"""
        SELECT {MONTH}, ward_code, count(*) AS permits,
               sum(paid_pence)::BIGINT AS paid_pence, sum(refunded_pence)::BIGINT AS refunded_pence
        FROM fact_permit GROUP BY ALL
        """,  # noqa: S608 - written in this module
        (
            (
                "permits",
                "SELECT sum(permits) FROM agg_permit_money",
                "SELECT count(*) FROM fact_permit",
            ),
            (
                "paid (pence)",
                "SELECT sum(paid_pence) FROM agg_permit_money",
                "SELECT sum(paid_pence) FROM fact_permit",
            ),
            (
                "refunded (pence)",
                "SELECT sum(refunded_pence) FROM agg_permit_money",
                "SELECT sum(refunded_pence) FROM fact_permit",
            ),
        ),
    ),
    Aggregate(
        "agg_enforcement_month",
        "month: enforcement checks, and vehicles allowed to park",
        f"""
        SELECT {MONTH}, count(*) AS checks, count(*) FILTER (WHERE allowed) AS allowed
        FROM fact_enforcement_check GROUP BY ALL
        """,  # noqa: S608 - written in this module
        (
            (
                "enforcement checks",
                "SELECT sum(checks) FROM agg_enforcement_month",
                "SELECT count(*) FROM fact_enforcement_check",
            ),
            (
                "vehicles allowed",
                "SELECT sum(allowed) FROM agg_enforcement_month",
                "SELECT count(*) FROM fact_enforcement_check WHERE allowed",
            ),
        ),
    ),
    Aggregate(
        "agg_rent_collected",
        "month × ward × payment method group (reversals their own): accounts that paid, and "
        "money collected (pence)",
        # The accounts are counted per month, ward and method: an account is in one ward, so
        # the counts of wards add up.
        """
        SELECT date_trunc('month', l.partition_date)::DATE AS month, l.ward_code,
               CASE WHEN l.payment_method = 'reversal' THEN 'reversed' ELSE m.method_group END
                   AS method,
               count(DISTINCT l.account_key) AS accounts,
               (-sum(l.amount_pence))::BIGINT AS collected_pence
        FROM fact_rent_ledger l JOIN dim_payment_method m USING (payment_method)
        WHERE m.is_payment OR l.payment_method = 'reversal'
        GROUP BY ALL
        """,
        (
            (
                "money collected (pence)",
                "SELECT sum(collected_pence) FROM agg_rent_collected",
                "SELECT -sum(l.amount_pence) FROM fact_rent_ledger l "
                "JOIN dim_payment_method m USING (payment_method) "
                "WHERE m.is_payment OR l.payment_method = 'reversal'",
            ),
            (
                # Adding up wards counts each account once: no account is in two wards.
                "accounts that paid, month by month and method by method",
                "SELECT sum(accounts) FROM agg_rent_collected",
                "SELECT sum(n) FROM (SELECT count(DISTINCT l.account_key) AS n "
                "FROM fact_rent_ledger l JOIN dim_payment_method m USING (payment_method) "
                "WHERE m.is_payment OR l.payment_method = 'reversal' "
                "GROUP BY date_trunc('month', l.partition_date), "
                "CASE WHEN l.payment_method = 'reversal' THEN 'reversed' "
                "ELSE m.method_group END)",
            ),
        ),
    ),
    Aggregate(
        "agg_dd_month",
        "month due × the account's ward: accounts, Direct Debit collections, paid on the day",
        """
        SELECT date_trunc('month', c.partition_date)::DATE AS month, a.ward_code,
               count(DISTINCT c.account_key) AS accounts, count(*) AS collections,
               count(*) FILTER (WHERE NOT c.returned) AS on_time
        FROM fact_dd_collection c JOIN dim_rent_account a USING (account_key)
        GROUP BY ALL
        """,
        (
            (
                "Direct Debit collections",
                "SELECT sum(collections) FROM agg_dd_month",
                "SELECT count(*) FROM fact_dd_collection c "
                "JOIN dim_rent_account a USING (account_key)",
            ),
            (
                "Direct Debit collections paid on the day",
                "SELECT sum(on_time) FROM agg_dd_month",
                "SELECT count(*) FROM fact_dd_collection c "
                "JOIN dim_rent_account a USING (account_key) WHERE NOT c.returned",
            ),
            (
                "accounts with collections, month by month",
                "SELECT sum(accounts) FROM agg_dd_month",
                "SELECT sum(n) FROM (SELECT count(DISTINCT c.account_key) AS n "
                "FROM fact_dd_collection c JOIN dim_rent_account a USING (account_key) "
                "GROUP BY date_trunc('month', c.partition_date))",
            ),
        ),
    ),
    Aggregate(
        "agg_arrears",
        "ward × month: accounts in arrears and arrears (pence) from the end of that month until "
        "the ward's next row; a ward's arrears change only in the months it has rows for",
        # Each account's balance at the end of each month it has entries in counts (if above
        # zero) until the next such month.
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
               sum(sum(n)) OVER (PARTITION BY ward_code ORDER BY month)::BIGINT AS accounts,
               sum(sum(owed)) OVER (PARTITION BY ward_code ORDER BY month)::BIGINT
                   AS arrears_pence
        FROM changes GROUP BY ward_code, month
        """,
        (
            (
                # Each ward's last row is every account's balance after its last entry.
                "arrears after every entry (pence)",
                "SELECT sum(arrears_pence) FROM (SELECT arg_max(arrears_pence, month) "
                "AS arrears_pence FROM agg_arrears GROUP BY ward_code)",
                "SELECT coalesce(sum(greatest(b, 0)), 0) FROM (SELECT sum(amount_pence) AS b "
                "FROM fact_rent_ledger GROUP BY account_key)",
            ),
            (
                "accounts in arrears after every entry",
                "SELECT sum(accounts) FROM (SELECT arg_max(accounts, month) AS accounts "
                "FROM agg_arrears GROUP BY ward_code)",
                "SELECT count(*) FROM (SELECT sum(amount_pence) AS b "
                "FROM fact_rent_ledger GROUP BY account_key) WHERE b > 0",
            ),
        ),
    ),
    Aggregate(
        "agg_statement_line_month",
        "month booked: money-in bank statement lines, and those matched with no officer",
        f"""
        SELECT {MONTH}, count(*) AS lines,
               count(*) FILTER (WHERE matched_automatically) AS automatic
        FROM fact_statement_line WHERE amount_pence > 0 GROUP BY ALL
        """,  # noqa: S608 - written in this module
        (
            (
                "money-in statement lines",
                "SELECT sum(lines) FROM agg_statement_line_month",
                "SELECT count(*) FROM fact_statement_line WHERE amount_pence > 0",
            ),
            (
                "lines matched automatically",
                "SELECT sum(automatic) FROM agg_statement_line_month",
                "SELECT count(*) FROM fact_statement_line "
                "WHERE amount_pence > 0 AND matched_automatically",
            ),
        ),
    ),
)

NAMES = tuple(a.name for a in AGGREGATES)


def build(con) -> dict[str, int]:
    """(Re)make every summary table from the facts in ``con``; return each one's rows."""
    rows = {}
    for a in AGGREGATES:
        con.execute(f'CREATE OR REPLACE TABLE "{a.name}" AS {a.select}')
        rows[a.name] = con.execute(f'SELECT count(*) FROM "{a.name}"').fetchone()[0]  # noqa: S608
    return rows


def check(con) -> list[CheckResult]:
    """Each summary table's totals against the same totals worked out from the facts."""
    results = []
    for a in AGGREGATES:
        for what, summed, from_facts in a.totals:
            found = con.execute(summed).fetchone()[0] or 0
            expected = con.execute(from_facts).fetchone()[0] or 0
            results.append(
                CheckResult(f"summary {a.name}: {what}", found == expected, expected, found)
            )
    return results


def present(con) -> bool:
    """Whether the warehouse holds every summary table (one built before they existed does
    not, until the next build)."""
    found = {
        row[0]
        for row in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_name LIKE 'agg_%'"
        ).fetchall()
    }
    return set(NAMES) <= found
