"""The build's summary tables (``aggregates.py``): every dashboard figure read from them equals
the same figure worked out from the facts, for every period and ward; and the build's checks
catch a summary table that does not add up to its facts."""

from __future__ import annotations

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
from borough.insights.tests.facts_reference import BEFORE, FROM_FACTS, FROM_SUMMARIES

#: A ward with properties and no activity at all.
CRESSY = "E05000003"
DECEMBER, JANUARY = dt.date(2026, 12, 1), dt.date(2027, 1, 1)


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
            expected = FROM_FACTS[name](con, f)
            assert from_summary(con, f) == expected, (name, f)
            assert BEFORE[name](con, f) == expected, (name, f)
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


def test_arrears_remade_from_any_month_on_equal_arrears_made_whole(edge_warehouse):
    con = edge_warehouse
    arrears = next(a for a in aggregates.AGGREGATES if a.name == "agg_arrears")
    whole = "SELECT * FROM agg_arrears WHERE month >= {since}"
    # Every month the ledger has, and December, which has no entries at all.
    months = [
        m for (m,) in con.execute("SELECT DISTINCT month FROM agg_rent_account_month").fetchall()
    ]
    assert DECEMBER not in months
    for month in [*months, DECEMBER]:
        since = f"DATE '{month.isoformat()}'"
        remade = con.execute(f"{arrears.since.format(since=since)} ORDER BY ALL").fetchall()
        assert remade
        assert remade == con.execute(f"{whole.format(since=since)} ORDER BY ALL").fetchall()


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
