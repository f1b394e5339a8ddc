"""The statement and charge subcommands of ``borough housing``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from django.core.management.base import CommandError
from django.utils import timezone

SUBCOMMANDS: tuple[str, ...] = ("import-statement", "post-charges", "daily", "load")


def add_arguments(subcommands) -> None:
    """Add this module's subcommands to ``borough housing``."""
    imp = subcommands.add_parser(
        "import-statement",
        help="Import a bank statement (camt.053, MT940 or CSV) and match its payments.",
        description=(
            "Import the council's bank statement: every line is checked first and a file with "
            "a problem imports nothing. Payments matched with confidence are posted to rent "
            "accounts; the rest wait in suspense for a finance officer. Importing the same "
            "statement again, or an overlapping one, posts nothing twice. Progress goes to "
            "stderr on a terminal, or with -v 2."
        ),
    )
    imp.add_argument("file")
    imp.add_argument(
        "--format",
        default=None,
        help="camt.053 (or camt053), mt940 or csv; default: told from the file's content",
    )
    imp.add_argument(
        "--csv-mapping",
        default=None,
        help="A .toml file naming the CSV export's columns (see docs/bank-statements.md)",
    )
    load = subcommands.add_parser(
        "load",
        help="Load tenancies and rent accounts from the housing system's exports.",
        description=(
            "Load the housing system's tenancy export (one row per tenant) and its rent "
            "accounts (payment reference and weekly charges per tenancy). Both files are "
            "checked whole first; any problem loads nothing and lists the rows and columns. "
            "Loading the same files again changes nothing; an end date now given closes a "
            "tenancy and its account."
        ),
    )
    load.add_argument("tenancies")
    load.add_argument("accounts")
    load.add_argument(
        "--mapping", default="universal-housing", help="A mapping name or a .toml file"
    )
    load.add_argument(
        "--effective",
        default=None,
        help="When changed weekly charges start, YYYY-MM-DD (default: next Monday)",
    )
    subcommands.add_parser(
        "daily",
        help="Queue the daily housing jobs: this week's charges, arrangement statuses.",
    )
    charges = subcommands.add_parser(
        "post-charges",
        help="Post a week's rent and charges to every open account (run each Monday).",
    )
    charges.add_argument(
        "--week", default=None, help="The Monday, YYYY-MM-DD (default: this week's Monday)"
    )


def handle(command, subcommand: str, options: dict) -> None:
    if subcommand == "import-statement":
        _import(command, options)
    elif subcommand == "post-charges":
        _charges(command, options)
    elif subcommand == "load":
        from borough.housing.loading import LoadError, load_housing

        effective = None
        if options.get("effective"):
            try:
                effective = dt.date.fromisoformat(options["effective"])
            except ValueError:
                raise CommandError("Give --effective as a date, like 2027-04-05") from None
        try:
            result = load_housing(
                Path(options["tenancies"]),
                Path(options["accounts"]),
                mapping=options["mapping"],
                effective=effective,
            )
        except LoadError as error:
            raise CommandError("\n".join([str(error), *error.problems[:50]])) from None
        command.stdout.write(result.summary())
    elif subcommand == "daily":
        from borough.housing.tasks import daily_housing_jobs

        result = daily_housing_jobs.enqueue(timezone.localdate().isoformat())
        if result.is_finished:
            counts = result.return_value
            command.stdout.write(
                f"Posted {counts['charges_posted']} charges; "
                f"{counts['arrangements_changed']} arrangements changed status."
            )
        else:
            command.stdout.write(f"Queued the daily housing jobs ({result.id}).")


def _import(command, options: dict) -> None:
    from borough.housing.statement_import import (
        ImportRefused,
        import_statement,
        nothing_imported,
    )
    from borough.housing.statements import CsvMapping, MappingError

    path = Path(options["file"])
    if not path.is_file():
        raise CommandError(nothing_imported(f"{path}: there is no such file"))
    mapping = None
    if options.get("csv_mapping"):
        try:
            mapping = CsvMapping.from_toml(Path(options["csv_mapping"]))
        except MappingError as error:
            raise CommandError(nothing_imported(str(error))) from None
    shown = {"stage": ""}

    def progress(stage: str, percent: int) -> None:
        if stage != shown["stage"] or percent == 100 or percent % 10 == 0:
            if (stage, percent) != (shown["stage"], shown.get("percent")):
                command.stderr.write(f"{path.name}: {stage.lower()}: {percent}%")
            shown.update(stage=stage, percent=percent)

    show = options.get("verbosity", 1) >= 2 or command.stderr.isatty()
    try:
        result = import_statement(
            path,
            format=options.get("format"),
            csv_mapping=mapping,
            progress=progress if show else None,
        )
    except ImportRefused as error:
        raise CommandError(str(error)) from None
    command.stdout.write(result.summary())


def _charges(command, options: dict) -> None:
    from borough.housing.rent_weeks import monday_of
    from borough.housing.services import post_weekly_charges

    if options.get("week"):
        try:
            monday = dt.date.fromisoformat(options["week"])
        except ValueError:
            raise CommandError("Give the week as its Monday, like 2026-11-23") from None
    else:
        monday = monday_of(timezone.localdate())
    try:
        result = post_weekly_charges(monday)
    except ValueError as error:
        raise CommandError(str(error)) from None
    if result.already_done:
        command.stdout.write(f"Charges for {result.week.label} were posted before: nothing more.")
    elif result.week.free:
        command.stdout.write(f"{result.week.label} is rent-free: no charges posted.")
    else:
        command.stdout.write(f"Posted {result.posted} charges for {result.week.label}.")
