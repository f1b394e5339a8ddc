"""``borough insights publish``: protect the open-data tables and write them as a release."""

import datetime as dt

from django.core.management.base import CommandError

from borough.transparency.coverage import data_use

NAME = "publish"
DATA_USE = data_use(
    none="Aggregate tables from the pseudonymised warehouse, checked for disclosure"
)
HELP = (
    "Count the open-data tables for a period, hide small counts and anything that would give "
    "them away (the council profile's [open_data] rule), and publish them with their data "
    "dictionary under the Open Government Licence. Nothing is written unless every table "
    "passes the disclosure audit."
)


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise CommandError(
            f"Enter the date as YYYY-MM-DD, like 2026-04-01 (not {text!r})"
        ) from None


def add_arguments(parser) -> None:
    parser.add_argument("--from", dest="start", help="First day of the period (YYYY-MM-DD)")
    parser.add_argument("--to", dest="end", help="Last day of the period (YYYY-MM-DD)")


def run(command, options) -> None:
    # Imported here: the disclosure audit loads pandas and SciPy (a second), which every other
    # ``borough insights`` subcommand (the build above all) would otherwise load for nothing.
    from borough.insights import opendata
    from borough.insights.disclosure import DisclosureError

    start, end = options.get("start"), options.get("end")
    if (start is None) != (end is None):
        raise CommandError("Give both --from and --to, or neither (the last 12 whole months)")
    try:
        release = opendata.publish(_date(start) if start else None, _date(end) if end else None)
    except DisclosureError as error:
        raise CommandError(f"Nothing was published: {error}") from None
    period = release.manifest["period"]
    if release.unchanged:
        command.stdout.write(
            f"Nothing has changed since release {release.name} ({period['start']} to "
            f"{period['end']}): it stays the current release and nothing new was written."
        )
        return
    command.stdout.write(
        f"Published {len(release.tables)} table(s) for {period['start']} to {period['end']} "
        f"as release {release.name}"
    )
    for table in release.tables:
        command.stdout.write(f"  {table['file']}: {table['rows']} rows, {table['hidden']} hidden")
