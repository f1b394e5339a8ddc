"""Insight's background job (Django's task API).

``borough insights schedule`` enqueues ``build_warehouse`` (run it from cron or a systemd timer,
for example every night and every hour in the working day); with ``BOROUGH_TASKS=database`` a
``borough db_worker`` process runs it, away from the web processes."""

from __future__ import annotations

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
    return {
        "published": True,
        "build": result.build.name,
        "full": result.full,
        "seconds": round(result.seconds, 1),
        "fact_rows": sum(n for name, n in result.rows.items() if name.startswith("fact_")),
    }
