"""Payment arrangements: on track, broken, cleared — measured from the ledger."""

from __future__ import annotations

import datetime as dt

import pytest

from borough.housing import services
from borough.housing.models import LedgerEntry, PaymentArrangement
from borough.housing.tests.test_ledger import make_account

Kind = LedgerEntry.Kind
START = dt.date(2026, 10, 5)


@pytest.fixture
def owing(db):
    account = make_account(1, weekly=())
    services.post_entry(
        account,
        kind=Kind.ADJUSTMENT,
        type_code="ROB",
        amount_pence=60000,
        posted_on=dt.date(2026, 10, 1),
        description="Opening balance",
        source_key="ob",
    )
    arrangement = PaymentArrangement.objects.create(
        account=account,
        amount_pence=1000,
        frequency="weekly",
        start_date=START,
        start_balance_pence=60000,
    )
    return account, arrangement


def pay(account, day, pence, key):
    services.post_entry(
        account,
        kind=Kind.BANK_PAYMENT,
        type_code="RBP",
        amount_pence=-pence,
        posted_on=day,
        description="Payment",
        source_key=key,
    )


def test_an_arrangement_paid_as_agreed_is_on_track(owing):
    account, arrangement = owing
    for week in range(4):
        pay(account, START + dt.timedelta(weeks=week), 1000, f"p{week}")
    check = services.check_arrangement(arrangement, today=START + dt.timedelta(weeks=4))
    assert (check.status, check.expected_reduction_pence, check.actual_reduction_pence) == (
        "live",
        4000,
        4000,
    )


def test_missed_instalments_break_it_after_the_grace_days(owing):
    account, arrangement = owing
    pay(account, START, 1000, "p0")
    # second instalment due on 12 October; with 7 days' grace it counts from the 19th
    assert services.check_arrangement(arrangement, today=dt.date(2026, 10, 18)).status == "live"
    check = services.check_arrangement(arrangement, today=dt.date(2026, 10, 19))
    assert check.status == "breached" and check.shortfall_pence == 1000
    assert "£20.00" in check.reason and "£10.00" in check.reason
    services.refresh_arrangement(arrangement, today=dt.date(2026, 10, 19))
    arrangement.refresh_from_db()
    assert arrangement.status == "breached"
    pay(account, dt.date(2026, 10, 20), 1000, "catch-up")
    services.refresh_arrangement(arrangement, today=dt.date(2026, 10, 20))
    arrangement.refresh_from_db()
    assert arrangement.status == "live"


def test_a_monthly_arrangement_counts_calendar_months(owing):
    _, arrangement = owing
    arrangement.frequency = "monthly"
    assert services._instalments_due(arrangement, dt.date(2026, 11, 4)) == 1
    assert services._instalments_due(arrangement, dt.date(2026, 11, 5)) == 2


def test_an_arrangement_is_cleared_when_nothing_is_owed(owing):
    account, arrangement = owing
    pay(account, START, 60000, "all")
    assert services.check_arrangement(arrangement, today=START).status == "cleared"


def test_the_daily_housing_job_posts_the_week_once_and_updates_arrangements(owing):
    import io

    from django.core.management import call_command

    _, arrangement = owing
    out = io.StringIO()
    call_command("housing", "daily", stdout=out)
    call_command("housing", "daily", stdout=out)
    assert "Posted 0 charges" in out.getvalue().splitlines()[-1]
    arrangement.refresh_from_db()
    assert arrangement.status == "breached"  # nothing paid since 5 October
