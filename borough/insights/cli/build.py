"""``borough insights build [--full]``: build the warehouse and publish it if its checks pass."""

import sys

from django.core.management.base import CommandError
from django_tasks import TaskResultStatus

from borough.insights.build import BuildFailed, build
from borough.transparency.coverage import RESIDENT_DATA, data_use

NAME = "build"
DATA_USE = data_use(touches=RESIDENT_DATA, purpose="insights_warehouse_build")
HELP = (
    "Build the Insight warehouse (DuckDB and Parquet) from the services' data: only what "
    "changed since the last build, or everything with --full. Publishes it only if every "
    "data-quality check passes."
)


def add_arguments(parser) -> None:
    parser.add_argument("--full", action="store_true", help="Rebuild every table from the start")
    parser.add_argument("--quiet", action="store_true", help="Print only the result")


def run(command, options: dict) -> None:
    def progress(message: str) -> None:
        if not options["quiet"]:
            command.stderr.write(message)

    try:
        result = build(full=options["full"], progress=progress)
    except BuildFailed as failure:
        command.stderr.write(failure.report)
        sys.stderr.flush()
        # the failures again, last, so they are what the operator sees without scrolling
        failed = [r.line() for r in failure.results if not r.passed]
        raise CommandError(
            f"The warehouse was not published: {len(failed)} of {len(failure.results)} checks "
            "failed; the previous warehouse is still the published one.\n" + "\n".join(failed)
        ) from None
    facts = sum(n for name, n in result.rows.items() if name.startswith("fact_"))
    command.stdout.write(
        f"Published the warehouse ({'full' if result.full else 'incremental'} build, "
        f"{result.seconds:.1f} s): {facts:,} fact rows, "
        f"{sum(result.rows_read.values()):,} source rows read, "
        f"{len(result.results)} checks passed, {result.partitions_written} Parquet files written "
        f"(seconds: {', '.join(f'{k} {v}' for k, v in result.stages.items())}). {result.build}"
    )
    from borough.insights.tasks import draw_charts

    queued = draw_charts.enqueue(str(result.build))
    if queued.status == TaskResultStatus.SUCCESSFUL:
        drawn = queued.return_value
        command.stdout.write(
            f"Drew {drawn['drawn']:,} of {drawn['charts']:,} dashboard charts ahead "
            f"({drawn['views']} views) in {drawn['seconds']} s."
        )
    elif queued.status == TaskResultStatus.FAILED:
        command.stderr.write("Drawing the dashboards' charts ahead failed: pages will draw them.")
    else:
        command.stdout.write("The dashboards' charts will be drawn ahead by the task worker.")
