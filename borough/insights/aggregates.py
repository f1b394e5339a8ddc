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

A full build makes the tables whole from the facts in the warehouse. An incremental build
(``build`` with the partitions it changed) remakes only the months it changed of each table
whose months are made from that month's facts alone (``Aggregate.month_local``); remakes
``agg_arrears`` from the first month it changed on, from ``agg_rent_account_month`` (each
account's entries summed by month: a twelfth of the ledger's rows); and remakes whole the one
that reads a dimension a build may change (``agg_dd_month``: the account's ward). ``check``
proves on every build, before publishing, that the tables equal the facts: what an incremental
build proves, and what only a full build does, is in its docstring. They are not part of the
published schema (``schema.py``) nor of the Parquet files: they are the dashboards' own, and
may change with them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import NamedTuple

from borough.insights.checks import CheckResult

MONTH_OF = "date_trunc('month', partition_date)::DATE"
# Facts have a ``month`` column of their own (the partition's, 1-12): group by the expression.
MONTH = f"{MONTH_OF} AS month"
HOW = "CASE WHEN decided_automatically THEN 'Automatically' ELSE 'By an officer' END"


class Total(NamedTuple):
    what: str
    #: The figure from the summary table, and the same figure from the facts.
    summed: str
    from_facts: str
    #: A plain count or sum over the fact (a fraction of a second in DuckDB at 12M rows), so an
    #: incremental build checks it over the whole table; False: a count of distinct keys or a
    #: balance per account, which only a full build works out again.
    cheap: bool = True


@dataclass(frozen=True)
class Aggregate:
    name: str
    grain: str
    #: ``{fact}`` stands for the fact it reads (all of it, or only some months of it).
    select: str
    totals: tuple[Total, ...]
    fact: str
    #: Each month's rows come from that month's facts alone (and from dimensions no build
    #: changes), so an incremental build recomputes only the months it changed. False: rebuilt
    #: whole on every build, or from ``since``.
    month_local: bool = True
    #: For a summary whose figures carry forward month to month: SELECT of its rows from the
    #: month ``{since}`` on, worked out from its rows before that month and the facts' from it
    #: (an incremental build runs it from the first month it changed).
    since: str = ""


AGGREGATES: tuple[Aggregate, ...] = (
    Aggregate(
        "agg_application_month",
        "month × ward: permit applications decided, and decided with no officer",
        f"""
        SELECT {MONTH}, ward_code, count(*) AS decided,
               count(*) FILTER (WHERE decided_automatically) AS automatic
        FROM {{fact}} WHERE decided_at IS NOT NULL
        GROUP BY ALL
        """,  # noqa: S608 - written in this module
        (
            Total(
                "applications decided",
                "SELECT sum(decided) FROM agg_application_month",
                "SELECT count(*) FROM fact_permit_application WHERE decided_at IS NOT NULL",
            ),
            Total(
                "applications decided automatically",
                "SELECT sum(automatic) FROM agg_application_month",
                "SELECT count(*) FROM fact_permit_application "
                "WHERE decided_at IS NOT NULL AND decided_automatically",
            ),
        ),
        "fact_permit_application",
    ),
    Aggregate(
        "agg_decision_time",
        "month × how decided × ward, and × all wards: applications and median days to decide",
        f"""
        SELECT {MONTH}, {HOW} AS how, ward_code, grouping(ward_code) = 1 AS all_wards,
               count(*) AS decided, median(epoch(decided_at - created_at)) / 86400 AS days
        FROM {{fact}} WHERE decided_at IS NOT NULL
        GROUP BY GROUPING SETS (({MONTH_OF}, {HOW}, ward_code), ({MONTH_OF}, {HOW}))
        """,  # noqa: S608 - written in this module
        (
            Total(
                "applications decided (all wards)",
                "SELECT sum(decided) FROM agg_decision_time WHERE all_wards",
                "SELECT count(*) FROM fact_permit_application WHERE decided_at IS NOT NULL",
            ),
            Total(
                "applications decided (by ward)",
                "SELECT sum(decided) FROM agg_decision_time WHERE NOT all_wards",
                "SELECT count(*) FROM fact_permit_application WHERE decided_at IS NOT NULL",
            ),
        ),
        "fact_permit_application",
    ),
    Aggregate(
        "agg_verification_month",
        "month × service: checks against the resident index, and answered with no officer",
        f"""
        SELECT {MONTH}, service_code, count(*) AS checks,
               count(*) FILTER (WHERE decided_automatically) AS automatic
        FROM {{fact}} GROUP BY ALL
        """,  # noqa: S608 - written in this module
        (
            Total(
                "verifications",
                "SELECT sum(checks) FROM agg_verification_month",
                "SELECT count(*) FROM fact_verification",
            ),
            Total(
                "verifications answered automatically",
                "SELECT sum(automatic) FROM agg_verification_month",
                "SELECT count(*) FROM fact_verification WHERE decided_automatically",
            ),
        ),
        "fact_verification",
    ),
    Aggregate(
        "agg_permit_zone",
        "month issued × ward × zone: permits",
        f"""
        SELECT {MONTH}, ward_code, zone_code, count(*) AS permits FROM {{fact}} GROUP BY ALL
        """,  # noqa: S608 - written in this module
        (
            Total(
                "permits",
                "SELECT sum(permits) FROM agg_permit_zone",
                "SELECT count(*) FROM fact_permit",
            ),
        ),
        "fact_permit",
    ),
    Aggregate(
        "agg_permit_band",
        "month issued × ward × emission band: permits",
        f"""
        SELECT {MONTH}, ward_code, band, count(*) AS permits FROM {{fact}} GROUP BY ALL
        """,  # noqa: S608 - written in this module
        (
            Total(
                "permits",
                "SELECT sum(permits) FROM agg_permit_band",
                "SELECT count(*) FROM fact_permit",
            ),
        ),
        "fact_permit",
    ),
    Aggregate(
        "agg_permit_money",
        "month issued × ward: permits, paid and refunded (pence)",
        f"""
        SELECT {MONTH}, ward_code, count(*) AS permits,
               sum(paid_pence)::BIGINT AS paid_pence, sum(refunded_pence)::BIGINT AS refunded_pence
        FROM {{fact}} GROUP BY ALL
        """,  # noqa: S608 - written in this module
        (
            Total(
                "permits",
                "SELECT sum(permits) FROM agg_permit_money",
                "SELECT count(*) FROM fact_permit",
            ),
            Total(
                "paid (pence)",
                "SELECT sum(paid_pence) FROM agg_permit_money",
                "SELECT sum(paid_pence) FROM fact_permit",
            ),
            Total(
                "refunded (pence)",
                "SELECT sum(refunded_pence) FROM agg_permit_money",
                "SELECT sum(refunded_pence) FROM fact_permit",
            ),
        ),
        "fact_permit",
    ),
    Aggregate(
        "agg_enforcement_month",
        "month: enforcement checks, and vehicles allowed to park",
        f"""
        SELECT {MONTH}, count(*) AS checks, count(*) FILTER (WHERE allowed) AS allowed
        FROM {{fact}} GROUP BY ALL
        """,  # noqa: S608 - written in this module
        (
            Total(
                "enforcement checks",
                "SELECT sum(checks) FROM agg_enforcement_month",
                "SELECT count(*) FROM fact_enforcement_check",
            ),
            Total(
                "vehicles allowed",
                "SELECT sum(allowed) FROM agg_enforcement_month",
                "SELECT count(*) FROM fact_enforcement_check WHERE allowed",
            ),
        ),
        "fact_enforcement_check",
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
        FROM {fact} l JOIN dim_payment_method m USING (payment_method)
        WHERE m.is_payment OR l.payment_method = 'reversal'
        GROUP BY ALL
        """,
        (
            Total(
                "money collected (pence)",
                "SELECT sum(collected_pence) FROM agg_rent_collected",
                # Summed by method first: a third of the time of joining every entry.
                "SELECT -sum(l.pence) FROM (SELECT payment_method, sum(amount_pence) AS pence "
                "FROM fact_rent_ledger GROUP BY payment_method) l "
                "JOIN dim_payment_method m USING (payment_method) "
                "WHERE m.is_payment OR l.payment_method = 'reversal'",
            ),
            Total(
                # Adding up wards counts each account once: no account is in two wards.
                "accounts that paid, month by month and method by method",
                "SELECT sum(accounts) FROM agg_rent_collected",
                "SELECT sum(n) FROM (SELECT count(DISTINCT l.account_key) AS n "
                "FROM fact_rent_ledger l JOIN dim_payment_method m USING (payment_method) "
                "WHERE m.is_payment OR l.payment_method = 'reversal' "
                "GROUP BY date_trunc('month', l.partition_date), "
                "CASE WHEN l.payment_method = 'reversal' THEN 'reversed' "
                "ELSE m.method_group END)",
                cheap=False,
            ),
        ),
        "fact_rent_ledger",
    ),
    Aggregate(
        "agg_dd_month",
        "month due × the account's ward: accounts, Direct Debit collections, paid on the day",
        """
        SELECT date_trunc('month', c.partition_date)::DATE AS month, a.ward_code,
               count(DISTINCT c.account_key) AS accounts, count(*) AS collections,
               count(*) FILTER (WHERE NOT c.returned) AS on_time
        FROM {fact} c JOIN dim_rent_account a USING (account_key)
        GROUP BY ALL
        """,
        (
            Total(
                "Direct Debit collections",
                "SELECT sum(collections) FROM agg_dd_month",
                "SELECT count(*) FROM fact_dd_collection c "
                "JOIN dim_rent_account a USING (account_key)",
            ),
            Total(
                "Direct Debit collections paid on the day",
                "SELECT sum(on_time) FROM agg_dd_month",
                "SELECT count(*) FROM fact_dd_collection c "
                "JOIN dim_rent_account a USING (account_key) WHERE NOT c.returned",
            ),
            Total(
                "accounts with collections, month by month",
                "SELECT sum(accounts) FROM agg_dd_month",
                "SELECT sum(n) FROM (SELECT count(DISTINCT c.account_key) AS n "
                "FROM fact_dd_collection c JOIN dim_rent_account a USING (account_key) "
                "GROUP BY date_trunc('month', c.partition_date))",
                cheap=False,
            ),
        ),
        "fact_dd_collection",
        month_local=False,
    ),
    Aggregate(
        "agg_rent_account_month",
        "account × month: the account's ward, its entries and their sum (pence); what "
        "agg_arrears is worked out from (about one row for twelve entries)",
        # Grouped by the partition's month, which is the month of ``posted_on`` (the ledger's
        # partition_date is its posted_on: transform.py), so a month's rows come from that
        # month's partition alone. max(ward_code): one ward, whichever build added the rows.
        f"""
        SELECT account_key, {MONTH}, max(ward_code) AS ward_code, count(*) AS entries,
               sum(amount_pence)::BIGINT AS amount_pence
        FROM {{fact}} GROUP BY account_key, {MONTH_OF}
        """,  # noqa: S608 - written in this module
        (
            Total(
                "ledger entries",
                "SELECT sum(entries) FROM agg_rent_account_month",
                "SELECT count(*) FROM fact_rent_ledger",
            ),
            Total(
                "ledger total (pence)",
                "SELECT sum(amount_pence) FROM agg_rent_account_month",
                "SELECT sum(amount_pence) FROM fact_rent_ledger",
            ),
            Total(
                "accounts' months with entries",
                "SELECT count(*) FROM agg_rent_account_month",
                "SELECT count(*) FROM (SELECT DISTINCT account_key, "  # noqa: S608 - this module
                f"{MONTH_OF} FROM fact_rent_ledger)",
                cheap=False,
            ),
        ),
        "fact_rent_ledger",
    ),
    Aggregate(
        "agg_arrears",
        "ward × month: accounts in arrears and arrears (pence) from the end of that month until "
        "the ward's next row; a ward's arrears change only in the months it has rows for",
        # Each account's balance at the end of each month it has entries in counts (if above
        # zero) until the next such month. Read from agg_rent_account_month (made just before),
        # not from the ledger: rebuilt whole, as a month changes every later month's figures.
        """
        WITH running AS (
            SELECT ward_code, month, lead(month) OVER w AS next_month,
                   sum(amount_pence) OVER (w ROWS UNBOUNDED PRECEDING) AS balance
            FROM agg_rent_account_month WINDOW w AS (PARTITION BY account_key ORDER BY month)
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
            Total(
                # Each ward's last row is every account's balance after its last entry.
                "arrears after every entry (pence)",
                "SELECT sum(arrears_pence) FROM (SELECT arg_max(arrears_pence, month) "
                "AS arrears_pence FROM agg_arrears GROUP BY ward_code)",
                "SELECT coalesce(sum(greatest(b, 0)), 0) FROM (SELECT sum(amount_pence) AS b "
                "FROM fact_rent_ledger GROUP BY account_key)",
                cheap=False,
            ),
            Total(
                "accounts in arrears after every entry",
                "SELECT sum(accounts) FROM (SELECT arg_max(accounts, month) AS accounts "
                "FROM agg_arrears GROUP BY ward_code)",
                "SELECT count(*) FROM (SELECT sum(amount_pence) AS b "
                "FROM fact_rent_ledger GROUP BY account_key) WHERE b > 0",
                cheap=False,
            ),
        ),
        "fact_rent_ledger",
        month_local=False,
        # Rows before {since} are kept: each ward's figures there are its last row before it
        # (base). From {since} on, each account's balance starts from its entries before
        # (before: with the ward of its last month before), and the account's last month
        # before {since} stops counting at its first month from {since} on.
        since="""
        WITH later AS (
            SELECT * FROM agg_rent_account_month WHERE month >= {since}
        ), before AS (
            SELECT account_key, arg_max(ward_code, month) AS ward_code,
                   sum(amount_pence) AS balance
            FROM agg_rent_account_month
            WHERE month < {since} AND account_key IN (SELECT account_key FROM later)
            GROUP BY account_key
        ), running AS (
            SELECT l.account_key, l.ward_code, l.month, lead(l.month) OVER w AS next_month,
                   row_number() OVER w = 1 AS first,
                   coalesce(b.balance, 0) + sum(l.amount_pence) OVER (w ROWS UNBOUNDED PRECEDING)
                       AS balance
            FROM later l LEFT JOIN before b USING (account_key)
            WINDOW w AS (PARTITION BY l.account_key ORDER BY l.month)
        ), changes AS (
            SELECT ward_code, month, greatest(balance, 0) AS owed, (balance > 0)::INTEGER AS n
            FROM running
            UNION ALL
            SELECT ward_code, next_month, -greatest(balance, 0), -(balance > 0)::INTEGER
            FROM running WHERE next_month IS NOT NULL
            UNION ALL
            SELECT b.ward_code, r.month, -greatest(b.balance, 0), -(b.balance > 0)::INTEGER
            FROM running r JOIN before b USING (account_key) WHERE r.first
        ), base AS (
            SELECT ward_code, arg_max(accounts, month) AS accounts,
                   arg_max(arrears_pence, month) AS arrears_pence
            FROM agg_arrears WHERE month < {since} GROUP BY ward_code
        ), summed AS (
            SELECT ward_code, month,
                   sum(sum(n)) OVER (PARTITION BY ward_code ORDER BY month) AS accounts,
                   sum(sum(owed)) OVER (PARTITION BY ward_code ORDER BY month) AS arrears_pence
            FROM changes GROUP BY ward_code, month
        )
        SELECT s.ward_code, s.month, (coalesce(b.accounts, 0) + s.accounts)::BIGINT,
               (coalesce(b.arrears_pence, 0) + s.arrears_pence)::BIGINT
        FROM summed s LEFT JOIN base b USING (ward_code)
        """,
    ),
    Aggregate(
        "agg_statement_line_month",
        "month booked: money-in bank statement lines, and those matched with no officer",
        f"""
        SELECT {MONTH}, count(*) AS lines,
               count(*) FILTER (WHERE matched_automatically) AS automatic
        FROM {{fact}} WHERE amount_pence > 0 GROUP BY ALL
        """,  # noqa: S608 - written in this module
        (
            Total(
                "money-in statement lines",
                "SELECT sum(lines) FROM agg_statement_line_month",
                "SELECT count(*) FROM fact_statement_line WHERE amount_pence > 0",
            ),
            Total(
                "lines matched automatically",
                "SELECT sum(automatic) FROM agg_statement_line_month",
                "SELECT count(*) FROM fact_statement_line "
                "WHERE amount_pence > 0 AND matched_automatically",
            ),
        ),
        "fact_statement_line",
    ),
)

NAMES = tuple(a.name for a in AGGREGATES)


Changed = dict[str, "set[tuple[int, int]] | None"]


def fingerprint(con) -> str:
    """What the summaries are made from besides the facts: their SQL and the payment methods'
    groups (``dim_payment_method``, the one dimension the month-local ones read). An
    incremental build whose last build had another fingerprint makes them all whole."""
    methods = con.execute(
        "SELECT payment_method, is_payment, method_group FROM dim_payment_method ORDER BY ALL"
    ).fetchall()
    text = "\n".join(a.select + a.since for a in AGGREGATES) + repr(methods)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _months(a: Aggregate, changed: Changed | None) -> set[tuple[int, int]] | None:
    """The (year, month)s of ``a`` this build recomputes; None: the whole table."""
    if changed is None or not a.month_local:
        return None
    return changed.get(a.fact)


def _restricted(fact: str, months: set[tuple[int, int]]) -> str:
    where = " OR ".join(f"(year = {y} AND month = {m})" for y, m in sorted(months))
    return f'(SELECT * FROM "{fact}" WHERE {where})'  # noqa: S608 - written in this module


def _in_months(months: set[tuple[int, int]]) -> str:
    return ", ".join(f"DATE '{dt.date(y, m, 1).isoformat()}'" for y, m in sorted(months))


def build(con, changed: Changed | None = None) -> dict[str, int]:
    """Make the summary tables from the facts in ``con``; return each one's rows.

    ``changed``: each fact's (year, month) partitions an incremental build changed (None for a
    fact: all of them). The month-local summaries then lose those months' rows and get them
    again from those months' facts; one that carries figures forward (``since``) is remade
    from the first changed month on; the others are made whole. ``changed`` None (a full
    build, or the summaries' fingerprint changed): every summary is made whole."""
    rows = {}
    for a in AGGREGATES:
        months = None if changed is None else changed.get(a.fact)
        if months is None or not (a.month_local or a.since):
            con.execute(f'CREATE OR REPLACE TABLE "{a.name}" AS {a.select.format(fact=a.fact)}')
        elif months and a.month_local:
            con.execute(f'DELETE FROM "{a.name}" WHERE month IN ({_in_months(months)})')  # noqa: S608
            con.execute(
                f'INSERT INTO "{a.name}" {a.select.format(fact=_restricted(a.fact, months))}'
            )
        elif months:
            since = _in_months({min(months)})
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE summary_since AS {a.since.format(since=since)}"
            )
            con.execute(f'DELETE FROM "{a.name}" WHERE month >= {since}')  # noqa: S608
            con.execute(f'INSERT INTO "{a.name}" SELECT * FROM summary_since')  # noqa: S608
            con.execute("DROP TABLE summary_since")
        rows[a.name] = con.execute(f'SELECT count(*) FROM "{a.name}"').fetchone()[0]  # noqa: S608
    return rows


def check(con, changed: Changed | None = None) -> list[CheckResult]:
    """Prove each summary table equals what its facts give.

    A full build (``changed`` None) compares every total of every summary (``Aggregate.totals``)
    with the same total worked out from the whole facts: counts and sums, accounts counted
    once a month, arrears after every entry.

    An incremental build (``changed`` as given to ``build``) proves less, in less time:

    - the rows of the months it changed in each month-local summary equal, row for row, the
      same SELECT run again over those months' facts;
    - every cheap total (``Total.cheap``: a plain count or sum) of a month-local summary, over
      the whole table, equals the whole facts' (a row of an unchanged month that is wrong in a
      count or a sum shows there);
    - a summary made whole or from a month on (``agg_dd_month``, ``agg_arrears``) passes every
      one of its totals, as on a full build.

    What only a full build proves: the totals that are not cheap over the months the build did
    not change (accounts counted once a month in ``agg_rent_collected``,
    ``agg_rent_account_month``'s count of rows), and any error in an unchanged month that
    leaves every count and sum right (two wards' figures swapped, say). Those rows were proved
    by the build that made them, and are copied with the published warehouse's file."""
    results = []
    for a in AGGREGATES:
        months = _months(a, changed)
        if months:
            results.append(_same_rows(con, a, months))
        for t in a.totals:
            if months is not None and not t.cheap:
                continue
            found = con.execute(t.summed).fetchone()[0] or 0
            expected = con.execute(t.from_facts).fetchone()[0] or 0
            results.append(
                CheckResult(f"summary {a.name}: {t.what}", found == expected, expected, found)
            )
    return results


def _same_rows(con, a: Aggregate, months: set[tuple[int, int]]) -> CheckResult:
    """The summary's rows in ``months`` against its SELECT run again over those months."""
    ours = f'SELECT * FROM "{a.name}" WHERE month IN ({_in_months(months)})'  # noqa: S608
    what = f"the rows of the {len(months)} months this build changed"
    facts = a.select.format(fact=_restricted(a.fact, months))
    con.execute(f"CREATE OR REPLACE TEMP TABLE summary_again AS {facts}")
    differing = con.execute(
        f"""SELECT (SELECT count(*) FROM ({ours} EXCEPT ALL SELECT * FROM summary_again))
        + (SELECT count(*) FROM (SELECT * FROM summary_again EXCEPT ALL {ours}))"""  # noqa: S608
    ).fetchone()[0]
    con.execute("DROP TABLE summary_again")
    return CheckResult(
        f"summary {a.name}: {what} as the facts give them",
        differing == 0,
        "0 rows differing",
        f"{differing} rows differing",
    )


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
