"""The Direct Debit subcommands of ``borough housing`` (bacs-run, import-bacs-report,
rotate-bank-key). Thin: the rules are in direct_debit.py and bank_details.py."""

from __future__ import annotations

import argparse
import datetime as dt

from django.core.management.base import CommandError
from django.utils import timezone

from borough.housing import bank_details, direct_debit, direct_debit_reports, direct_debit_runs
from borough.housing.accounts import pounds

SUBCOMMANDS: tuple[str, ...] = ("bacs-run", "import-bacs-report", "rotate-bank-key")


def _date(text: str) -> dt.date:
    # ArgumentTypeError, not CommandError: argparse turns it into a one-line usage error; a
    # CommandError raised while the arguments are read escapes Django as a traceback.
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text} is not a date like 2027-01-04; nothing was done"
        ) from None


def add_arguments(subcommands) -> None:
    """Add this module's subcommands to ``borough housing``."""
    run = subcommands.add_parser(
        "bacs-run",
        help="Make the Bacs run (0N, 0C and collections) for an input day and write its file",
    )
    run.add_argument(
        "--input-date", type=_date, default=None, help="YYYY-MM-DD; default: today in London"
    )
    run.add_argument("--output", default="", help="Also write the Standard 18 file here")
    report = subcommands.add_parser(
        "import-bacs-report", help="Apply an ARUDD, ADDACS or AUDDIS report (XML)"
    )
    report.add_argument("file")
    subcommands.add_parser(
        "rotate-bank-key", help="Re-encrypt every mandate's bank details with the current key"
    )


def handle(command, subcommand: str, options: dict) -> None:
    out = command.stdout
    if subcommand == "bacs-run":
        input_date = options.get("input_date") or timezone.localdate()
        try:
            run = direct_debit_runs.bacs_run(input_date)
        except direct_debit.NothingToSubmit as error:
            out.write(str(error))
            return
        except direct_debit.DirectDebitError as error:
            raise CommandError(str(error)) from None
        out.write(
            f"Bacs run {run.serial} for entry day {run.entry_date}: {run.instructions} "
            f"instructions, {run.collections} collections, {pounds(run.total_pence)}"
        )
        if options.get("output"):
            with open(options["output"], "w", encoding="ascii", newline="") as handle:
                handle.write(run.file_text)
            out.write(f"File written to {options['output']}")
    elif subcommand == "import-bacs-report":
        try:
            outcome = direct_debit_reports.import_bacs_report(options["file"])
        except direct_debit.DirectDebitError as error:
            raise CommandError(str(error)) from None
        out.write(outcome.summary())
        for heading, lines in (
            ("Applied", outcome.applied),
            ("Accepted by the bank", outcome.accepted),
            ("Already applied", outcome.already),
            ("Not recognised (nothing done)", outcome.unknown),
            ("For an officer", outcome.notes),
        ):
            if lines:
                out.write(f"{heading}:")
                for line in lines:
                    out.write(f"  {line}")
    elif subcommand == "rotate-bank-key":
        try:
            count = bank_details.rotate_all()
        except bank_details.BankDetailsError as error:
            raise CommandError(str(error)) from None
        out.write(f"Re-encrypted the bank details of {count} mandates with the current key")
    else:
        raise CommandError(f"Unknown subcommand {subcommand}")
