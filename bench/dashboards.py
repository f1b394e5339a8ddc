"""The Insight dashboards on a big warehouse: each dashboard's queries and each chart page.

    python bench/run.py dashboards [--size N] [--postgres] [--seed S]

``size`` is rent ledger entries (default 10,000,000), as in the ``warehouse`` benchmark, whose
generated source (``<tmp>/borough-bench-warehouse-cache/<backend>-N-S``; on PostgreSQL the
database ``borough_bench_wh_cache_N_S``) this one reuses when it is ready, and otherwise
generates the same way: size/10 permit applications and permits over size/200 rent accounts.
Without ``--postgres`` the source is SQLite (generated into ``<tmp>/borough-bench-cache/
dashboards-sqlite-N-S`` when the warehouse benchmark's is not ready: about an hour at
10,000,000); with it, PostgreSQL by ``COPY`` (minutes). Use a seed no one else is running the
warehouse benchmark with: the source is dropped and made again when it is not ready. A copy of
the source (``borough_bench_dashboards_work_N_S`` on PostgreSQL, dropped at the end) is built
into a warehouse with ``borough insights build``, as a council runs it
(``BOROUGH_TASKS=database``: the worker, ``borough db_worker --batch``, then draws the charts
ahead, timed as ``charts_drawn_ahead_s``); then, in a child process with Django set up
over that copy, for every dashboard under its default filters (the warehouse's last 12
months, all wards) and under one ward:

- its queries (the ``dashboards_queries`` functions its charts call, on a cursor as a page
  gets, nothing kept): milliseconds and CPU milliseconds per run of the whole set;
- where a page's time goes: opening the warehouse, and drawing its charts' SVGs (Altair's
  spec and vl-convert) once the rows are known;
- its page (``GET /staff/insights/dashboards/<slug>`` through Django's test client, signed in
  as a Data analyst): server milliseconds, each view from nothing (the kept results and SVGs
  drawn in the process cleared first, as for the first view after a build, which finds the
  charts the build drew ahead: ``page``), the same with the build's drawings moved aside, as
  for a view no one drew ahead (``page_not_drawn_ahead``), and as repeats are served from the
  kept results (``page_cached``);
- and the public page (``/how-our-services-are-doing``) from nothing and kept.

Targets: queries p95 ≤ 300 ms, a chart page p95 ≤ 500 ms. The machine is shared: the load
average before, while measuring and after, and the CPU seconds, are printed with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
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
sys.path.insert(0, str(ROOT / "bench"))

import warehouse as warehouse_bench  # noqa: E402 - bench/warehouse.py, beside this file

DEFAULT = warehouse_bench.DEFAULT
RUNS = 15


def add_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--postgres",
        action="store_true",
        help="source on PostgreSQL, generated as the warehouse benchmark does (fast at 10M)",
    )
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument(
        "--runs", type=int, default=RUNS, help=f"views of each page per filter (default {RUNS})"
    )


def _work_db(n: int, seed: int) -> str:
    # Not the warehouse benchmark's work database: both may run at once with the same source.
    return f"borough_bench_dashboards_work_{n}_{seed}"


def run(size: int | None, progress: Callable[[str], None], options=None) -> dict:
    n = size or DEFAULT
    seed = options.seed if options else 15
    postgres = bool(options and options.postgres)
    backend = "postgresql" if postgres else "sqlite"
    load_before = os.getloadavg()
    # The warehouse benchmark's cached source, when it is ready (the same generator, size and
    # seed); never touched while it is being generated: then a folder of this benchmark's own.
    caches = Path(tempfile.gettempdir())
    cache = caches / "borough-bench-warehouse-cache" / f"{backend}-{n}-{seed}"
    if not (cache / "ready").exists() and not postgres:
        cache = caches / "borough-bench-cache" / f"dashboards-sqlite-{n}-{seed}"
    if not (cache / "ready").exists():
        progress(f"generating the {backend} source into {cache} (once)")
        shutil.rmtree(cache, ignore_errors=True)
        cache.mkdir(parents=True)
        warehouse_bench._child("generate", cache, n, seed, postgres, progress)
        (cache / "ready").write_text("ok")
    work = Path(tempfile.mkdtemp(prefix="borough-bench-dashboards-"))
    try:
        env = warehouse_bench._env(work, n, seed, False)
        for name in ("secret_key",):
            if (cache / name).exists():
                shutil.copy(cache / name, work / name)
        if postgres:
            warehouse_bench._drop(_work_db(n, seed))
            warehouse_bench._psql(
                f"CREATE DATABASE {_work_db(n, seed)} TEMPLATE {warehouse_bench._cache_db(n, seed)}"
            )
            env["DATABASE_URL"] = f"{warehouse_bench.POSTGRES}/{_work_db(n, seed)}"
        else:
            shutil.copy(cache / "borough.sqlite3", work / "borough.sqlite3")
        # The cache keeps the schema it was generated with: bring the copy up to this code's.
        subprocess.run(
            [sys.executable, "-m", "borough", "migrate", "--noinput"],
            env=env,
            cwd=ROOT,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        progress("building the warehouse")
        build_s, build_mb, build_cpu, build_said = warehouse_bench._build(env, ["--full"], progress)
        # As a council runs it (BOROUGH_TASKS=database): the worker draws the charts ahead.
        drawn_s = warehouse_bench._draw_charts(env, progress)
        progress(f"  built in {build_s:.1f} s; measuring the dashboards")
        load_measuring = os.getloadavg()
        runs = options.runs if options else RUNS
        child = subprocess.Popen(
            [sys.executable, __file__, "measure", str(runs)],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert child.stdout is not None and child.stderr is not None
        out: list[str] = []
        reader = threading.Thread(target=lambda: out.append(child.stdout.read()), daemon=True)
        reader.start()
        for line in child.stderr:
            progress(f"  {line.rstrip()}")
        _, status, usage = os.wait4(child.pid, 0)
        reader.join()
        if os.waitstatus_to_exitcode(status) != 0:
            raise RuntimeError("measuring failed")
        figures = json.loads("".join(out).strip().splitlines()[-1])
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if postgres:
            warehouse_bench._drop(_work_db(n, seed))
    queries = [d["queries_p95_ms"] for d in figures["dashboards"].values()]
    pages = [d["page_p95_ms"] for d in figures["dashboards"].values()]
    return {
        "backend": backend,
        "ledger_entries": n,
        "permit_applications": n // 10,
        "build_s": round(build_s, 1),
        "build_cpu_s": build_cpu,
        "build_peak_rss_mb": build_mb,
        "build_said": build_said,
        "charts_drawn_ahead_s": drawn_s,
        "worst_queries_p95_ms": max(queries),
        "worst_page_p95_ms": max(pages),
        **figures,
        "measuring_cpu_s": round(usage.ru_utime + usage.ru_stime, 1),
        "loadavg_before": load_before,
        "loadavg_measuring": load_measuring,
        "loadavg_after": os.getloadavg(),
        "targets": {"queries_p95_ms": 300, "page_p95_ms": 500},
    }


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def _p95(values: list[float]) -> float:
    return round(statistics.quantiles(values, n=20)[-1] if len(values) > 1 else values[0], 1)


#: CPU milliseconds (all threads of the measuring process) of each page from nothing: what a
#: page costs whatever else the shared machine is doing.
PAGE_CPU: list[float] = []


def _get(client, path: str) -> float:
    cpu = time.process_time()
    started = time.perf_counter()
    response = client.get(path)
    elapsed = (time.perf_counter() - started) * 1000
    PAGE_CPU.append((time.process_time() - cpu) * 1000)
    assert response.status_code == 200, (path, response.status_code)
    return elapsed


def _measure(runs: int) -> None:
    """In the child: Django over the benchmark's copy, which holds the published warehouse."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "borough.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings
    from django.test import Client
    from django.utils import timezone

    from borough.core.services import create_staff_account
    from borough.insights import dashboards_queries, warehouse
    from borough.insights.charts import KEPT_FOLDER, draw_svg
    from borough.insights.dashboards import DASHBOARDS, RESULTS, Context
    from borough.insights.dashboards_forms import DashboardFiltersForm
    from borough.insights.tests.facts_reference import BEFORE, BY_DASHBOARD, FROM_SUMMARIES

    baseline_runs = max(2, runs // 3)  # each filter: the facts versions read the whole ledger
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    user, _ = create_staff_account("bench.analyst", ["data-analyst"])
    client = Client()
    client.force_login(user)
    context = Context.from_profile(timezone.localdate())  # no build: nothing kept
    with warehouse.connect() as con:
        months = dashboards_queries.months(con)
        wards = dashboards_queries.wards(con)
    ward = wards[0][0]
    form = DashboardFiltersForm({}, months=months, wards=wards)
    assert form.is_valid(), form.errors
    default = form.filters()
    one_ward = type(default)(default.start, default.end, ward)
    out: dict = {"period": [str(default.start), str(default.end)], "dashboards": {}}

    def timed(times: int, choices, work) -> tuple[list[float], list[float]]:
        """Milliseconds and CPU milliseconds of ``work(con, filters, context)`` on a cursor as
        a page gets one, nothing kept, ``times`` for each of the filters."""
        wall, cpu_ms = [], []
        for filters in choices:
            for _ in range(times):
                cpu, started = time.process_time(), time.perf_counter()
                with warehouse.reader() as con:
                    work(con, filters, context)
                wall.append((time.perf_counter() - started) * 1000)
                cpu_ms.append((time.process_time() - cpu) * 1000)
        return wall, cpu_ms

    # A process's first page pays once for what every later page reuses (Jinja compiling the
    # templates, Django's first request): reported on its own, not as a page from nothing.
    out["process_first_page_ms"] = round(_get(client, "/staff/insights/dashboards/savings"), 1)
    out["process_first_page_cpu_ms"] = round(PAGE_CPU[-1], 1)
    RESULTS.clear()
    for slug, dashboard in DASHBOARDS.items():
        query_ms, query_cpu = timed(runs, (default, one_ward), dashboard.charts)
        # The same run's baseline: the figures this dashboard now reads from the summary
        # tables, worked out from the facts as before them (and checked equal).
        figures = BY_DASHBOARD[slug]
        both = (default, one_ward) if figures else ()
        for filters in both:
            with warehouse.reader() as con:
                for name in figures:
                    assert FROM_SUMMARIES[name](con, filters) == BEFORE[name](con, filters), name

        def before(con, filters, _context, names=figures):
            for name in names:
                BEFORE[name](con, filters)

        def after(con, filters, _context, names=figures):
            for name in names:
                FROM_SUMMARIES[name](con, filters)

        before_ms, before_cpu = timed(baseline_runs, both, before)
        after_ms, after_cpu = timed(baseline_runs, both, after)
        # Where a page's time from nothing goes: opening the warehouse, and drawing its SVGs
        # (Altair's spec and vl-convert) once its rows are known.
        connect_ms, svg_ms = [], []
        for _ in range(5):
            started = time.perf_counter()
            con = warehouse.connect()
            connect_ms.append((time.perf_counter() - started) * 1000)
            with con:
                charts = dashboard.charts(con, default, context)
            draw_svg.cache_clear()
            started = time.perf_counter()
            for chart in charts:
                chart.svg()
            svg_ms.append((time.perf_counter() - started) * 1000)
        # Every page view from nothing as the first view after a build is (no kept results,
        # no SVGs drawn in this process; the charts the build drew ahead in its folder); the
        # same with those drawings moved aside, as a view no one drew ahead (another period)
        # is; then as the caches of results and SVGs serve repeats of the same filters.
        page_ms, cached_ms, page_cpu, undrawn_ms, undrawn_cpu = [], [], [], [], []
        kept = warehouse.current_build() / KEPT_FOLDER
        aside = kept.with_name(KEPT_FOLDER + ".aside")
        for query in ("", f"?start={default.start:%Y-%m}&end={default.end:%Y-%m}&ward={ward}"):
            path = f"/staff/insights/dashboards/{slug}{query}"
            for _ in range(runs):
                RESULTS.clear()
                draw_svg.cache_clear()
                page_ms.append(_get(client, path))
                page_cpu.append(PAGE_CPU[-1])
            kept.rename(aside)
            try:
                for _ in range(runs):
                    RESULTS.clear()
                    draw_svg.cache_clear()
                    undrawn_ms.append(_get(client, path))
                    undrawn_cpu.append(PAGE_CPU[-1])
            finally:
                aside.rename(kept)
            for _ in range(runs):
                cached_ms.append(_get(client, path))
        out["dashboards"][slug] = {
            "queries_p95_ms": _p95(query_ms),
            "queries_median_ms": round(statistics.median(query_ms), 1),
            "queries_cpu_median_ms": round(statistics.median(query_cpu), 1),
            "page_p95_ms": _p95(page_ms),
            "page_median_ms": round(statistics.median(page_ms), 1),
            "page_cpu_median_ms": round(statistics.median(page_cpu), 1),
            "page_not_drawn_ahead_p95_ms": _p95(undrawn_ms),
            "page_not_drawn_ahead_median_ms": round(statistics.median(undrawn_ms), 1),
            "page_not_drawn_ahead_cpu_median_ms": round(statistics.median(undrawn_cpu), 1),
            "page_cached_p95_ms": _p95(cached_ms),
            "page_cached_median_ms": round(statistics.median(cached_ms), 1),
            "charts": len(charts),
            "summed_figures": figures,
            "figures_from_facts_median_ms": _median(before_ms),
            "figures_from_facts_cpu_median_ms": _median(before_cpu),
            "figures_from_summaries_median_ms": _median(after_ms),
            "figures_from_summaries_cpu_median_ms": _median(after_cpu),
            "svg_median_ms": round(statistics.median(svg_ms), 1),
            "connect_median_ms": round(statistics.median(connect_ms), 2),
        }
        print(f"{slug}: {out['dashboards'][slug]}", file=sys.stderr, flush=True)
    # The public page from nothing (its figures are kept a build), then kept.
    public = []
    for _ in range(runs):
        RESULTS.clear()
        public.append(_get(Client(), "/how-our-services-are-doing"))
    out["public_page_p95_ms"] = _p95(public)
    out["public_page_median_ms"] = round(statistics.median(public), 1)
    out["public_page_kept_ms"] = round(_get(Client(), "/how-our-services-are-doing"), 1)
    print(json.dumps(out))


if __name__ == "__main__" and sys.argv[1:2] == ["measure"]:
    _measure(int(sys.argv[2]))
