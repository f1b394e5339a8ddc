"""Insight's background job (Django's task API).

``borough insights schedule`` enqueues ``build_warehouse`` (run it from cron or a systemd timer,
for example every night and every hour in the working day); with ``BOROUGH_TASKS=database`` a
``borough db_worker`` process runs it, away from the web processes. Every publish enqueues
``draw_charts``, which draws the dashboards' charts ahead for the new build (with the database
backend after the build has returned; with ``immediate``, at once, in the same process)."""

from __future__ import annotations

from pathlib import Path

from django_tasks import task

from borough.insights.build import BuildFailed, build
from borough.transparency.coverage import RESIDENT_DATA, data_use


@task()
@data_use(touches=RESIDENT_DATA, purposes=["insights_warehouse_build"])
def build_warehouse(full: bool = False) -> dict:
    """An incremental build (``full``: from the start). A failed check publishes nothing and
    returns the report; the previous warehouse stays published."""
    try:
        result = build(full=full)
    except BuildFailed as failure:
        return {"published": False, "report": failure.report}
    draw_charts.enqueue(str(result.build))
    return {
        "published": True,
        "build": result.build.name,
        "full": result.full,
        "seconds": round(result.seconds, 1),
        "fact_rows": sum(n for name, n in result.rows.items() if name.startswith("fact_")),
    }


@task()
@data_use(none="Reads the pseudonymised warehouse: counts and sums, small counts hidden")
def draw_charts(build: str) -> dict:
    """Draw every dashboard's charts for its default view and each ward, ahead, for ``build`` (a
    published build's folder); nothing if a newer build has been published since."""
    # Imported here: the drawings need Altair and the dashboards (a second or more to load),
    # which the build command does not when it only queues this job for the worker.
    from borough.insights.drawings import draw_ahead

    drawn = draw_ahead(Path(build))
    return {
        "build": Path(build).name,
        "views": drawn.views,
        "charts": drawn.charts,
        "drawn": drawn.drawn,
        "seconds": round(drawn.seconds, 1),
        "skipped": drawn.skipped,
    }
