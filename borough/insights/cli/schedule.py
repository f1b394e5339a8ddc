"""``borough insights schedule [--full]``: queue a warehouse build as a background job."""

from borough.insights.tasks import build_warehouse
from borough.transparency.coverage import data_use

NAME = "schedule"
DATA_USE = data_use(none="Queues the build job; the build records its own use")
HELP = (
    "Queue a warehouse build as a background job (run it from cron or a timer; with "
    "BOROUGH_TASKS=database a `borough db_worker` runs it)."
)


def add_arguments(parser) -> None:
    parser.add_argument("--full", action="store_true", help="Rebuild every table from the start")


def run(command, options: dict) -> None:
    result = build_warehouse.enqueue(full=options["full"])
    command.stdout.write(f"Queued the warehouse build (job {result.id}, {result.status}).")
    if result.is_finished and result.return_value:
        value = result.return_value
        if value.get("published"):
            command.stdout.write(f"Published {value['build']} in {value['seconds']} s.")
        else:
            command.stderr.write(value["report"])
