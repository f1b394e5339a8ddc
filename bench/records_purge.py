"""Retention's anonymisation of source dataset records (``transparency/record_retention.py``),
on PostgreSQL.

``size`` is the number of council tax records (default 200,000); half ended seven years ago
(past the declaration's ``keep_after_end = "6 years"``), half are current. A fresh database
(``borough_rt_bench_purge``, dropped first and again at the end) is migrated and filled through
the ORM in chunks. With no resident index on disk, so the figures are the database's work: the
dry run (count, oldest and newest end), then the purge (1,000 records a transaction, each
locked, blanked, given its marker and its batch's data-use event), then a second run that finds
nothing.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable

from _fresh_database import fresh_database  # bench/ modules import each other by name

DEFAULT_SIZE = 200_000
DATABASE = "borough_rt_bench_purge"
CHUNK = 10_000


def _fill(size: int, now: dt.datetime) -> None:
    from borough.residents.models import DatasetLoad, SourceDataset, SourceRecord
    from borough.residents.services import sync_datasets

    sync_datasets()
    load = DatasetLoad.objects.create(
        dataset=SourceDataset.objects.get(code="council_tax"),
        file_name="council_tax.csv",
        sha256="0" * 64,
        config_sha256="0" * 64,
        status=DatasetLoad.Status.LOADED,
        started_at=now - dt.timedelta(days=3000),
        finished_at=now - dt.timedelta(days=3000),
        via="benchmark",
    )
    ended = now - dt.timedelta(days=7 * 365)
    for first in range(0, size, CHUNK):
        SourceRecord.objects.bulk_create(
            [
                SourceRecord(
                    dataset=load.dataset,
                    record_ref=f"{600000000 + n}#1",
                    row_number=n + 2,
                    first_name="Ada",
                    surname=f"Surname{n}",
                    first_name_std="ada",
                    surname_std=f"surname{n}",
                    first_name_canonical="ada",
                    date_of_birth=dt.date(1950, 1, 1) + dt.timedelta(days=n % 18000),
                    postcode="E21 0AA",
                    uprn=100090000000 + n,
                    uprn_method="source",
                    address_given=f"{n} Albion Road",
                    address_text=f"{n} albion road",
                    content_hash="f" * 32,
                    first_seen_load=load,
                    last_seen_load=load,
                    changed_at=load.started_at,
                    ended_at=ended if n % 2 == 0 else None,
                )
                for n in range(first, min(first + CHUNK, size))
            ]
        )


def run(size: int | None, progress: Callable[[str], None]) -> dict:
    size = size or DEFAULT_SIZE
    with fresh_database(DATABASE, "borough-bench-records-purge-"):
        from django.db import connection
        from django.utils import timezone

        from borough.residents.models import SourceRecord
        from borough.transparency.retention import purge

        now = timezone.now()
        started = time.perf_counter()
        _fill(size, now)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE residents_sourcerecord")
        progress(f"{size:,} records written in {time.perf_counter() - started:.1f}s")
        started = time.perf_counter()
        dry = purge(now, dry_run=True)
        dry_seconds = time.perf_counter() - started
        progress(f"dry run: {dry.records} in {dry_seconds:.2f}s")
        started = time.perf_counter()
        done = purge(now)
        purge_seconds = time.perf_counter() - started
        progress(f"purge: {done.records_total:,} records in {purge_seconds:.1f}s")
        started = time.perf_counter()
        again = purge(now)
        again_seconds = time.perf_counter() - started
        anonymised = SourceRecord.objects.filter(anonymised_at__isnull=False).count()
        assert anonymised == done.records_total == (size + 1) // 2, anonymised
        assert again.records == []
        return {
            "records": size,
            "anonymised": anonymised,
            "dry_run_s": round(dry_seconds, 3),
            "purge_s": round(purge_seconds, 2),
            "records_per_s": round(anonymised / purge_seconds),
            "second_run_s": round(again_seconds, 3),
            "database": DATABASE,
        }
