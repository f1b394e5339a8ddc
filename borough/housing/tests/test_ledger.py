"""The rent ledger: weeks, charges, postings, reversals; the invariants as property tests; the
same posting from two processes at once on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection
from hypothesis import HealthCheck, given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st

from borough.housing import services
from borough.housing.models import (
    AppendOnlyError,
    ChargeRate,
    ChargeRun,
    LedgerEntry,
    RentAccount,
    Tenancy,
)
from borough.housing.rent_weeks import charged_weeks, first_monday_in_april, rent_week
from borough.places.models import Property

Kind = LedgerEntry.Kind
MONDAY = dt.date(2026, 11, 23)


def make_account(n: int = 1, *, weekly=(("DBR", 11000), ("DSC", 1250)), opened=dt.date(2026, 4, 6)):
    home = Property.objects.create(uprn=100090000000 + n, postcode="E21 0AA", is_residential=True)
    tenancy = Tenancy.objects.create(
        reference=f"T{n:07d}", property=home, tenure="secure", start_date=opened
    )
    account = RentAccount.objects.create(
        tenancy=tenancy, payment_reference=f"{n:08d}X", opened_on=opened
    )
    for code, pence in weekly:
        ChargeRate.objects.create(
            account=account, charge_type=code, weekly_pence=pence, effective_from=opened
        )
    return account


# -- weeks -----------------------------------------------------------------------------------


def test_the_rent_year_starts_on_the_first_monday_in_april_and_some_have_53_weeks():
    assert first_monday_in_april(2026) == dt.date(2026, 4, 6)
    assert first_monday_in_april(2024) == dt.date(2024, 4, 1)
    week = rent_week(dt.date(2026, 12, 21), rent_free_weeks=[38, 39])
    assert (week.rent_year, week.number, week.free) == (2026, 38, True)
    assert week.label == "2026/27 week 38"
    assert rent_week(dt.date(2025, 3, 31)).number == 53  # 2024/25 has 53 Mondays
    assert rent_week(dt.date(2025, 3, 31), week_53="free").free
    assert charged_weeks(2026, rent_free_weeks=[38, 39]) == 50
    assert charged_weeks(2024, rent_free_weeks=[38, 39]) == 51
    with pytest.raises(ValueError, match="not a Monday"):
        rent_week(dt.date(2026, 11, 24))


# -- charges ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_weekly_charges_are_posted_once_per_account_and_charge_type():
    first, second = make_account(1), make_account(2, weekly=(("DBR", 9000),))
    result = services.post_weekly_charges(MONDAY)
    assert (result.posted, result.already_done, result.week.number) == (3, False, 34)
    assert services.balance_pence(first) == 12250
    assert services.balance_pence(second) == 9000
    again = services.post_weekly_charges(MONDAY)
    assert again.already_done and again.posted == 0
    assert LedgerEntry.objects.count() == 3
    entry = LedgerEntry.objects.filter(account=first, type_code="DBR").get()
    assert entry.description == "Rent, 2026/27 week 34"


@pytest.mark.django_db
def test_no_charges_in_a_rent_free_week_or_for_accounts_not_open(settings):
    make_account(1)
    make_account(2, opened=dt.date(2026, 12, 1))
    free = services.post_weekly_charges(dt.date(2026, 12, 21))  # week 38, rent-free in Northmere
    assert free.week.free and free.posted == 0
    assert ChargeRun.objects.get(week_starting=dt.date(2026, 12, 21)).rent_free
    result = services.post_weekly_charges(MONDAY)
    assert {e.account.payment_reference for e in LedgerEntry.objects.all()} == {"00000001X"}
    assert result.posted == 2


@pytest.mark.django_db
def test_the_april_rent_change_applies_from_its_monday():
    account = make_account(1, weekly=(("DBR", 10000),))
    ChargeRate.objects.create(
        account=account, charge_type="DBR", weekly_pence=10500, effective_from=dt.date(2027, 4, 5)
    )
    services.post_weekly_charges(dt.date(2027, 3, 29))
    services.post_weekly_charges(dt.date(2027, 4, 5))
    amounts = list(LedgerEntry.objects.values_list("amount_pence", flat=True))
    assert amounts == [10000, 10500]
    assert services.weekly_charge_pence(account, dt.date(2027, 4, 5)) == {"DBR": 10500}


# -- postings and reversals --------------------------------------------------------------------


@pytest.mark.django_db
def test_the_same_source_is_posted_once_and_a_different_amount_is_refused():
    account = make_account(1)
    entry, created = services.post_entry(
        account,
        kind=Kind.STANDING_ORDER,
        type_code="RSO",
        amount_pence=-12250,
        posted_on=MONDAY,
        description="Standing order",
        source_key="statement:abc",
    )
    again, created_again = services.post_entry(
        account,
        kind=Kind.STANDING_ORDER,
        type_code="RSO",
        amount_pence=-12250,
        posted_on=MONDAY,
        description="Standing order",
        source_key="statement:abc",
    )
    assert created and not created_again and again.pk == entry.pk
    with pytest.raises(services.SourceConflict):
        services.post_entry(
            account,
            kind=Kind.STANDING_ORDER,
            type_code="RSO",
            amount_pence=-100,
            posted_on=MONDAY,
            description="x",
            source_key="statement:abc",
        )
    assert services.balance_pence(account) == -12250


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kind", "amount", "message"),
    [
        (Kind.CHARGE, -5, "must be positive"),
        (Kind.DIRECT_DEBIT, 5, "must be negative"),
        (Kind.ADJUSTMENT, 0, "cannot be for £0"),
    ],
)
def test_entries_with_the_wrong_sign_or_nothing_are_refused(kind, amount, message):
    account = make_account(1)
    with pytest.raises(services.LedgerError, match=message):
        services.post_entry(
            account,
            kind=kind,
            type_code="X",
            amount_pence=amount,
            posted_on=MONDAY,
            description="x",
            source_key="k",
        )
    assert LedgerEntry.objects.count() == 0


@pytest.mark.django_db
def test_an_entry_is_reversed_once_and_never_changed_or_deleted():
    account = make_account(1)
    entry, _ = services.post_entry(
        account,
        kind=Kind.DIRECT_DEBIT,
        type_code="RDD",
        amount_pence=-49000,
        posted_on=MONDAY,
        description="Direct Debit",
        source_key="bacs:1",
    )
    reversal = services.reverse_entry(
        entry, reason="Unpaid: refer to payer", posted_on=MONDAY, type_code="RDN"
    )
    assert reversal.amount_pence == 49000 and reversal.type_code == "RDN"
    assert services.reverse_entry(entry, reason="again", posted_on=MONDAY).pk == reversal.pk
    assert services.balance_pence(account) == 0
    entry.description = "changed"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError):
        LedgerEntry.objects.filter(pk=entry.pk).update(amount_pence=1)
    with pytest.raises(AppendOnlyError):
        LedgerEntry.objects.all().delete()


operations = st.lists(
    st.one_of(
        st.tuples(st.just("charge"), st.integers(1, 50_000), st.integers(0, 5)),
        st.tuples(st.just("pay"), st.integers(1, 80_000), st.integers(0, 5)),
        st.tuples(st.just("reverse"), st.integers(0, 30), st.integers(0, 5)),
    ),
    max_size=30,
)


@pytest.mark.django_db
@hyp_settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(operations)
def test_the_balance_is_always_the_sum_of_the_entries_and_nothing_is_posted_twice(ops):
    account = RentAccount.objects.first() or make_account(1, weekly=())
    start = services.balance_pence(account)
    before = LedgerEntry.objects.filter(account=account).count()
    expected = start
    posted: list[LedgerEntry] = []
    for op, amount, source in ops:
        if op == "charge":
            entry, created = services.post_entry(
                account,
                kind=Kind.CHARGE,
                type_code="DBR",
                amount_pence=amount,
                posted_on=MONDAY,
                description="c",
                source_key=f"h:{len(posted)}:{source}:{amount}:c:{start}",
            )
        elif op == "pay":
            entry, created = services.post_entry(
                account,
                kind=Kind.BANK_PAYMENT,
                type_code="RBP",
                amount_pence=-amount,
                posted_on=MONDAY,
                description="p",
                source_key=f"h:{source}:{amount}:p:{start}",
            )
        elif posted:
            target = posted[amount % len(posted)]
            had = LedgerEntry.objects.filter(reverses=target).exists()
            services.reverse_entry(target, reason="r", posted_on=MONDAY)
            if not had:
                expected -= target.amount_pence
            continue
        else:
            continue
        if created:
            expected += entry.amount_pence
            posted.append(entry)
    entries = LedgerEntry.objects.filter(account=account)
    assert services.balance_pence(account) == expected
    assert sum(entries.values_list("amount_pence", flat=True)) == expected
    assert entries.count() >= before
    keys = list(entries.values_list("source_key", flat=True))
    assert len(keys) == len(set(keys))
    assert all(isinstance(v, int) for v in entries.values_list("amount_pence", flat=True))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_statement_line_posted_by_two_processes_at_once_is_posted_once():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL's concurrent writers")
    account = make_account(1)
    barrier = threading.Barrier(6)
    created = []

    def post():
        barrier.wait()
        try:
            _, made = services.post_entry(
                account.pk,
                kind=Kind.STANDING_ORDER,
                type_code="RSO",
                amount_pence=-12250,
                posted_on=MONDAY,
                description="SO",
                source_key="statement:same-line",
            )
            created.append(made)
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(created) == [False] * 5 + [True]
    assert services.balance_pence(account) == -12250


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_charge_runs_for_one_week_at_once_post_each_charge_once():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL's concurrent writers")
    for n in range(1, 6):
        make_account(n)
    barrier = threading.Barrier(3)
    results = []

    def run():
        barrier.wait()
        try:
            results.append(services.post_weekly_charges(MONDAY))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert LedgerEntry.objects.count() == 10
    assert ChargeRun.objects.count() == 1
    assert sorted(r.already_done for r in results) == [False, True, True]
