"""The Insight warehouse: ``borough insights build`` over a big source database.

    python bench/run.py warehouse [--size N] [--postgres] [--seed S]

``size`` is rent ledger entries (default 10,000,000); the source also gets size/10 permit
applications, each with its permit, over size/200 rent accounts and their properties (names
and registrations from ``borough.synth``). Generated once per backend, size and seed, with bulk
inserts, and kept in ``<tmp>/borough-bench-warehouse-cache/`` (the benchmark works on a copy, so the cache
stays as generated; delete the folder to free the space).

Measured, each through the command in its own process (``python -m borough insights build``):
the full build's seconds and peak memory; a day's new data (size/365 ledger entries, size/3650
applications and permits, and 0.1% of permits cancelled) then the incremental build's seconds
and peak memory; and the p95 of dashboard-style queries on the published warehouse
(``borough.insights.bench_queries.QUERIES``, where the dashboards add theirs). Targets: full
build ≤ 60 s, incremental ≤ 5 s, query p95 ≤ 300 ms.

The commands run as a council deploys Borough (``BOROUGH_TASKS=database``, docs/background-jobs.md):
a build publishes and queues the drawing of the dashboards' charts for the worker. After each
build the worker (``borough db_worker --batch``) draws them, timed on its own
(``*_charts_drawn_s``): off the build's path, and what the first view of a dashboard waits for.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = 10_000_000
POSTGRES = os.environ.get("BOROUGH_BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432")
# The cached source database, the per-run work database and the cache folder are named with this
# prefix: give two people running the benchmark on one machine (or one server) a prefix each.
PREFIX = os.environ.get("BOROUGH_BENCH_WH_PREFIX", "borough_bench_wh")
WARDS = 21
START = dt.date(2024, 12, 2)  # a Monday: two years of weekly rent before today
QUERY_RUNS = 15
LEDGER_COLUMNS = [
    "account_id",
    "kind",
    "type_code",
    "posted_on",
    "amount_pence",
    "description",
    "source_key",
]


def add_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--postgres", action="store_true", help="source on PostgreSQL")
    parser.add_argument("--seed", type=int, default=15)


def run(size: int | None, progress: Callable[[str], None], options=None) -> dict:
    n = size or DEFAULT
    seed = options.seed if options else 15
    postgres = bool(options and options.postgres)
    backend = "postgresql" if postgres else "sqlite"
    folder = "borough-bench-warehouse-cache" + (
        "" if PREFIX == "borough_bench_wh" else f"-{PREFIX}"
    )
    cache = Path(tempfile.gettempdir()) / folder / f"{backend}-{n}-{seed}"
    load_before = os.getloadavg()
    started = time.perf_counter()
    if not (cache / "ready").exists():
        shutil.rmtree(cache, ignore_errors=True)
        cache.mkdir(parents=True)
        _child("generate", cache, n, seed, postgres, progress)
        (cache / "ready").write_text("ok")
    generated_s = time.perf_counter() - started
    work = Path(tempfile.mkdtemp(prefix="borough-bench-warehouse-"))
    try:
        env = _env(work, n, seed, postgres)
        _copy_source(cache, work, n, seed, postgres)
        # The cache keeps the schema it was generated with: bring the copy up to this code's
        # (a migration since then would otherwise fail the day's new data, not the build).
        progress("migrate the copy")
        subprocess.run(
            [sys.executable, "-m", "borough", "migrate", "--noinput"],
            env=env,
            cwd=ROOT,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        progress("full build")
        full_s, full_mb, full_cpu, full_out = _build(env, ["--full"], progress)
        full_drawn_s = _draw_charts(env, progress)
        progress("a day's new data")
        _child("add-day", work, n, seed, postgres, progress)
        progress("incremental build")
        inc_s, inc_mb, inc_cpu, inc_out = _build(env, [], progress)
        inc_drawn_s = _draw_charts(env, progress)
        progress("queries")
        queries = _queries(work / "warehouse" / "warehouse.duckdb")
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if postgres:
            _drop(_work_db(n, seed))
    return {
        "backend": backend,
        "ledger_entries": n,
        "permit_applications": n // 10,
        "generate_or_cache_s": round(generated_s, 1),
        "full_build_s": round(full_s, 2),
        "full_build_peak_rss_mb": full_mb,
        "full_build_cpu_s": full_cpu,
        "incremental_build_s": round(inc_s, 2),
        "incremental_build_peak_rss_mb": inc_mb,
        "incremental_build_cpu_s": inc_cpu,
        "full_build_charts_drawn_s": full_drawn_s,
        "incremental_build_charts_drawn_s": inc_drawn_s,
        "query_p95_ms": queries["p95_ms"],
        "queries": queries["by_query"],
        "full_build_said": full_out,
        "incremental_build_said": inc_out,
        "loadavg_before": load_before,
        "loadavg_after": os.getloadavg(),
        "targets": {"full_build_s": 60, "incremental_build_s": 5, "query_p95_ms": 300},
    }


def _env(folder: Path, n: int, seed: int, postgres: bool) -> dict:
    env = {**os.environ, "BOROUGH_DATA": str(folder), "BOROUGH_ENV": "development"}
    env["BOROUGH_TASKS"] = "database"  # as a council deploys it: a worker runs the jobs
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env["BOROUGH_WAREHOUSE_KEY"] = "benchmark warehouse key"
    if postgres:
        env["DATABASE_URL"] = f"{POSTGRES}/{_work_db(n, seed)}"
    return env


def _cache_db(n: int, seed: int) -> str:
    return f"{PREFIX}_cache_{n}_{seed}"


def _work_db(n: int, seed: int) -> str:
    return f"{PREFIX}_work_{n}_{seed}"


def _psql(sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as admin:
        admin.execute(sql)


def _drop(name: str) -> None:
    _psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _copy_source(cache: Path, work: Path, n: int, seed: int, postgres: bool) -> None:
    for name in ("secret_key",):
        if (cache / name).exists():
            shutil.copy(cache / name, work / name)
    if postgres:
        _drop(_work_db(n, seed))
        _psql(f"CREATE DATABASE {_work_db(n, seed)} TEMPLATE {_cache_db(n, seed)}")
    else:
        shutil.copy(cache / "borough.sqlite3", work / "borough.sqlite3")


def _child(step: str, folder: Path, n: int, seed: int, postgres: bool, progress) -> None:
    """Generation and the day's data run in a child with Django set up for that folder."""
    env = _env(folder, n, seed, postgres)
    if postgres and step == "generate":
        _drop(_cache_db(n, seed))
        _psql(f"CREATE DATABASE {_cache_db(n, seed)}")
        env["DATABASE_URL"] = f"{POSTGRES}/{_cache_db(n, seed)}"
    command = [sys.executable, __file__, step, str(n), str(seed)]
    child = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    assert child.stderr is not None
    for line in child.stderr:
        progress(f"  {line.rstrip()}")
    if child.wait() != 0:
        raise RuntimeError(f"{step} failed ({child.returncode})")


def _build(env: dict, args: list[str], progress) -> tuple[float, float, float, str]:
    command = [sys.executable, "-m", "borough", "insights", "build", *args]
    started = time.perf_counter()
    child = subprocess.Popen(
        command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert child.stdout is not None and child.stderr is not None
    out: list[str] = []
    reader = threading.Thread(target=lambda: out.append(child.stdout.read()), daemon=True)
    reader.start()
    for line in child.stderr:
        progress(f"  {line.rstrip()}")
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    reader.join()
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError("the build failed: " + "".join(out))
    # CPU seconds (user + system) say what the build costs when the shared machine is busy.
    cpu = round(usage.ru_utime + usage.ru_stime, 1)
    return seconds, round(usage.ru_maxrss / 1024, 1), cpu, "".join(out).strip()


def _draw_charts(env: dict, progress) -> float:
    """The worker's run of the jobs the build queued (the dashboards' charts drawn ahead):
    seconds."""
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "borough", "db_worker", "--batch"],
        env=env,
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    seconds = round(time.perf_counter() - started, 2)
    progress(f"the worker drew the charts ahead in {seconds} s")
    return seconds


def _queries(database: Path) -> dict:
    import duckdb

    sys.path.insert(0, str(ROOT))
    from borough.insights.bench_queries import QUERIES

    con = duckdb.connect(str(database), read_only=True)
    timings: dict[str, list[float]] = {}
    for name, sql in QUERIES.items():
        con.execute(sql).fetchall()  # warm
        runs = []
        for _ in range(QUERY_RUNS):
            started = time.perf_counter()
            con.execute(sql).fetchall()
            runs.append((time.perf_counter() - started) * 1000)
        timings[name] = runs
    con.close()
    every = sorted(t for runs in timings.values() for t in runs)
    return {
        "p95_ms": round(_p95(every), 1),
        "by_query": {name: round(_p95(runs), 1) for name, runs in timings.items()},
    }


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) > 1 else values[0]


# --- in the child process, with Django set up ------------------------------------------------


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "borough.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class _Writer:
    """Bulk inserts through the driver: SQLite ``executemany`` in one transaction, PostgreSQL
    ``COPY``. Fields not given take their model default."""

    def __init__(self) -> None:
        from django.db import connection

        self.connection = connection
        connection.ensure_connection()
        self.raw = connection.connection
        if connection.vendor == "sqlite":
            self.raw.execute("PRAGMA synchronous = OFF")
            self.raw.execute("PRAGMA journal_mode = MEMORY")
            self.raw.execute("PRAGMA foreign_keys = OFF")

    def write(self, model, columns: list[str], rows, template: dict) -> int:
        fields = {f.attname: f for f in model._meta.concrete_fields}
        example = model(**template)
        constant = {}
        for name, f in fields.items():
            if name in columns or (f.primary_key and name not in template):
                continue
            value = getattr(example, name)
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                value = dt.datetime(2026, 12, 6, 12, tzinfo=dt.UTC)
            constant[name] = f.get_db_prep_save(value, self.connection)
        # Times as Django writes them on SQLite (naive UTC text), so the build compares alike.
        times = [
            i for i, c in enumerate(columns) if fields[c].get_internal_type() == "DateTimeField"
        ]
        if times and self.connection.vendor == "sqlite":
            adapt = self.connection.ops.adapt_datetimefield_value
            rows = (tuple(adapt(v) if i in times else v for i, v in enumerate(row)) for row in rows)
        names = [fields[c].column for c in (*columns, *constant)]
        table = model._meta.db_table
        count = 0
        if self.connection.vendor == "sqlite":
            marks = ", ".join("?" * len(names))
            sql = f'INSERT INTO "{table}" ({", ".join(names)}) VALUES ({marks})'  # noqa: S608
            tail = tuple(constant.values())
            batch = []
            for row in rows:
                batch.append((*row, *tail))
                if len(batch) == 100_000:
                    self.raw.executemany(sql, batch)
                    count += len(batch)
                    batch = []
            if batch:
                self.raw.executemany(sql, batch)
                count += len(batch)
            self.raw.commit()
        else:
            tail = tuple(constant.values())
            with self.raw.cursor() as cursor:
                with cursor.copy(f'COPY "{table}" ({", ".join(names)}) FROM STDIN') as copy:
                    for row in rows:
                        copy.write_row((*row, *tail))
                        count += 1
            self.raw.commit()
        return count


def _generate(n: int, seed: int) -> None:
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from django.db import connection

    connection.set_autocommit(False) if connection.vendor == "postgresql" else None
    from borough.core.models import User
    from borough.housing.models import LedgerEntry, RentAccount, Tenancy
    from borough.parking.models import Permit, PermitApplication, Zone
    from borough.places.models import Property
    from borough.synth import vehicles

    rnd = random.Random(seed)
    w = _Writer()
    accounts = max(100, n // 200)
    households = max(100, n // 20)  # homes with permits: two applications each
    started = time.perf_counter()
    w.write(
        Property,
        ["uprn", "ward_code", "ward_name", "postcode", "is_residential", "updated_at"],
        (
            (
                10_000_000 + i,
                f"E05{i % WARDS:06d}",
                f"Ward {i % WARDS}",
                "NM1 1AA",
                True,
                # Changed over time, as a gazetteer is: not all in the same minute.
                dt.datetime(2026, 12, 1, tzinfo=dt.UTC) - dt.timedelta(minutes=i),
            )
            for i in range(accounts + households)
        ),
        {},
    )
    square = {"type": "Polygon", "coordinates": [[[0, 51], [0.1, 51], [0.1, 51.1], [0, 51]]]}
    zones = [
        Zone.objects.create(
            code=c,
            name=f"Zone {c}",
            boundary=square,
            min_lon=0,
            min_lat=51,
            max_lon=0.1,
            max_lat=51.1,
        ).pk
        for c in "ABCDEFGH"
    ]
    _say(f"properties and zones in {time.perf_counter() - started:.0f} s")
    w.write(
        Tenancy,
        ["id", "reference", "property_id", "tenure", "start_date"],
        (
            (
                i + 1,
                f"T{i:08d}",
                10_000_000 + i,
                ("secure", "introductory", "flexible")[i % 3],
                dt.date(2020, 4, 6),
            )
            for i in range(accounts)
        ),
        {},
    )
    w.write(
        RentAccount,
        ["id", "tenancy_id", "payment_reference", "opened_on"],
        ((i + 1, i + 1, f"{i:08d}R", dt.date(2020, 4, 6)) for i in range(accounts)),
        {},
    )
    per_account = max(2, n // accounts)
    kinds = [
        ("direct_debit", "RDD"),
        ("standing_order", "RSO"),
        ("card", "RCP"),
        ("benefit", "RHB"),
        ("bank_payment", "RBP"),
    ]

    def ledger():
        made = 0
        for a in range(accounts):
            kind, code = kinds[rnd.randrange(len(kinds))]
            for k in range(per_account if a < accounts - 1 else n - made):
                week, paid = divmod(k, 2)
                posted = START + dt.timedelta(weeks=week % 104, days=3 * paid)
                amount = -12_000 - rnd.randrange(700) if paid else 12_345
                yield (
                    a + 1,
                    "charge" if not paid else kind,
                    "DBR" if not paid else code,
                    posted,
                    amount,
                    f"{'Rent' if not paid else 'Payment'}",
                    f"b:{a}:{k}",
                )
                made += 1
                if made == n:
                    return

    started = time.perf_counter()
    count = w.write(
        LedgerEntry,
        LEDGER_COLUMNS,
        ledger(),
        {},
    )
    _say(f"{count:,} ledger entries in {time.perf_counter() - started:.0f} s")
    user = User.objects.create_resident("bench.applicant@example.org")
    started = time.perf_counter()
    _applications(w, 0, n // 10, households, accounts, zones, user.pk, rnd, vehicles)
    _say(f"{n // 10:,} permit applications and permits in {time.perf_counter() - started:.0f} s")
    if connection.vendor == "postgresql":
        connection.set_autocommit(True)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    _ = PermitApplication, Permit


def _applications(w, first, count, households, accounts, zones, user_id, rnd, vehicles) -> None:
    from borough.parking.models import Permit, PermitApplication

    bands = "ABCDEFGHIJKLM"
    # The day's applications come after the generated ones: made later, changed later.
    created = dt.datetime(2026, 12, 6 if first == 0 else 7, 9, tzinfo=dt.UTC)
    w.write(
        PermitApplication,
        [
            "id",
            "reference",
            "journey",
            "applicant_id",
            "permit_type",
            "property_id",
            "zone_id",
            "first_name",
            "surname",
            "date_of_birth",
            "vrm",
            "duration_months",
            "band",
            "price_pence",
            "verification_decision",
            "resident_id",
            "status",
            "created_at",
            "updated_at",
        ],
        (
            (
                i + 1,
                f"PA-B{i:08d}",
                f"bench-{i}",
                user_id,
                "resident",
                10_000_000 + accounts + (i // 2) % households,
                zones[i % len(zones)],
                "Ada",
                "Lovelace",
                dt.date(1980, 1, 1),
                vehicles.registration(60 + i % 20, i),
                12,
                bands[i % 13],
                5_000 + 2_500 * (i % 13),
                "verified",
                f"R{i:09d}",
                "issued",
                created - dt.timedelta(minutes=i % 1_000_000),
                created - dt.timedelta(minutes=i % 1_000_000),
            )
            for i in range(first, first + count)
        ),
        {},
    )
    w.write(
        Permit,
        [
            "id",
            "number",
            "application_id",
            "holder_id",
            "permit_type",
            "property_id",
            "zone_id",
            "vrm",
            "starts_on",
            "ends_on",
            "status",
            "paid_pence",
            "issued_at",
            "updated_at",
        ],
        (
            (
                i + 1,
                f"PB{i:09d}",
                i + 1,
                user_id,
                "resident",
                10_000_000 + accounts + (i // 2) % households,
                zones[i % len(zones)],
                vehicles.registration(60 + i % 20, i),
                dt.date(2026, 1, 1) + dt.timedelta(i % 300),
                dt.date(2026, 12, 31) + dt.timedelta(i % 300),
                "ended" if i % 2 else "active",
                5_000 + 2_500 * (i % 13),
                created - dt.timedelta(minutes=i % 1_000_000),
                created - dt.timedelta(minutes=i % 1_000_000),  # last changed when issued
            )
            for i in range(first, first + count)
        ),
        {},
    )


def _add_day(n: int, seed: int) -> None:
    """A day's new data: ledger entries, applications with their permits, cancellations."""
    from django.db import connection
    from django.utils import timezone

    from borough.core.models import User
    from borough.housing.models import LedgerEntry
    from borough.parking.models import Permit, Zone
    from borough.synth import vehicles

    rnd = random.Random(seed + 1)
    w = _Writer()
    accounts = max(100, n // 200)
    households = max(100, n // 20)
    today = dt.date(2026, 12, 7)
    day = max(1, n // 365)
    started = time.perf_counter()
    w.write(
        LedgerEntry,
        LEDGER_COLUMNS,
        (
            (
                1 + i % accounts,
                "card",
                "RCP",
                today,
                -1_000 - rnd.randrange(5_000),
                "Card payment",
                f"day:{i}",
            )
            for i in range(day)
        ),
        {},
    )
    apps = max(1, n // 3650)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT max(id) FROM {Permit._meta.db_table}")  # noqa: S608
        first = cursor.fetchone()[0]
    zones = list(Zone.objects.values_list("pk", flat=True))
    user = User.objects.get(email="bench.applicant@example.org")
    _applications(w, first, apps, households, accounts, zones, user.pk, rnd, vehicles)
    cancel = max(1, first // 1000)
    ids = rnd.sample(range(1, first + 1), cancel)
    # A bulk change as a batch job makes it: ``.update()`` sets the change time itself.
    Permit.objects.filter(pk__in=ids).update(
        status="cancelled", refunded_pence=1_000, updated_at=timezone.now()
    )
    if connection.vendor != "sqlite":
        connection.connection.commit()
    _say(
        f"{day:,} ledger entries, {apps:,} applications, {cancel:,} cancellations "
        f"in {time.perf_counter() - started:.1f} s"
    )


if __name__ == "__main__":
    step, size, seed_arg = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    _setup()
    {"generate": _generate, "add-day": _add_day}[step](size, seed_arg)
