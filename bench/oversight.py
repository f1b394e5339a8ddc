"""The data protection officer's "Unusual access" queries on a large data-use log, on PostgreSQL.

``size`` is the number of events in the log (default 10,000,000), spread over six years (the
retention period) as the services would write them: one in 20 is a staff member's (200 officers
in four roles, mostly in working hours and their own service), the rest services' and systems'.
A fresh database (``borough_bench_oversight``, dropped first and again at the end) is migrated
and filled in SQL (``generate_series``, a million rows a statement, through the append-only
table's normal INSERT), then ``VACUUM ANALYZE``d.

Each of the four flags (``transparency/oversight.py``) is timed for the last 7, 30 and 90 days,
five times, median and worst reported, with the plan's index named; the baseline in the same
run is counting the staff events in the same period (the least any flag must read).
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from enforcement import _admin_connection  # bench/ modules import each other by name

DEFAULT_SIZE = 10_000_000
DATABASE = "borough_bench_oversight"
POSTGRES_URL = "postgres://postgres@127.0.0.1:5432"  # as enforcement.py
CHUNK = 1_000_000
OFFICERS = 200
REPEATS = 5
PERIODS = (7, 30, 90)
SPAN_DAYS = 6 * 365

ROLES = ["Parking officer", "Housing officer", "Finance officer", "Resident data officer"]


def _recreate_database() -> None:
    with _admin_connection() as con:
        con.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        con.execute(f'CREATE DATABASE "{DATABASE}"')


def _drop_database() -> None:
    with _admin_connection() as con:
        con.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')


FILL = """
INSERT INTO transparency_datauseevent (
    action_id, occurred_at, subject_resident_id, actor_kind, actor_user_id, actor_label,
    service, purpose, purpose_text, lawful_basis, lawful_basis_text, datasets_read, action,
    reference, outcome)
SELECT
    md5(g::text)::uuid,
    CASE WHEN staff AND h %% 100 < 97
         THEN date_trunc('day', %(end)s - (g::float8 / %(size)s) * %(span)s * interval '1 day')
              + interval '8 hours' + (h %% 36000) * interval '1 second'
         ELSE %(end)s - (g::float8 / %(size)s) * %(span)s * interval '1 day' END,
    'R-' || (h %% 400000),
    CASE WHEN staff THEN 'staff' ELSE 'service' END,
    CASE WHEN staff THEN (%(officers)s::bigint[])[1 + (g / 20) %% %(n_officers)s] END,
    CASE WHEN staff THEN 'Council officer' ELSE 'Parking permits service' END,
    CASE WHEN staff THEN (ARRAY['parking', 'housing', 'housing', 'residents'])[
            1 + ((g / 20) %% %(n_officers)s) %% 4 ]
         ELSE 'parking' END,
    CASE WHEN staff THEN 'staff_view_records' ELSE 'parking_enforcement_check' END,
    'To deal with a request or case involving you',
    'public_task_council_services',
    'Public task',
    '["council_tax"]'::jsonb,
    CASE WHEN staff THEN 'viewed_records' ELSE 'enforcement_check' END,
    CASE WHEN staff AND h %% 10 = 0 THEN '' WHEN staff THEN 'PP-' || (h %% 99999) ELSE '' END,
    ''
FROM (
    SELECT g, g %% 20 = 0 AS staff, abs(hashint4(g::int)) AS h
    FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS g
) AS numbered
"""


def _fill(size: int, progress) -> None:
    from django.contrib.auth.models import Group
    from django.db import connection

    from borough.core.models import User

    groups = {name: Group.objects.get_or_create(name=name)[0] for name in ROLES}
    unusable = "!"  # no one signs in as these officers
    users = User.objects.bulk_create(
        [User(username=f"officer-{n}", is_staff=True, password=unusable) for n in range(OFFICERS)]
    )
    for n, user in enumerate(users):
        user.groups.add(groups[ROLES[n % 4]])
    officers = [user.pk for user in users]
    end = dt.datetime.now(dt.UTC)
    with connection.cursor() as cursor:
        for first in range(1, size + 1, CHUNK):
            last = min(size, first + CHUNK - 1)
            cursor.execute(
                FILL,
                {
                    "end": end,
                    "size": size,
                    "span": SPAN_DAYS,
                    "officers": officers,
                    "n_officers": OFFICERS,
                    "first": first,
                    "last": last,
                },
            )
            progress(f"{last:,} events")


def _plan(query) -> str:
    """The indexes the plan uses, from EXPLAIN."""
    from django.db import connection

    sql, params = query.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}", params)
        lines = [row[0] for row in cursor.fetchall()]
    used = sorted({word for line in lines for word in line.split() if word.startswith("data_use")})
    return ", ".join(used) or "no index"


def _time(call) -> tuple[float, float]:
    seconds = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - started)
    return round(statistics.median(seconds) * 1000, 1), round(max(seconds) * 1000, 1)


def run(size: int | None, progress: Callable[[str], None]) -> dict:
    size = size or DEFAULT_SIZE
    tmp = Path(tempfile.mkdtemp(prefix="borough-bench-oversight-"))
    url = os.environ.get("BOROUGH_BENCH_POSTGRES_URL", POSTGRES_URL)
    os.environ["BOROUGH_DATA"] = str(tmp)
    os.environ["DATABASE_URL"] = f"{url}/{DATABASE}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "borough.settings")
    _recreate_database()
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection
        from django.utils import timezone

        from borough.transparency import oversight

        started = time.perf_counter()
        call_command("migrate", verbosity=0)
        progress(f"migrated in {time.perf_counter() - started:.1f}s")
        started = time.perf_counter()
        _fill(size, progress)
        fill_seconds = time.perf_counter() - started
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE transparency_datauseevent")
        progress(f"filled in {fill_seconds:.0f}s and analysed")

        until = timezone.localdate()
        results: dict = {"events": size, "fill_seconds": round(fill_seconds, 1)}
        for days in PERIODS:
            since = until - dt.timedelta(days=days - 1)
            staff = oversight.staff_events(since, until)
            figures = {
                "staff_events": staff.count(),
                "baseline_count_ms": _time(lambda s=staff: s.count()),
                "plan": _plan(staff.values("actor_user")),
            }
            for name, flag in {
                "many_residents_ms": oversight.many_residents_without_case,
                "outside_service_ms": oversight.outside_own_service,
                "odd_hours_ms": oversight.odd_hours,
                "looked_up_ms": oversight.looked_up_repeatedly,
            }.items():
                figures[name] = _time(lambda f=flag, s=since: f(s, until))
            progress(f"{days} days: {figures}")
            results[f"last_{days}_days"] = figures
        return results
    finally:
        from django.db import connections

        connections.close_all()
        _drop_database()
