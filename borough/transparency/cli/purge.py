"""``borough transparency purge``: delete data-use events past the council's retention periods."""

from django.core.management.base import CommandError

from borough.transparency.coverage import RESIDENT_DATA, data_use
from borough.transparency.retention import ScheduleError, purge

NAME = "purge"
DATA_USE = data_use(touches=RESIDENT_DATA, purpose="data_use_retention_purge")
HELP = (
    "Delete the bodies of data-use events past the retention periods in the council profile's "
    "[retention], keeping their sealed hashes so old proofs still verify; record the run. "
    "--dry-run lists what would go; --queue runs it as a background job (daily, from cron)."
)


def add_arguments(parser) -> None:
    parser.add_argument(
        "--dry-run", action="store_true", help="List what would be purged; delete nothing"
    )
    parser.add_argument(
        "--queue", action="store_true", help="Queue the purge as a background job instead"
    )


def run(command, options) -> None:
    if options.get("queue"):
        if options.get("dry_run"):
            raise CommandError("--queue and --dry-run do not go together.")
        from borough.transparency.tasks import daily_retention_purge

        result = daily_retention_purge.enqueue()
        if result.is_finished:
            command.stdout.write(f"Purged {result.return_value['purged']} event(s).")
        else:
            command.stdout.write(f"Queued the retention purge (job {result.id}).")
        return
    dry = bool(options.get("dry_run"))
    try:
        rules, counts, done = purge(dry_run=dry)
    except ScheduleError as e:
        raise CommandError(str(e)) from None
    command.stdout.write("Retention schedule (council profile [retention]):")
    for rule in rules:
        command.stdout.write(f"  {rule.describe()}")
    total = sum(row[2] for row in counts)
    if counts:
        command.stdout.write("Purpose, action: events (oldest to newest)")
        for purpose, action, n, oldest, newest in counts:
            command.stdout.write(f"  {purpose}, {action}: {n} ({oldest} to {newest})")
    if dry:
        command.stdout.write(f"Dry run: {total} event(s) would be purged. Nothing was deleted.")
    else:
        command.stdout.write(
            f"Purged {total} event(s) (purge run {done.pk}); their sealed hashes stay."
        )
