"""``borough transparency purge``: delete data-use events past the council's retention periods
and anonymise the records of source datasets and services past theirs."""

from django.core.management.base import CommandError

from borough.transparency.coverage import RESIDENT_DATA, data_use
from borough.transparency.record_retention import RecordScheduleError
from borough.transparency.retention import ScheduleError, purge

NAME = "purge"
DATA_USE = data_use(
    touches=RESIDENT_DATA, purposes=["data_use_retention_purge", "records_retention_purge"]
)
HELP = (
    "Delete the bodies of data-use events past the retention periods in the council profile's "
    "[retention], keeping their sealed hashes so old proofs still verify; anonymise the records "
    "of source datasets (keep_after_end) and services ([retention.records]) past theirs; "
    "record the run. "
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
            value = result.return_value
            command.stdout.write(
                f"Purged {value['purged']} event(s). Anonymised {value['anonymised']} record(s)."
            )
        else:
            command.stdout.write(f"Queued the retention purge (job {result.id}).")
        return
    dry = bool(options.get("dry_run"))
    try:
        done = purge(dry_run=dry)
    except (ScheduleError, RecordScheduleError) as e:
        raise CommandError(str(e)) from None
    command.stdout.write("Retention schedule (council profile [retention]):")
    for rule in done.rules:
        command.stdout.write(f"  {rule.describe()}")
    if done.counts:
        command.stdout.write("Purpose, action: events (oldest to newest)")
        for purpose, action, n, oldest, newest in done.counts:
            command.stdout.write(f"  {purpose}, {action}: {n} ({oldest} to {newest})")
    command.stdout.write(
        "Records (datasets: keep_after_end in their declarations; services: [retention.records]):"
    )
    for rule in done.record_rules:
        command.stdout.write(f"  {rule.describe()}")
    if done.records:
        command.stdout.write("Records past their period: count (ended, oldest to newest)")
        for kind, code, n, oldest, newest in done.records:
            command.stdout.write(f"  {kind} {code}: {n} ({oldest} to {newest})")
    events, records = done.events_total, done.records_total
    if dry:
        command.stdout.write(
            f"Dry run: {events} event(s) would be purged and {records} record(s) anonymised. "
            "Nothing was changed."
        )
    else:
        command.stdout.write(
            f"Purged {events} event(s) (purge run {done.run.pk}); their sealed hashes stay. "
            f"Anonymised {records} record(s)."
        )
