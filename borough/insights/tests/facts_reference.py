"""Every figure the dashboards read from the build's summary tables, worked out instead from
the facts, as the dashboards did before the summary tables (``aggregates.py``): what the tests
and the ``dashboards`` benchmark compare them with."""

from __future__ import annotations

import bisect
import datetime as dt

from borough.insights import dashboards_queries as q
from borough.insights.dashboards_forms import last_day
from borough.insights.dashboards_queries import Filters


def _rows(con, sql: str, params: list) -> list[dict]:
    cursor = con.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _by_month(con, f: Filters, table: str, figures: str, condition="", ward=False):
    where, params = f.where(ward_column="ward_code" if ward else None)
    return _rows(
        con,
        f"SELECT date_trunc('month', partition_date)::DATE AS month, count(*) AS people, "
        f"{figures} FROM {table} WHERE {where} {'AND ' + condition if condition else ''} "
        "GROUP BY 1 ORDER BY 1",
        params,
    )


def _share(flag: str, name: str) -> str:
    return (
        f"count(*) FILTER (WHERE {flag}) AS {name}, "
        f"count(*) FILTER (WHERE {flag})::DOUBLE / count(*) AS share"
    )


def facts_applications_by_month(con, f):
    return _by_month(
        con,
        f,
        "fact_permit_application",
        _share("decided_automatically", "automatic"),
        "decided_at IS NOT NULL",
        ward=True,
    )


def facts_applications_by_ward(con, f):
    where, params = f.where("a.partition_date", ward_column="a.ward_code")
    return _rows(
        con,
        f"""SELECT coalesce(w.ward_name, 'Not known') AS ward, count(*) AS people,
               {_share("a.decided_automatically", "automatic")}
        FROM fact_permit_application a LEFT JOIN dim_ward w USING (ward_code)
        WHERE {where} AND a.decided_at IS NOT NULL GROUP BY 1 ORDER BY 1""",
        params,
    )


def facts_time_to_decision(con, f):
    where, params = f.where(ward_column="ward_code")
    return _rows(
        con,
        f"""SELECT date_trunc('month', partition_date)::DATE AS month,
               CASE WHEN decided_automatically THEN 'Automatically' ELSE 'By an officer' END
                   AS how,
               count(*) AS people, median(epoch(decided_at - created_at)) / 86400 AS days
        FROM fact_permit_application WHERE {where} AND decided_at IS NOT NULL
        GROUP BY 1, 2 ORDER BY 1, 2""",
        params,
    )


def facts_verifications_by_service(con, f):
    where, params = f.where("v.partition_date")
    return _rows(
        con,
        f"""SELECT coalesce(s.service_name, v.service_code) AS service, count(*) AS people,
               {_share("v.decided_automatically", "automatic")}
        FROM fact_verification v LEFT JOIN dim_service s USING (service_code)
        WHERE {where} GROUP BY 1 ORDER BY 1""",
        params,
    )


def facts_automatic_checks_by_month(con, f):
    return [
        {"month": r["month"], "people": r["people"]}
        for r in _by_month(con, f, "fact_verification", "1 AS one", "decided_automatically")
    ]


def facts_permits_by_zone(con, f):
    where, params = f.where("p.partition_date", ward_column="p.ward_code")
    return _rows(
        con,
        f"""SELECT coalesce(z.zone_name, p.zone_code) AS zone, count(*) AS people
        FROM fact_permit p LEFT JOIN dim_zone z USING (zone_code)
        WHERE {where} GROUP BY 1 ORDER BY 1""",
        params,
    )


def facts_permits_by_band(con, f):
    where, params = f.where("p.partition_date", ward_column="p.ward_code")
    return _rows(
        con,
        f"""SELECT CASE WHEN p.band = '' THEN 'No band' ELSE 'Band ' || p.band END AS band,
               count(*) AS people
        FROM fact_permit p LEFT JOIN dim_emission_band b USING (band)
        WHERE {where} GROUP BY 1, b.sort_order ORDER BY b.sort_order NULLS LAST, 1""",
        params,
    )


def facts_permit_money_by_month(con, f):
    return _by_month(
        con,
        f,
        "fact_permit",
        "sum(paid_pence)::BIGINT AS paid_pence, sum(refunded_pence)::BIGINT AS refunded_pence, "
        "(sum(paid_pence) - sum(refunded_pence))::BIGINT AS net_pence",
        ward=True,
    )


def facts_enforcement_checks_by_month(con, f):
    return _by_month(con, f, "fact_enforcement_check", _share("allowed", "allowed"))


def facts_rent_collected_by_method(con, f):
    cube = _rows(
        con,
        """SELECT date_trunc('month', l.partition_date)::DATE AS month, l.ward_code,
               CASE WHEN l.payment_method = 'reversal' THEN 'reversed' ELSE m.method_group END
                   AS method,
               count(DISTINCT l.account_key) AS people,
               (-sum(l.amount_pence))::BIGINT AS collected_pence
        FROM fact_rent_ledger l JOIN dim_payment_method m USING (payment_method)
        WHERE m.is_payment OR l.payment_method = 'reversal' GROUP BY ALL""",
        [],
    )
    totals: dict[tuple, dict] = {}
    for row in cube:
        if not f.start <= row["month"] <= f.end:
            continue
        if f.ward is not None and row["ward_code"] != f.ward:
            continue
        total = totals.setdefault(
            (row["month"], row["method"]),
            {"month": row["month"], "method": row["method"], "people": 0, "collected_pence": 0},
        )
        total["people"] += row["people"]
        total["collected_pence"] += row["collected_pence"]
    return [totals[key] for key in sorted(totals)]


def facts_direct_debits_on_time(con, f):
    where, params = f.where("c.partition_date", ward_column="a.ward_code")
    return _rows(
        con,
        f"""SELECT date_trunc('month', c.partition_date)::DATE AS month,
               count(DISTINCT c.account_key) AS people, count(*) AS collections,
               count(*) FILTER (WHERE NOT c.returned)::DOUBLE / count(*) AS share
        FROM fact_dd_collection c JOIN dim_rent_account a USING (account_key)
        WHERE {where} GROUP BY 1 ORDER BY 1""",
        params,
    )


def facts_arrears_by_month_end(con, f):
    """Each account's balance at each month's end straight from its entries, no carrying."""
    balances = _rows(
        con,
        "SELECT account_key, any_value(ward_code) AS ward_code, "
        "list(posted_on ORDER BY posted_on) AS days, "
        "list(amount_pence ORDER BY posted_on) AS amounts "
        "FROM fact_rent_ledger GROUP BY account_key",
        [],
    )
    out = []
    month = f.start
    while month <= f.end:
        people = owed = 0
        for account in balances:
            if f.ward is not None and account["ward_code"] != f.ward:
                continue
            upto = bisect.bisect_right(account["days"], last_day(month))
            balance = sum(account["amounts"][:upto])
            if upto and balance > 0:
                people += 1
                owed += balance
        out.append({"month": month, "people": people, "arrears_pence": owed})
        month = (month + dt.timedelta(days=32)).replace(day=1)
    return out


def facts_statement_lines_matched(con, f):
    return _by_month(
        con,
        f,
        "fact_statement_line",
        _share("matched_automatically", "automatic"),
        "amount_pence > 0",
    )


FROM_SUMMARIES = {
    "applications_by_month": q.applications_by_month,
    "applications_by_ward": q.applications_by_ward,
    "time_to_decision": q.time_to_decision,
    "verifications_by_service": q.verifications_by_service,
    "automatic_checks_by_month": q.automatic_checks_by_month,
    "permits_by_zone": q.permits_by_zone,
    "permits_by_band": q.permits_by_band,
    "permit_money_by_month": q.permit_money_by_month,
    "enforcement_checks_by_month": q.enforcement_checks_by_month,
    "rent_collected_by_method": q.rent_collected_by_method,
    "direct_debits_on_time": q.direct_debits_on_time,
    "arrears_by_month_end": lambda con, f: q.arrears_by_month_end(q.arrears_cube(con), f),
    "statement_lines_matched": q.statement_lines_matched,
}


#: Each figure's facts version, by the name of the function in ``dashboards_queries``.
FROM_FACTS = {name: globals()[f"facts_{name}"] for name in FROM_SUMMARIES}

#: The figures each dashboard reads from the summary tables.
BY_DASHBOARD = {
    "applications": [
        "applications_by_month",
        "applications_by_ward",
        "time_to_decision",
        "verifications_by_service",
    ],
    "savings": ["automatic_checks_by_month"],
    "parking": [
        "permits_by_zone",
        "permits_by_band",
        "permit_money_by_month",
        "enforcement_checks_by_month",
    ],
    "rent": [
        "rent_collected_by_method",
        "direct_debits_on_time",
        "arrears_by_month_end",
        "statement_lines_matched",
    ],
    "feedback": [],
}


def ledger_arrears_by_month_end(con, f):
    """The dashboards' arrears before the summary tables: the whole ledger carried month to
    month on each view (the same SQL ``agg_arrears`` now runs once a build)."""
    from borough.insights.aggregates import AGGREGATES

    made = {a.name: a for a in AGGREGATES}
    monthly = made["agg_rent_account_month"].select.format(fact="fact_rent_ledger")
    select = made["agg_arrears"].select.replace("FROM agg_rent_account_month", f"FROM ({monthly})")
    cube = _rows(
        con,
        f"SELECT ward_code, month, accounts AS people, arrears_pence FROM ({select}) "
        "ORDER BY ward_code, month",
        [],
    )
    return q.arrears_by_month_end(cube, f)


#: What the dashboards ran before the summary tables, for the benchmark's baseline: the facts
#: versions, but arrears as they were (``facts_arrears_by_month_end`` is a slow, plain check).
BEFORE = {**FROM_FACTS, "arrears_by_month_end": ledger_arrears_by_month_end}
