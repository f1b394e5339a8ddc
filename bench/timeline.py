"""A resident's "How we used your data" timeline read from a large data-use log, on PostgreSQL.

``size`` is the number of events in the log (default 1,000,000; the issue's target is about
10,000,000). Events are spread over ``size // 50`` residents, about 50 each, in ID order over
the last three years. ``SAMPLE`` residents get an account whose identity check passed.

Measured in one process with Django's test client (no HTTP server), per request: the timeline's
first page, its second page and the first page filtered by a date range, each rendered in full
(the account's IDs, the events, the count, dataset titles, the page), 3 rounds over the sample;
and, as the baseline in the same run, the same events read straight from the table with one bare
query (``LIMIT 10``) and no count, no ORM and no page. Reports p50 and p95 milliseconds of each
and the ratio of the real page's p95 to the baseline's. Target: the page's p95 at most 200 ms.

Needs PostgreSQL at 127.0.0.1:5432 as ``postgres`` with trust authentication (or set
``BOROUGH_BENCH_POSTGRES_URL``). It drops and recreates the database ``borough_bench_timeline``
and drops it at the end.
"""

from __future__ import annotations

import os
import random
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from enforcement import POSTGRES_URL, _admin_connection

DEFAULT_SIZE = 1_000_000
EVENTS_PER_RESIDENT = 50
SAMPLE = 100
ROUNDS = 3
SEED = 14
DATABASE = "borough_bench_timeline"
TARGET_P95_MS = 200.0

_FILL = """
INSERT INTO transparency_datauseevent (action_id, occurred_at, subject_resident_id, actor_kind,
    actor_user_id, actor_label, service, purpose, purpose_text, lawful_basis, lawful_basis_text,
    datasets_read, action, reference, outcome, restriction_reason_code)
SELECT gen_random_uuid(),
       now() - make_interval(secs => (%(size)s - i) * (94608000.0 / %(size)s)),
       'R-' || (i %% %(residents)s),
       'service', NULL, 'Parking permits service', 'parking',
       'parking_permit_residency_check',
       'To check you live at the address you gave for your parking permit',
       'public_task_parking_permits',
       'The council needs to do this to run residents'' parking permits (UK GDPR 6(1)(e))',
       '["council_tax", "electoral_register"]'::jsonb, 'verification',
       'PP-' || i, 'verified', ''
FROM generate_series(%(start)s, %(stop)s) AS i
"""
BATCH = 1_000_000

_BASELINE = (
    "SELECT id, occurred_at, service, purpose_text, lawful_basis_text, datasets_read, action "
    "FROM transparency_datauseevent WHERE subject_resident_id = ANY(%s) "
    "ORDER BY occurred_at DESC, id DESC LIMIT 10"
)


def _drop_database() -> None:
    with _admin_connection() as con:
        con.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')


def _ms(samples: list[float]) -> dict:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"p50_ms": round(statistics.median(ordered), 2), "p95_ms": round(p95, 2)}


def run(size: int | None, progress: Callable[[str], None]) -> dict:
    size = size or DEFAULT_SIZE
    residents = max(1, size // EVENTS_PER_RESIDENT)
    rng = random.Random(SEED)
    tmp = Path(tempfile.mkdtemp(prefix="borough-bench-timeline-"))
    url = os.environ.get("BOROUGH_BENCH_POSTGRES_URL", POSTGRES_URL)
    os.environ["BOROUGH_DATA"] = str(tmp)
    os.environ["DATABASE_URL"] = f"{url}/{DATABASE}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "borough.settings")
    _drop_database()
    with _admin_connection() as con:
        con.execute(f'CREATE DATABASE "{DATABASE}"')
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection
        from django.test import Client
        from django.urls import reverse
        from django.utils import timezone

        from borough.core.models import User
        from borough.residents.verification.models import Verification

        call_command("migrate", verbosity=0)
        started = time.perf_counter()
        with connection.cursor() as cursor:
            for start in range(1, size + 1, BATCH):
                stop = min(size, start + BATCH - 1)
                cursor.execute(
                    _FILL, {"size": size, "residents": residents, "start": start, "stop": stop}
                )
                progress(f"{stop:,} of {size:,} events")
            cursor.execute("VACUUM ANALYZE")
            cursor.execute("SHOW server_version")
            postgres_version = cursor.fetchone()[0]
        fill_seconds = time.perf_counter() - started
        progress(f"{size:,} events for {residents:,} residents in {fill_seconds:.1f}s")

        chosen = rng.sample(range(residents), min(SAMPLE, residents))
        accounts = []
        for n in chosen:
            user = User.objects.create_resident(f"bench-{n}@example.org")
            Verification.objects.create(
                purpose="parking_permit_residency_check",
                requested_at=timezone.now(),
                actor_kind="resident",
                actor_user=user,
                applicant={},
                decision="verified",
                resident_id=f"R-{n}",
                match_probability=0.99,
                index_linked_at="bench",
                seconds=0.0,
            )
            accounts.append((user, f"R-{n}"))

        timeline = reverse("transparency:timeline")
        year = timezone.localdate().year - 1
        queries = {
            "first_page": {},
            "second_page": {"page": "2"},
            "date_range": {"since_day": "1", "since_month": "1", "since_year": str(year)}
            | {"until_day": "31", "until_month": "12", "until_year": str(year)},
        }
        client = Client(HTTP_HOST="127.0.0.1")
        times: dict[str, list[float]] = {name: [] for name in [*queries, "baseline"]}
        for round_number in range(ROUNDS):
            for user, resident_id in accounts:
                client.force_login(user)
                for name, query in queries.items():
                    started = time.perf_counter()
                    response = client.get(timeline, query)
                    times[name].append((time.perf_counter() - started) * 1000)
                    assert response.status_code == 200, (name, response.status_code)
                    assert "PP-" in response.content.decode(), name
                started = time.perf_counter()
                with connection.cursor() as cursor:
                    cursor.execute(_BASELINE, [[resident_id]])
                    rows = cursor.fetchall()
                times["baseline"].append((time.perf_counter() - started) * 1000)
                assert len(rows) == 10
            progress(f"round {round_number + 1} of {ROUNDS}: {len(accounts)} residents")
    finally:
        from django.db import connections

        connections.close_all()
        _drop_database()
        shutil.rmtree(tmp, ignore_errors=True)
        progress(f"dropped {DATABASE}")

    figures = {name: _ms(samples) for name, samples in times.items()}
    worst = max(figures[name]["p95_ms"] for name in queries)
    return {
        "events": size,
        "residents": residents,
        "sampled_residents": len(accounts),
        "rounds": ROUNDS,
        "fill_seconds": round(fill_seconds, 1),
        "postgres": postgres_version,
        **{f"{name}_{key}": value for name, f in figures.items() for key, value in f.items()},
        "worst_page_p95_ms": worst,
        "first_page_p95_to_baseline": round(
            figures["first_page"]["p95_ms"] / max(figures["baseline"]["p95_ms"], 1e-6), 1
        ),
        "target_p95_ms": TARGET_P95_MS,
        "target_met": worst <= TARGET_P95_MS,
    }
