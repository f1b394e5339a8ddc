"""The Insight dashboards on a big warehouse: each dashboard's queries and each chart page.

    python bench/run.py dashboards [--size N] [--seed S]

``size`` is rent ledger entries (default 10,000,000), as in the ``warehouse`` benchmark, whose
generated source (``<tmp>/borough-bench-cache/warehouse-sqlite-N-S``) this one reuses when it
is ready, and otherwise generates the same way into ``dashboards-sqlite-N-S`` beside it: size/10
permit applications and permits over size/200 rent accounts. A copy of the source is built into
a warehouse with ``borough insights build``; then, in a child process with Django set up over
that copy, for every dashboard under its default filters (the warehouse's last 12 months, all
wards) and under one ward:

- its queries (the ``dashboards_queries`` functions its charts call, on one read-only
  connection): milliseconds per run of the whole set, p95 over the runs;
- its page (``GET /staff/insights/dashboards/<slug>`` through Django's test client, signed in
  as a Data analyst): server milliseconds, p95, each view from nothing (the kept results and
  drawn SVGs cleared first: ``page``), and as repeats are served from them (``page_cached``).

Targets: queries p95 ≤ 300 ms, a chart page p95 ≤ 500 ms.
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
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import warehouse as warehouse_bench  # noqa: E402 - bench/warehouse.py, beside this file

DEFAULT = warehouse_bench.DEFAULT
RUNS = 15


def add_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seed", type=int, default=15)


def run(size: int | None, progress: Callable[[str], None], options=None) -> dict:
    n = size or DEFAULT
    seed = options.seed if options else 15
    caches = Path(tempfile.gettempdir()) / "borough-bench-cache"
    cache = caches / f"warehouse-sqlite-{n}-{seed}"
    if not (cache / "ready").exists():
        # The warehouse benchmark's source is not ready (perhaps it is being generated now):
        # never touch it; generate into a folder of this benchmark's own.
        cache = caches / f"dashboards-sqlite-{n}-{seed}"
    if not (cache / "ready").exists():
        progress(f"generating the source into {cache} (once)")
        shutil.rmtree(cache, ignore_errors=True)
        cache.mkdir(parents=True)
        warehouse_bench._child("generate", cache, n, seed, False, progress)
        (cache / "ready").write_text("ok")
    work = Path(tempfile.mkdtemp(prefix="borough-bench-dashboards-"))
    try:
        env = warehouse_bench._env(work, n, seed, False)
        warehouse_bench._copy_source(cache, work, n, seed, False)
        progress("building the warehouse")
        build_s, *_ = warehouse_bench._build(env, ["--full"], progress)
        progress(f"  built in {build_s:.1f} s; measuring the dashboards")
        child = subprocess.run(
            [sys.executable, __file__, "measure"],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        for line in child.stderr.splitlines():
            progress(f"  {line}")
        if child.returncode != 0:
            raise RuntimeError("measuring failed")
        figures = json.loads(child.stdout.strip().splitlines()[-1])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    queries = [d["queries_p95_ms"] for d in figures["dashboards"].values()]
    pages = [d["page_p95_ms"] for d in figures["dashboards"].values()]
    return {
        "ledger_entries": n,
        "permit_applications": n // 10,
        "build_s": round(build_s, 1),
        "worst_queries_p95_ms": max(queries),
        "worst_page_p95_ms": max(pages),
        **figures,
        "loadavg": os.getloadavg(),
        "targets": {"queries_p95_ms": 300, "page_p95_ms": 500},
    }


def _p95(values: list[float]) -> float:
    return round(statistics.quantiles(values, n=20)[-1] if len(values) > 1 else values[0], 1)


def _get(client, path: str) -> float:
    started = time.perf_counter()
    response = client.get(path)
    elapsed = (time.perf_counter() - started) * 1000
    assert response.status_code == 200, (path, response.status_code)
    return elapsed


def _measure() -> None:
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
    from borough.insights.charts import draw_svg
    from borough.insights.dashboards import DASHBOARDS, RESULTS, Context
    from borough.insights.dashboards_forms import DashboardFiltersForm

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
    for slug, dashboard in DASHBOARDS.items():
        query_ms = []
        for filters in (default, one_ward):
            for _ in range(RUNS):
                started = time.perf_counter()
                with warehouse.connect() as con:
                    dashboard.charts(con, filters, context)
                query_ms.append((time.perf_counter() - started) * 1000)
        # Every page view from nothing (no kept results, no drawn SVGs), then as the caches
        # of results and SVGs serve repeats of the same filters.
        page_ms, cached_ms = [], []
        for query in ("", f"?start={default.start:%Y-%m}&end={default.end:%Y-%m}&ward={ward}"):
            for _ in range(RUNS):
                RESULTS.clear()
                draw_svg.cache_clear()
                page_ms.append(_get(client, f"/staff/insights/dashboards/{slug}{query}"))
            for _ in range(RUNS):
                cached_ms.append(_get(client, f"/staff/insights/dashboards/{slug}{query}"))
        out["dashboards"][slug] = {
            "queries_p95_ms": _p95(query_ms),
            "queries_median_ms": round(statistics.median(query_ms), 1),
            "page_p95_ms": _p95(page_ms),
            "page_median_ms": round(statistics.median(page_ms), 1),
            "page_cached_p95_ms": _p95(cached_ms),
        }
        print(f"{slug}: {out['dashboards'][slug]}", file=sys.stderr, flush=True)
    started = time.perf_counter()
    assert Client().get("/how-our-services-are-doing").status_code == 200
    out["public_page_ms"] = round((time.perf_counter() - started) * 1000, 1)
    print(json.dumps(out))


if __name__ == "__main__" and sys.argv[1:] == ["measure"]:
    _measure()
