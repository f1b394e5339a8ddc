"""The build's summary tables (``aggregates.py``): every dashboard figure read from them equals
the same figure worked out from the facts, for every period and ward; and the build's checks
catch a summary table that does not add up to its facts."""

from __future__ import annotations

import bisect
import datetime as dt
import itertools

import duckdb
import pytest
from django.core.management import call_command

from borough.insights import aggregates, warehouse
from borough.insights import dashboards_queries as q
from borough.insights.dashboards_forms import last_day
from borough.insights.dashboards_queries import Filters
from borough.insights.tests import dashboards_warehouse as small
from borough.insights.tests.dashboards_warehouse import ALBION, BROOK, _insert, _key, _ledger
from borough.insights.tests.factories import make_small_borough

#: A ward with properties and no activity at all.
CRESSY = "E05000003"
DECEMBER, JANUARY = dt.date(2026, 12, 1), dt.date(2027, 1, 1)


# --- each figure worked out from the facts, as the dashboards did before the summary tables --


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


def _every_filter(con) -> list[Filters]:
    months = q.months(con)
    wards = [None, *(code for code, _name in q.wards(con))]
    return [
        Filters(start, last_day(end), ward)
        for (start, end), ward in itertools.product(
            itertools.combinations_with_replacement(months, 2), wards
        )
    ]


def assert_summaries_equal_facts(con) -> int:
    """Every figure from the summary tables equals the facts' for every period and ward;
    returns how many (figure, filters) were compared."""
    compared = 0
    for f in _every_filter(con):
        for name, from_summary in FROM_SUMMARIES.items():
            expected = globals()[f"facts_{name}"](con, f)
            assert from_summary(con, f) == expected, (name, f)
            compared += 1
    return compared


# --- a hand-made warehouse with the awkward cases ---------------------------------------------


def _edge_cases(con) -> None:
    """On top of the dashboards' small warehouse: a ward with nothing in it, December with no
    rows at all, January with rows again, refunds and reversals, an account in credit, an
    application not decided yet, and records with no ward."""
    for day in (DECEMBER + dt.timedelta(days=i) for i in range(62)):
        con.execute(
            "INSERT INTO dim_date (date, year, month, month_start) VALUES (?, ?, ?, ?)",
            [day, day.year, day.month, day.replace(day=1)],
        )
    _insert(con, "dim_ward", [{"ward_code": CRESSY, "ward_name": "Cressy", "properties": 40}])
    _insert(
        con,
        "dim_payment_method",
        [{"payment_method": "refund", "label": "Refund", "is_payment": False,
          "method_group": "not_payment"}],
    )  # fmt: skip
    january = JANUARY.replace(day=9)
    # Account 0 (in arrears) pays January's and more; account 23 (Brook) is refunded £30 of
    # an overpayment; a new account with no ward pays twice what it owes: in credit.
    ledger = [
        _ledger(900, 0, ALBION, "charge", 10000, january),
        _ledger(901, 0, ALBION, "card", -25000, january),
        _ledger(902, 23, BROOK, "card", -5000, january),
        _ledger(903, 23, BROOK, "refund", 3000, january.replace(day=20)),
        _ledger(904, 99, "", "charge", 10000, january),
        _ledger(905, 99, "", "standing_order", -20000, january),
        _ledger(906, 0, ALBION, "reversal", 25000, january.replace(day=25)),
    ]
    _insert(con, "fact_rent_ledger", ledger)
    _insert(
        con,
        "dim_rent_account",
        [{"account_key": _key("acco", 99), "tenure": "secure", "ward_code": "",
          "opened_on": january, "balance_pence": -10000}],
    )  # fmt: skip
    _insert(
        con,
        "fact_dd_collection",
        [
            {"collection_key": _key("coll", 900 + i), "mandate_key": _key("mand", 0),
             "account_key": _key("acco", 0), "transaction_code": "17", "amount_pence": 10000,
             "due_on": january, "status": "unpaid" if i else "submitted", "returned": bool(i),
             "partition_date": january}
            for i in range(2)
        ],
    )  # fmt: skip
    made = small._at(january)
    _insert(
        con,
        "fact_permit_application",
        [
            {"application_key": _key("appl", 900 + i), "journey": "new",
             "permit_type": "resident", "zone_code": "A", "ward_code": "" if i else ALBION,
             "band": "", "price_pence": 2500, "decided_automatically": i == 2,
             "created_at": made, "decided_at": None if i == 0 else made + dt.timedelta(hours=i),
             "updated_at": made, "partition_date": january}
            for i in range(4)
        ],
    )  # fmt: skip
    _insert(
        con,
        "fact_permit",
        [
            {"permit_key": _key("perm", 900 + i), "permit_type": "resident", "zone_code": "Z",
             "ward_code": "" if i else ALBION, "band": "" if i else "Q", "status": "cancelled",
             "paid_pence": 2500, "refunded_pence": 2500, "issued_at": made,
             "partition_date": january}
            for i in range(2)
        ],
    )  # fmt: skip
    _insert(
        con,
        "fact_verification",
        [{"verification_key": _key("veri", 900), "service_code": "libraries",
          "decided_automatically": False, "requested_at": made, "partition_date": january}],
    )  # fmt: skip
    _insert(
        con,
        "fact_statement_line",
        [
            {"line_key": _key("line", 900 + i), "amount_pence": -500 if i else 700,
             "matched_automatically": False, "booking_date": january,
             "partition_date": january}
            for i in range(2)
        ],
    )  # fmt: skip


@pytest.fixture
def edge_warehouse(tmp_path):
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    small.fill(con)
    _edge_cases(con)
    aggregates.build(con)
    yield con
    con.close()


def test_every_figure_from_the_summaries_equals_the_facts_for_every_period_and_ward(
    edge_warehouse,
):
    con = edge_warehouse
    assert q.months(con)[-1] == JANUARY and (CRESSY, "Cressy") in q.wards(con)
    # 15 periods of whole months × 5 choices of ward × 13 figures.
    assert assert_summaries_equal_facts(con) == 15 * 5 * 13


def test_the_awkward_cases_show_as_the_facts_say(edge_warehouse):
    con = edge_warehouse
    december = Filters(DECEMBER, last_day(DECEMBER))
    january = Filters(JANUARY, last_day(JANUARY))
    # Nothing happened in December: no rows, and arrears carried from November's end.
    assert q.rent_collected_by_method(con, december) == []
    november = q.arrears_by_month_end(q.arrears_cube(con), Filters(small.MONTHS[2], december.end))
    assert november[0]["arrears_pence"] == november[1]["arrears_pence"] == 30000
    # The ward with no activity has no rows, and no arrears.
    cressy = Filters(small.MONTHS[0], january.end, CRESSY)
    for name, figure in FROM_SUMMARIES.items():
        if name in {"verifications_by_service", "automatic_checks_by_month"} or name.startswith(
            ("enforcement", "statement")
        ):
            continue  # no ward: the filter does not apply
        rows = figure(con, cressy)
        assert all(not r["people"] for r in rows), name
    # Refunds: the cancelled permits kept nothing; the rent refund is not money collected.
    money = q.permit_money_by_month(con, january)
    assert money == [
        {"month": JANUARY, "people": 2, "paid_pence": 5000, "refunded_pence": 5000, "net_pence": 0}
    ]
    collected = {
        r["method"]: r["collected_pence"] for r in q.rent_collected_by_method(con, january)
    }
    assert collected == {"other": 30000, "standing_order": 20000, "reversed": -25000}
    # An undecided application counts nowhere; the ward not known is a ward of its own.
    not_known = Filters(JANUARY, january.end, "")
    assert [r["people"] for r in q.applications_by_month(con, not_known)] == [3]
    assert [(r["how"], r["people"]) for r in q.time_to_decision(con, january)] == [
        ("Automatically", 1),
        ("By an officer", 2),
    ]


def test_the_build_check_fails_when_a_summary_does_not_add_up_to_its_facts(edge_warehouse):
    con = edge_warehouse
    assert all(r.passed for r in aggregates.check(con))
    con.execute("UPDATE agg_permit_money SET refunded_pence = 0 WHERE month = ?", [JANUARY])
    con.execute(
        "UPDATE agg_arrears SET arrears_pence = arrears_pence - 1 WHERE ward_code = ? "
        "AND month = ?",
        [ALBION, JANUARY],
    )
    failed = {r.name: (r.expected, r.found) for r in aggregates.check(con) if not r.passed}
    # Refunded: £10 in November and £50 in January; owed at the end: accounts 20 and 21 £100
    # each, account 0 £200.
    assert failed == {
        "summary agg_permit_money: refunded (pence)": (6000, 1000),
        "summary agg_arrears: arrears after every entry (pence)": (40000, 39999),
    }


def test_filters_that_are_not_whole_months_are_refused(edge_warehouse):
    with pytest.raises(ValueError, match="whole months"):
        q.applications_by_month(edge_warehouse, Filters(JANUARY, dt.date(2027, 1, 15)))


# --- a warehouse made by the build ------------------------------------------------------------


@pytest.mark.django_db
def test_a_build_makes_and_checks_summaries_that_equal_its_facts(settings, tmp_path):
    settings.BOROUGH_WAREHOUSE_DIR = str(tmp_path / "warehouse")
    make_small_borough(tenancies=6)
    call_command("insights", "build", quiet=True)
    report = (tmp_path / "warehouse" / "last-build-report.txt").read_text()
    assert "passed  summary agg_arrears: arrears after every entry (pence)" in report
    with warehouse.connect() as con:
        assert aggregates.present(con)
        assert con.execute("SELECT count(*) FROM agg_rent_collected").fetchone()[0] > 0
        assert assert_summaries_equal_facts(con) > 0
