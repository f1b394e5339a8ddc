"""Retention's blanking of rent tenancies, Direct Debit mandates, verifications and visitor
sessions (``transparency/service_retention.py``), on PostgreSQL.

``size`` is the number of tenancies (default 20,000). Each has a tenant, a rent account with
two ledger entries and a cancelled mandate, and one verification and one visitor session
beside it; half the tenancies (and their accounts, mandates, checks and sessions) ended seven
years ago, past the shipped profile's periods ("6 years"; visitor sessions "2 years"), the rest
are current or recent. A fresh database (``borough_rr_bench_purge``, dropped first and again at
the end) is migrated and filled through the ORM in chunks. The figures: the dry run, the purge
(1,000 records a transaction, each batch locked, checked again and blanked, with its data-use
event), a second run that finds nothing; and the check that every account's balance and the
ledger's total are the same before and after.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable

from _fresh_database import fresh_database  # bench/ modules import each other by name

DEFAULT_SIZE = 20_000
DATABASE = "borough_rr_bench_purge"
CHUNK = 5_000
SQUARE = {"type": "Polygon", "coordinates": [[[0, 0], [0, 1], [1, 1], [1, 0], [0, 0]]]}


def _fill(size: int, now: dt.datetime) -> None:
    from borough.core.models import User
    from borough.housing.models import LedgerEntry, Mandate, RentAccount, Tenancy, Tenant
    from borough.parking.models import VisitorSession, Zone
    from borough.places.models import Property
    from borough.residents.models import Verification

    zone = Zone.objects.create(
        code="A", name="Albion", hours="", boundary=SQUARE, min_lon=0, min_lat=0, max_lon=1,
        max_lat=1,
    )  # fmt: skip
    host = User.objects.create_resident("host@example.org")
    old = now - dt.timedelta(days=7 * 365)
    for first in range(0, size, CHUNK):
        numbers = range(first, min(first + CHUNK, size))
        homes = Property.objects.bulk_create(
            [Property(uprn=100090000000 + n, postcode="E21 0AA") for n in numbers]
        )
        ended = {n: n % 2 == 0 for n in numbers}
        tenancies = Tenancy.objects.bulk_create(
            [
                Tenancy(
                    reference=f"T{n:08d}",
                    property=home,
                    tenure="secure",
                    start_date=dt.date(2010, 4, 5),
                    end_date=old.date() if ended[n] else None,
                )
                for n, home in zip(numbers, homes, strict=True)
            ]
        )
        Tenant.objects.bulk_create(
            [
                Tenant(
                    tenancy=t,
                    first_name="Ada",
                    surname=f"Surname{n}",
                    date_of_birth=dt.date(1950, 1, 1),
                    email=f"t{n}@example.org",
                    resident_id=f"R{n:09d}",
                    lead=True,
                )
                for n, t in zip(numbers, tenancies, strict=True)
            ]
        )
        accounts = RentAccount.objects.bulk_create(
            [
                RentAccount(
                    tenancy=t,
                    payment_reference=f"{n:08d}X",
                    opened_on=dt.date(2010, 4, 5),
                    closed_on=old.date() if ended[n] else None,
                )
                for n, t in zip(numbers, tenancies, strict=True)
            ]
        )
        LedgerEntry.objects.bulk_create(
            [
                LedgerEntry(
                    account=a,
                    kind=kind,
                    type_code=code,
                    posted_on=dt.date(2019, 4, 1),
                    amount_pence=pence,
                    description="Rent" if pence > 0 else "Standing order",
                    source_key=f"bench:{n}:{code}",
                )
                for n, a in zip(numbers, accounts, strict=True)
                for kind, code, pence in (
                    ("charge", "DBR", 11000),
                    ("standing_order", "RSO", -9000),
                )
            ]
        )
        Mandate.objects.bulk_create(
            [
                Mandate(
                    account=a,
                    reference=f"NBC{n:010d}",
                    account_holder=f"ADA SURNAME{n}",
                    sort_code_encrypted="token",
                    account_number_encrypted="token",
                    sort_code_last2="59",
                    account_number_last4="8472",
                    frequency="monthly",
                    collection_day=15,
                    first_collection_on=dt.date(2011, 1, 15),
                    status="cancelled",
                    ended_at=old - dt.timedelta(days=30),
                )
                for n, a in zip(numbers, accounts, strict=True)
            ]
        )
        Verification.objects.bulk_create(
            [
                Verification(
                    reference=f"V-B{n:09d}",
                    purpose="parking_permit_residency",
                    requested_at=old if ended[n] else now,
                    actor_kind="resident",
                    applicant={"first_name": "Ada", "surname": f"Surname{n}"},
                    decision="verified",
                    resident_id=f"R{n:09d}",
                    match_probability=0.99,
                    index_linked_at="bench",
                    seconds=0.1,
                )
                for n in numbers
            ]
        )
        VisitorSession.objects.bulk_create(
            [
                VisitorSession(
                    host=host,
                    property=home,
                    zone=zone,
                    vrm=f"AB{n % 100:02d}CDE",
                    starts_at=(old if ended[n] else now) - dt.timedelta(hours=2),
                    ends_at=old if ended[n] else now,
                    hours_used=2,
                )
                for n, home in zip(numbers, homes, strict=True)
            ]
        )


def _ledger() -> tuple[int, int, dict]:
    from django.db.models import Count, Sum

    from borough.housing.models import LedgerEntry

    found = LedgerEntry.objects.aggregate(n=Count("pk"), total=Sum("amount_pence"))
    balances = dict(
        LedgerEntry.objects.values("account")
        .annotate(b=Sum("amount_pence"))
        .values_list("account", "b")
    )
    return found["n"], found["total"], balances


def run(size: int | None, progress: Callable[[str], None]) -> dict:
    size = size or DEFAULT_SIZE
    with fresh_database(DATABASE, "borough-bench-service-purge-"):
        from django.db import connection
        from django.utils import timezone

        from borough.transparency.retention import purge

        now = timezone.now()
        started = time.perf_counter()
        _fill(size, now)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        progress(f"{size:,} tenancies and the rest written in {time.perf_counter() - started:.1f}s")
        ledger_before = _ledger()
        started, cpu = time.perf_counter(), time.process_time()
        dry = purge(now, dry_run=True)
        dry_seconds = time.perf_counter() - started
        progress(f"dry run: {dry.records} in {dry_seconds:.2f}s")
        started, cpu = time.perf_counter(), time.process_time()
        done = purge(now)
        purge_seconds, purge_cpu = time.perf_counter() - started, time.process_time() - cpu
        progress(f"purge: {done.records_total:,} records in {purge_seconds:.1f}s")
        started = time.perf_counter()
        again = purge(now)
        again_seconds = time.perf_counter() - started
        due = (size + 1) // 2
        assert {row[1]: row[2] for row in done.records} == {
            "rent_tenancies": due,
            "direct_debit_mandates": due,
            "verifications": due,
            "visitor_sessions": due,
        }, done.records
        assert again.records == []
        assert _ledger() == ledger_before, "the ledger changed"
        return {
            "tenancies": size,
            "anonymised": done.records_total,
            "by_kind": {row[1]: row[2] for row in done.records},
            "dry_run_s": round(dry_seconds, 3),
            "purge_s": round(purge_seconds, 2),
            "purge_cpu_s": round(purge_cpu, 2),
            "records_per_s": round(done.records_total / purge_seconds),
            "second_run_s": round(again_seconds, 3),
            "ledger_entries": ledger_before[0],
            "ledger_total_pence": ledger_before[1],
            "ledger_unchanged": True,
            "database": DATABASE,
        }
