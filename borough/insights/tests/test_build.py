"""``borough insights build``: what it publishes, incrementally, and what stops it."""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from borough.housing.models import BankLine, LedgerEntry
from borough.insights import aggregates, schema, warehouse
from borough.insights.build import BuildFailed, build
from borough.insights.tests.factories import add_a_days_entries, make_small_borough
from borough.parking.models import Permit

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def warehouse_dir(settings, tmp_path):
    settings.BOROUGH_WAREHOUSE_DIR = str(tmp_path / "warehouse")
    return tmp_path / "warehouse"


@pytest.fixture
def small():
    return make_small_borough()


def _one(sql: str, params=()):
    with warehouse.connect() as con:
        return con.execute(sql, params).fetchone()


def test_build_command_publishes_every_table_as_duckdb_and_hive_parquet(small, warehouse_dir):
    from borough.transparency.queries import events

    call_command("insights", "build", quiet=True)

    (recorded,) = events(purpose="insights_warehouse_build")  # one a build, naming no one
    assert recorded.subject_resident_id == "" and recorded.reference.startswith("build:")

    assert (warehouse_dir / "warehouse.duckdb").is_symlink()
    assert _one("SELECT count(*), sum(amount_pence) FROM fact_rent_ledger") == (
        18,
        small.ledger_pence,
    )
    assert _one("SELECT count(*) FROM fact_permit WHERE status = 'active' AND band = 'D'") == (3,)
    assert _one("SELECT count(*) FROM fact_suspense WHERE open") == (1,)
    assert _one("SELECT count(*) FROM fact_dd_collection WHERE returned") == (1,)
    assert _one("SELECT allowed_by FROM fact_enforcement_check LIMIT 1") == ("permit",)
    # A ledger entry's partition is the day it was posted on: the summaries that group entries
    # by month of posting (agg_arrears) are remade from the partitions that changed.
    assert _one("SELECT count(*) FROM fact_rent_ledger WHERE partition_date <> posted_on") == (0,)
    # Each account's balance is the sum of its entries.
    assert _one("SELECT sum(balance_pence), count(*) FROM dim_rent_account") == (
        small.ledger_pence,
        3,
    )
    assert _one(
        "SELECT count(*) FROM fact_rent_ledger f JOIN dim_date d ON d.date = f.posted_on "
        "WHERE d.financial_year = '2026-27'"
    ) == (18,)
    parquet = warehouse_dir / "parquet"
    assert sorted(p.name for p in (parquet / "fact_rent_ledger").iterdir()) == ["year=2026"]
    assert {p.name for p in (parquet / "fact_rent_ledger" / "year=2026").iterdir()} == {
        "month=10",
        "month=11",
    }
    with warehouse.connect() as con:
        from_parquet = con.execute(
            f"SELECT count(*), sum(amount_pence) FROM read_parquet("
            f"'{parquet}/fact_rent_ledger/**/*.parquet', hive_partitioning = true) "
            "WHERE year = 2026 AND month = 11"
        ).fetchone()
        in_duckdb = con.execute(
            "SELECT count(*), sum(amount_pence) FROM fact_rent_ledger WHERE month = 11"
        ).fetchone()
    assert from_parquet == in_duckdb


def test_a_days_new_data_is_an_incremental_build_that_rewrites_only_its_partitions(
    small, warehouse_dir
):
    first = build()
    added = add_a_days_entries(small.accounts[0], dt.date(2026, 12, 7))
    permit = Permit.objects.order_by("pk").first()
    permit.status = Permit.Status.CANCELLED
    permit.refunded_pence = 4_000
    permit.save()
    # A later statement's import matched the line held in suspense, with no officer.
    BankLine.objects.filter(outcome="suspense").update(outcome="posted", resolved_at=timezone.now())

    second = build()

    assert not second.full
    assert second.rows_read["ledger"] == 2  # only the new entries
    assert _one("SELECT sum(amount_pence) FROM fact_rent_ledger") == (small.ledger_pence + added,)
    assert _one(
        "SELECT count(*), sum(refunded_pence) FROM fact_permit WHERE status = 'cancelled'"
    ) == (
        1,
        4_000,
    )
    assert _one("SELECT count(*) FROM fact_permit") == (3,)
    assert _one("SELECT count(*) FROM fact_suspense") == (0,)
    assert _one("SELECT count(*) FROM fact_statement_line WHERE outcome = 'posted'") == (2,)
    # October's ledger partition did not change: it is the same file, linked, not rewritten.
    old = next((first.build / "parquet/fact_rent_ledger/year=2026/month=10").glob("*.parquet"))
    new = next((second.build / "parquet/fact_rent_ledger/year=2026/month=10").glob("*.parquet"))
    assert os.stat(old).st_ino == os.stat(new).st_ino
    assert (second.build / "parquet/fact_rent_ledger/year=2026/month=12").is_dir()
    # The build before stays on disk for readers that opened it; older ones go.
    third = build()
    assert sorted(p.name for p in (warehouse_dir / "builds").iterdir()) == sorted(
        [second.build.name, third.build.name]
    )


# Incremental: the references of the rows the build wrote are looked up (check_references).
@pytest.mark.parametrize("full", [True, False])
def test_a_ledger_entry_whose_account_is_missing_stops_publication(small, warehouse_dir, full):
    published = build().build
    # Foreign keys are checked when the transaction commits; the test's never does, so the
    # source can hold what a broken import or a restore from a partial backup would leave.
    LedgerEntry.objects.create(
        account_id=987_654,
        kind=LedgerEntry.Kind.CHARGE,
        type_code="DBR",
        posted_on=dt.date(2026, 11, 30),
        amount_pence=12_345,
        description="Rent",
        source_key="orphan",
    )

    try:
        with pytest.raises(CommandError, match="not published") as raised:
            call_command("insights", "build", full=full, quiet=True)
    finally:  # the test database checks foreign keys when the test ends
        with connection.cursor() as cursor:
            table = connection.ops.quote_name(LedgerEntry._meta.db_table)
            cursor.execute(f"DELETE FROM {table} WHERE source_key = 'orphan'")

    report = (warehouse_dir / "last-build-report.txt").read_text()
    assert "NOT published" in report
    assert "FAILED  every fact_rent_ledger.account_key is in dim_rent_account.account_key" in report
    assert "expected 0 rows missing, found 1 rows missing" in report
    assert "987654" not in report  # samples are pseudonymised keys, never source IDs
    # the command's last words are the failed check, not "see above" after 60 passed lines
    said = str(raised.value)
    head, *failed = said.splitlines()
    assert head.startswith("The warehouse was not published: ")
    assert re.search(rf"{len(failed)} of \d+ checks failed", head)
    assert failed and all(line.startswith("FAILED  ") for line in failed)
    assert any("every fact_rent_ledger.account_key is in dim_rent_account" in x for x in failed)
    assert "987654" not in said
    assert warehouse.current_build() == published
    assert not list((warehouse_dir / "builds").glob("*.building"))


def test_a_balance_that_does_not_reconcile_stops_publication(small, warehouse_dir):
    published = build().build
    first, second = small.accounts[0], small.accounts[1]
    # Someone edits posted entries in place (past the model's append-only guard): the totals
    # still agree, but two accounts' balances no longer match what the warehouse holds.
    table = connection.ops.quote_name(LedgerEntry._meta.db_table)
    with connection.cursor() as cursor:
        for account, delta in ((first, 100), (second, -100)):
            cursor.execute(
                f"UPDATE {table} SET amount_pence = amount_pence + %s WHERE id = "
                f"(SELECT min(id) FROM {table} WHERE account_id = %s)",
                [delta, account.pk],
            )
    add_a_days_entries(first, dt.date(2026, 12, 7))
    add_a_days_entries(second, dt.date(2026, 12, 7))

    with pytest.raises(BuildFailed) as failure:
        build()

    failed = [r for r in failure.value.results if not r.passed]
    assert [r.name for r in failed] == [
        "rent balances reconcile to the ledger (2 accounts checked)"
    ]
    assert failed[0].found == "2 accounts differing"
    assert "source" in failed[0].samples[0] and "warehouse" in failed[0].samples[0]
    assert warehouse.current_build() == published


def test_the_docs_tables_section_is_the_schema():
    docs = Path(__file__).resolve().parents[3] / "docs" / "insights.md"
    text = docs.read_text()
    section = text.split("<!-- tables:start -->\n")[1].split("<!-- tables:end -->")[0]
    assert section == schema.tables_markdown()


def test_every_fact_reference_names_a_real_table_and_column():
    for t in schema.TABLES.values():
        for column, target in t.references.items():
            assert column in t.column_names, (t.name, column)
            table, target_column = target.split(".")
            assert target_column in schema.table(table).column_names, target


def test_the_scheduled_job_builds_and_publishes(small, warehouse_dir):
    call_command("insights", "schedule")  # tests run jobs at once

    assert warehouse.current_build() is not None
    assert _one("SELECT count(*) FROM fact_rent_ledger") == (18,)


def _everything() -> dict[str, list]:
    """Every table of the published warehouse and every summary table, its rows sorted."""
    names = [t.name for t in (*schema.FACTS, *schema.DIMENSIONS)] + list(aggregates.NAMES)
    with warehouse.connect() as con:
        return {
            # As text: DuckDB hands out aware times only through pytz.
            name: con.execute(f'SELECT COLUMNS(*)::VARCHAR FROM "{name}" ORDER BY ALL').fetchall()
            for name in names
        }


def test_permits_and_properties_changed_through_the_service_or_in_bulk_are_read_by_change_time(
    small, warehouse_dir
):
    from borough.parking.models import PermitApplication
    from borough.parking.services import cancel_permit
    from borough.places.models import Property

    # Made a day ago, but for one property changed an hour ago: the last change the full build
    # sees (an incremental build reads from ten minutes before it).
    # (Paid for with no payment here to refund.)
    PermitApplication.objects.update(payment_reference="")
    long_ago = timezone.now() - dt.timedelta(days=1)
    for model in (Permit, PermitApplication, Property):
        model.objects.update(updated_at=long_ago)
    homes = list(Property.objects.order_by("pk"))
    Property.objects.filter(pk=homes[-1].pk).update(
        updated_at=timezone.now() - dt.timedelta(hours=1)
    )
    build(full=True)
    first, second, third = Permit.objects.order_by("pk")[:3]
    # Through the service (a save naming its fields), and in bulk (a queryset's update(), which
    # Django's auto_now does not touch: the model's queryset sets the change time).
    cancel_permit(first.pk, actor=None, reason="Moved away")
    Permit.objects.filter(pk=second.pk).update(status=Permit.Status.ENDED)
    # The permit's row takes its band from its application.
    PermitApplication.objects.filter(pk=third.application_id).update(band="M")
    Property.objects.filter(pk=small.accounts[0].tenancy.property_id).update(is_residential=False)
    # New ledger entries: their keys count on from the entries the warehouse has. One posted
    # late into October: the arrears are remade from October on, not only from December.
    add_a_days_entries(small.accounts[0], dt.date(2026, 12, 7))
    add_a_days_entries(small.accounts[1], dt.date(2026, 10, 30), n=1)

    incremental = build()

    assert not incremental.full
    # The summaries were remade for the changed months only, and checked row for row there.
    assert (
        "passed  summary agg_rent_collected: the rows of the 2 months this build changed "
        "as the facts give them"
    ) in {r.line() for r in incremental.results}
    # What changed is read (the property changed an hour ago again, being in the overlap),
    # not every row.
    assert incremental.rows_read["permit"] == 3
    assert len(homes) > 2 and incremental.rows_read["property"] == 2
    assert _one("SELECT status FROM fact_permit WHERE permit_key = ?", [_key("permit", first)]) == (
        "cancelled",
    )
    assert _one("SELECT band FROM fact_permit WHERE permit_key = ?", [_key("permit", third)]) == (
        "M",
    )
    after_incremental = _everything()
    assert _one("SELECT count(*) = count(DISTINCT entry_key) FROM fact_rent_ledger") == (True,)
    build(full=True)
    after_full = _everything()
    # Each build logs its own read of the services' records: the full build sees one more.
    assert len(after_full.pop("fact_data_use")) == len(after_incremental.pop("fact_data_use")) + 1
    assert after_full == after_incremental


def _key(kind: str, row) -> str:
    from borough.insights.pseudonyms import pseudonym

    return pseudonym(kind, row.pk)


def _raw(sql: str, params=()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_an_incremental_build_sums_only_the_new_ledger_rows_and_stops_at_a_late_one(
    small, warehouse_dir
):
    # A gap in the IDs, as a transaction open during the build leaves: it took its ID and
    # commits after the build has read the rows above it. (Made here by taking the row out
    # behind the services' back; it comes back, as the late commit, below.)
    add_a_days_entries(small.accounts[1], dt.date(2026, 12, 1), n=2)
    late = LedgerEntry.objects.order_by("pk")[LedgerEntry.objects.count() - 2]
    _raw(f"DELETE FROM {LedgerEntry._meta.db_table} WHERE id = %s", [late.pk])
    build(full=True)
    add_a_days_entries(small.accounts[0], dt.date(2026, 12, 7))
    second = build()
    assert not second.full and all(r.passed for r in second.results)
    assert second.rows_read["ledger"] == 2
    # The late transaction commits, below the highest ID the builds have read: its gap, kept
    # by the builds, is looked up, the whole ledger counted again, and the warehouse, which
    # lacks the row, is not published.
    late.save(force_insert=True)
    with pytest.raises(BuildFailed) as failed:
        build()
    assert "FAILED  row count of fact_rent_ledger" in failed.value.report
    assert "FAILED  total amount_pence of fact_rent_ledger" in failed.value.report
    # A full build reads it.
    assert all(r.passed for r in build(full=True).results)
    assert _one("SELECT count(*) FROM fact_rent_ledger") == (LedgerEntry.objects.count(),)


def test_an_entry_deleted_behind_the_services_back_is_left_out_by_the_next_full_build(
    small, warehouse_dir
):
    build(full=True)
    gone = LedgerEntry.objects.order_by("pk").first()
    others = [a for a in small.accounts if a.pk != gone.account_id]
    add_a_days_entries(others[0], dt.date(2026, 12, 7))
    _raw(f"DELETE FROM {LedgerEntry._meta.db_table} WHERE id = %s", [gone.pk])
    # What an incremental build does not prove (docs/insights.md): that no entry at or below
    # the last build's highest ID was deleted. The services cannot delete one (the ledger is
    # append-only); SQL run by hand can, and the entry stays in the warehouse until...
    assert all(r.passed for r in build().results)
    entries = LedgerEntry.objects.count()
    assert _one("SELECT count(*) FROM fact_rent_ledger") == (entries + 1,)
    # ...the next full build, which reads and counts the whole ledger.
    assert all(r.passed for r in build(full=True).results)
    assert _one("SELECT count(*) FROM fact_rent_ledger") == (entries,)


def test_an_incremental_build_after_retention_purged_a_logged_event_is_not_published(
    small, warehouse_dir
):
    from django.db import transaction

    from borough.insights.extract import _tables
    from borough.transparency import db_guard
    from borough.transparency.models import PurgedEvent, PurgeRun
    from borough.transparency.queries import events

    build(full=True)
    event = min(events(), key=lambda e: e.pk)
    run = PurgeRun.objects.create(ran_at=timezone.now(), schedule=[], counts=[], total=1)
    PurgedEvent.objects.create(
        event_id=event.pk, run=run, occurred_at=event.occurred_at, purpose="x", action="y"
    )
    with transaction.atomic(), db_guard.allow_purge(connection):
        _raw(f"DELETE FROM {_tables()['data_use']} WHERE id = %s", [event.pk])
    # The purge's tombstone is counted: the log is counted whole again, and the warehouse still
    # holds the purged event, so it is not published; a full build leaves the event out.
    with pytest.raises(BuildFailed) as failed:
        build()
    assert "FAILED  row count of fact_data_use" in failed.value.report
    assert all(r.passed for r in build(full=True).results)


def _corrupting(monkeypatch, sql: str) -> None:
    """Make the build's summary tables, then run ``sql`` on them (before the checks)."""
    made = aggregates.build

    def build_then_corrupt(con, changed=None):
        rows = made(con, changed)
        con.execute(sql)
        return rows

    monkeypatch.setattr(aggregates, "build", build_then_corrupt)


def test_an_incremental_build_with_a_wrong_summary_row_in_a_changed_month_fails(
    small, warehouse_dir, monkeypatch
):
    build(full=True)
    add_a_days_entries(small.accounts[0], dt.date(2026, 12, 7))
    # The card payments of December put down to another method: every total still adds up,
    # so only the row-for-row check of the changed month sees it.
    _corrupting(
        monkeypatch,
        "UPDATE agg_rent_collected SET method = 'direct_debit' "
        "WHERE month = DATE '2026-12-01' AND method = 'other'",
    )
    with pytest.raises(BuildFailed) as failed:
        build()
    failures = [r.name for r in failed.value.results if not r.passed]
    assert failures == [
        "summary agg_rent_collected: the rows of the 1 months this build changed "
        "as the facts give them"
    ]


def test_an_incremental_build_with_a_wrong_total_in_an_unchanged_month_fails(
    small, warehouse_dir, monkeypatch
):
    build(full=True)
    add_a_days_entries(small.accounts[0], dt.date(2026, 12, 7))
    # October is not remade by this build (only December is): the whole table's total shows it.
    _corrupting(
        monkeypatch,
        "UPDATE agg_rent_collected SET collected_pence = collected_pence + 1 "
        "WHERE month = DATE '2026-10-01'",
    )
    with pytest.raises(BuildFailed) as failed:
        build()
    failures = [r.name for r in failed.value.results if not r.passed]
    assert failures == ["summary agg_rent_collected: money collected (pence)"]


def test_an_incremental_build_looks_up_every_row_again_when_a_dimension_lost_a_key(
    small, warehouse_dir, monkeypatch
):
    from borough.insights import transform

    build(full=True)
    add_a_days_entries(small.accounts[0], dt.date(2026, 12, 7))
    (first,) = _one("SELECT min(posted_on) FROM fact_rent_ledger")
    made = transform.build_dimensions

    def without_the_day(con, bands):
        made(con, bands)
        con.execute("DELETE FROM dim_date WHERE date = ?", [first])

    monkeypatch.setattr(transform, "build_dimensions", without_the_day)
    # The first day's entries (October) are not rewritten by this build (it changes December),
    # yet their day is missing now.
    with pytest.raises(BuildFailed) as failed:
        build()
    assert "FAILED  every fact_rent_ledger.partition_date is in dim_date.date" in (
        failed.value.report
    )
