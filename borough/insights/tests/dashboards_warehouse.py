"""A small published warehouse for the dashboards' and the public page's tests, made from
``schema.py``'s table definitions (not by ``borough insights build``): every figure below is
known, so a test can say what a chart must show.

Two wards: Albion (most of the activity) and Brook (3 of everything: below the disclosure
threshold of 10, so suppressed). Three months: September, October and November 2026.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest

from borough.insights import aggregates, schema

LONDON = ZoneInfo("Europe/London")
ALBION, BROOK = "E05000001", "E05000002"
MONTHS = [dt.date(2026, 9, 1), dt.date(2026, 10, 1), dt.date(2026, 11, 1)]

#: People and things the services know; none may ever show on a dashboard or in a download.
RESIDENT_NAME = "Ada Lovelace"
RESIDENT_EMAIL = "ada.lovelace@example.org"
REGISTRATION = "LV26 ADA"


def _key(kind: str, n: int) -> str:
    return f"{kind[:4]}{n:012x}"


def _at(day: dt.date, hour: int = 10, minute: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=LONDON)


def _insert(con, table: str, rows: list[dict]) -> None:
    if not rows:
        return
    spec = schema.table(table)
    names = spec.column_names
    full = []
    for row in rows:
        row = dict(row)
        if spec.partition_date:
            row["year"] = row["partition_date"].year
            row["month"] = row["partition_date"].month
        full.append([row.get(name) for name in names])
    marks = ", ".join("?" for _ in names)
    con.executemany(f'INSERT INTO "{table}" VALUES ({marks})', full)


def fill(con) -> None:
    for table in schema.TABLES.values():
        con.execute(table.ddl())
    day = MONTHS[0]
    dates = []
    while day <= dt.date(2026, 11, 30):
        monday = day - dt.timedelta(days=day.weekday())
        dates.append(
            {
                "date": day,
                "year": day.year,
                "month": day.month,
                "month_start": day.replace(day=1),
                "week_starting": monday,
                "iso_year": day.isocalendar()[0],
                "iso_week": day.isocalendar()[1],
                "day_of_week": day.isoweekday(),
                "financial_year": "2026-27",
            }
        )
        day += dt.timedelta(days=1)
    _insert(con, "dim_date", dates)
    _insert(
        con,
        "dim_ward",
        [
            {"ward_code": ALBION, "ward_name": "Albion", "properties": 900},
            {"ward_code": BROOK, "ward_name": "Brook", "properties": 700},
            {"ward_code": "", "ward_name": "Not known", "properties": 0},
        ],
    )
    _insert(
        con,
        "dim_zone",
        [
            {"zone_code": "A", "zone_name": "Zone A", "active": True},
            {"zone_code": "B", "zone_name": "Zone B", "active": True},
        ],
    )
    _insert(
        con,
        "dim_service",
        [
            {"service_code": "parking", "service_name": "Parking permits"},
            {"service_code": "housing", "service_name": "Council housing rent"},
        ],
    )
    _insert(
        con,
        "dim_payment_method",
        [
            {"payment_method": "charge", "label": "Charge", "is_payment": False,
             "method_group": "not_payment"},
            {"payment_method": "direct_debit", "label": "Direct Debit", "is_payment": True,
             "method_group": "direct_debit"},
            {"payment_method": "standing_order", "label": "Standing order", "is_payment": True,
             "method_group": "standing_order"},
            {"payment_method": "card", "label": "Card", "is_payment": True,
             "method_group": "other"},
            {"payment_method": "reversal", "label": "Reversal", "is_payment": False,
             "method_group": "not_payment"},
        ],
    )  # fmt: skip
    _insert(
        con,
        "dim_emission_band",
        [
            {"band": "A", "max_co2": 0, "sort_order": 1},
            {"band": "C", "max_co2": 75, "sort_order": 3},
            {"band": "", "max_co2": None, "sort_order": 99},
        ],
    )
    _insert(con, "dim_tenure", [{"tenure": "secure", "label": "Secure"}])

    # Permit applications: October, Albion 12 (9 automatic, 3 by an officer 2 days later) and
    # Brook 3 (automatic); November, Albion 10 (automatic). Each gets a permit.
    applications, permits = [], []
    plan = [(MONTHS[1], ALBION, 9, 3), (MONTHS[1], BROOK, 3, 0), (MONTHS[2], ALBION, 10, 0)]
    n = 0
    for month, ward, automatic, by_officer in plan:
        for i in range(automatic + by_officer):
            n += 1
            made = _at(month.replace(day=5 + i % 20))
            auto = i < automatic
            decided = made + (dt.timedelta(minutes=1) if auto else dt.timedelta(days=2))
            applications.append(
                {
                    "application_key": _key("appl", n),
                    "resident_key": _key("resi", n),
                    "journey": "new",
                    "permit_type": "resident",
                    "zone_code": "A" if ward == ALBION else "B",
                    "ward_code": ward,
                    "band": "A" if n % 2 else "C",
                    "duration_months": 12,
                    "price_pence": 2500,
                    "vehicle_found": True,
                    "verification_decision": "verified" if auto else "refer",
                    "status": "issued",
                    "decided_automatically": auto,
                    "created_at": made,
                    "decided_at": decided,
                    "updated_at": decided,
                    "partition_date": made.date(),
                }
            )
            permits.append(
                {
                    "permit_key": _key("perm", n),
                    "application_key": _key("appl", n),
                    "resident_key": _key("resi", n),
                    "permit_type": "resident",
                    "zone_code": "A" if ward == ALBION else "B",
                    "ward_code": ward,
                    "band": "A" if n % 2 else "C",
                    "status": "active",
                    "starts_on": decided.date(),
                    "ends_on": decided.date() + dt.timedelta(days=364),
                    "paid_pence": 2500,
                    "refunded_pence": 1000 if n == 1 else 0,
                    "issued_at": decided,
                    "partition_date": decided.date(),
                }
            )
    _insert(con, "fact_permit_application", applications)
    _insert(con, "fact_permit", permits)

    # Verifications: parking 25 (22 automatic) in October, housing 4 (below the threshold).
    verifications = [
        {
            "verification_key": _key("veri", i),
            "resident_key": _key("resi", i),
            "purpose": "parking_permit_residency_check" if i < 25 else "housing_link",
            "service_code": "parking" if i < 25 else "housing",
            "actor_kind": "service",
            "decision": "verified",
            "seconds": 0.2,
            "review": "",
            "decided_automatically": i < 22 or i >= 25,
            "requested_at": _at(MONTHS[1].replace(day=10)),
            "partition_date": MONTHS[1].replace(day=10),
        }
        for i in range(29)
    ]
    _insert(con, "fact_verification", verifications)

    _insert(
        con,
        "fact_enforcement_check",
        [
            {
                "check_key": _key("chec", i),
                "actor_kind": "staff",
                "allowed": i < 10,
                "allowed_by": "permit" if i < 10 else "",
                "subjects": 1,
                "checked_at": _at(MONTHS[1].replace(day=12)),
                "partition_date": MONTHS[1].replace(day=12),
            }
            for i in range(12)
        ],
    )

    # Rent: 22 accounts in Albion (0-9 pay by Direct Debit, 10-19 by standing order, 20-21 by
    # card and miss November), 3 in Brook paying by card; account 0's November payment is
    # reversed. £100 charged on the 1st of each month.
    accounts, ledger, collections = [], [], []
    entry = 0
    late = (20, 21)
    for a in range(25):
        ward = ALBION if a < 22 else BROOK
        method = "direct_debit" if a < 10 else "standing_order" if a < 20 else "card"
        owes = 10000 if a in late or a == 0 else 0
        accounts.append(
            {
                "account_key": _key("acco", a),
                "tenure": "secure",
                "ward_code": ward,
                "opened_on": dt.date(2020, 4, 6),
                "balance_pence": owes,
            }
        )
        for month in MONTHS:
            entry += 1
            ledger.append(_ledger(entry, a, ward, "charge", 10000, month))
            if a in late and month == MONTHS[2]:
                continue
            entry += 1
            ledger.append(_ledger(entry, a, ward, method, -10000, month.replace(day=3)))
            if method == "direct_debit":
                collections.append(
                    {
                        "collection_key": _key("coll", entry),
                        "mandate_key": _key("mand", a),
                        "account_key": _key("acco", a),
                        "transaction_code": "17",
                        "amount_pence": 10000,
                        "due_on": month.replace(day=3),
                        "status": "submitted",
                        "returned": False,
                        "partition_date": month.replace(day=3),
                    }
                )
    # The bank reverses account 0's November Direct Debit.
    ledger.append(_ledger(entry + 1, 0, ALBION, "reversal", 10000, MONTHS[2].replace(day=20)))
    _insert(con, "dim_rent_account", accounts)
    _insert(con, "fact_rent_ledger", ledger)
    _insert(con, "fact_dd_collection", collections)

    # Bank statement lines in October: 12 money in, 10 matched automatically, 2 in suspense.
    lines, suspense = [], []
    for i in range(12):
        booked = MONTHS[1].replace(day=3)
        lines.append(
            {
                "line_key": _key("line", i),
                "amount_pence": 10000,
                "outcome": "posted" if i < 10 else "suspense",
                "method": "reference" if i < 10 else "",
                "confidence": 1.0 if i < 10 else 0.2,
                "matched_automatically": i < 10,
                "booking_date": booked,
                "partition_date": booked,
            }
        )
        if i >= 10:
            suspense.append(
                {
                    "line_key": _key("line", i),
                    "amount_pence": 10000,
                    "entered_on": booked,
                    "open": True,
                    "resolution": "",
                    "partition_date": booked,
                }
            )
    _insert(con, "fact_statement_line", lines)
    _insert(con, "fact_suspense", suspense)

    # Feedback in October: 12 responses (9 satisfied or better); comments about paying, and
    # one in which a resident wrote their own name and registration.
    comments = ["The card payment was quick"] * 5 + ["I could not sign in with the link"] * 2
    comments += [f"{RESIDENT_NAME} here: my car {REGISTRATION} needs a permit, please help"]
    comments += [""] * 4
    _insert(
        con,
        "fact_feedback",
        [
            {
                "feedback_key": _key("feed", i),
                "satisfaction": 5 if i < 6 else 4 if i < 9 else 2,
                "service_code": "parking",
                "comments": text,
                "created_at": _at(MONTHS[1].replace(day=20)),
                "partition_date": MONTHS[1].replace(day=20),
            }
            for i, text in enumerate(comments)
        ],
    )


def _ledger(entry: int, account: int, ward: str, method: str, amount: int, day: dt.date):
    return {
        "entry_key": _key("entr", entry),
        "account_key": _key("acco", account),
        "payment_method": method,
        "type_code": "DBR",
        "tenure": "secure",
        "ward_code": ward,
        "amount_pence": amount,
        "posted_on": day,
        "week_starting": day - dt.timedelta(days=day.weekday()),
        "is_reversal": False,
        "created_at": _at(day),
        "partition_date": day,
    }


def publish(root: Path, build: str = "20261201T000000") -> Path:
    """A published warehouse under ``root`` as the build publishes one: ``current`` links to
    ``builds/<build>/`` holding ``warehouse.duckdb`` with its summary tables."""
    folder = root / "builds" / build
    folder.mkdir(parents=True)
    with duckdb.connect(str(folder / "warehouse.duckdb")) as con:
        fill(con)
        aggregates.build(con)
    os.symlink(folder, root / "current")
    return folder


def publish_next(root: Path, previous: Path, build: str = "20261202T000000") -> Path:
    """The next build published under ``root``: ``previous``'s warehouse with 10 more very
    satisfied feedback responses (Very satisfied: 6, shown as [c], becomes 16)."""
    folder = root / "builds" / build
    folder.mkdir()
    shutil.copy(previous / "warehouse.duckdb", folder / "warehouse.duckdb")
    with duckdb.connect(str(folder / "warehouse.duckdb")) as con:
        con.execute(
            "INSERT INTO fact_feedback SELECT f.* REPLACE (f.feedback_key || 'x' || t.i AS "
            "feedback_key) FROM fact_feedback f, range(10) t(i) WHERE f.satisfaction = 5 LIMIT 10"
        )
    os.symlink(folder, root / "next")
    os.replace(root / "next", root / "current")
    return folder


@pytest.fixture(scope="session")
def _small_warehouse_root(tmp_path_factory):
    # Made once a test run: the dashboards only read it.
    root = tmp_path_factory.mktemp("dashboards") / "warehouse"
    publish(root)
    return root


@pytest.fixture
def small_warehouse(_small_warehouse_root, settings):
    settings.BOROUGH_WAREHOUSE_DIR = str(_small_warehouse_root)
    return _small_warehouse_root


@pytest.fixture
def no_warehouse(tmp_path, settings):
    settings.BOROUGH_WAREHOUSE_DIR = str(tmp_path / "empty-warehouse")
