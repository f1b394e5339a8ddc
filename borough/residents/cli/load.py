"""``borough residents load DATASET FILE``: load an export as the dataset's new snapshot."""

import time

from django.core.management.base import CommandError

from borough.residents.config import DatasetConfigError
from borough.residents.services import LoadResult, load_dataset

NAME = "load"
HELP = (
    "Load an export (CSV or Parquet) of a declared dataset. The whole file is checked first; "
    "any problem loads nothing and lists the rows and columns to fix. Loading the same file "
    "again changes nothing."
)


def add_arguments(parser) -> None:
    parser.add_argument("dataset", help="The dataset's code (borough residents datasets)")
    parser.add_argument("file", help="The export file")
    add_output_arguments(parser)


def add_output_arguments(parser) -> None:
    parser.add_argument(
        "--force",
        action="store_true",
        help="Load the file even if it was the last one loaded (to match addresses again)",
    )
    parser.add_argument(
        "--unmatched", action="store_true", help="List the addresses that matched no UPRN"
    )
    parser.add_argument("--warnings", action="store_true", help="List the warnings")


def run(command, options: dict) -> None:
    began = time.perf_counter()
    try:
        result = load_dataset(options["dataset"], options["file"], force=options["force"])
    except DatasetConfigError as error:
        raise CommandError(str(error)) from None
    except FileNotFoundError:
        raise CommandError(f"There is no file {options['file']}.") from None
    report(command, result, options, time.perf_counter() - began)
    if not result.ok:
        raise CommandError(f"Nothing was loaded from {result.file_name}.")
    if result.created or result.updated or result.ended or result.reopened:
        command.stdout.write(
            "  The resident index and verification use these changes after the next "
            "borough residents link."
        )


def report(command, result: LoadResult, options: dict, seconds: float) -> None:
    """The result of one load, as the command line shows it."""
    if not result.ok:
        command.stderr.write(result.summary())
        for line in result.problem_lines():
            command.stderr.write(f"  {line}")
        return
    command.stdout.write(command.style.SUCCESS(result.summary()) + f" ({seconds:.1f}s)")
    if result.warning_count:
        if options.get("warnings"):
            for line in result.warning_lines():
                command.stdout.write(f"  warning: {line}")
        else:
            command.stdout.write("  (--warnings lists them)")
    if result.uprn_unmatched:
        if options.get("unmatched"):
            command.stdout.write(f"  Addresses that matched no UPRN ({result.uprn_unmatched:,}):")
            for line in result.unmatched_lines():
                command.stdout.write(f"    {line}")
        else:
            command.stdout.write(
                f"  {result.uprn_unmatched:,} addresses matched no UPRN (--unmatched lists them)"
            )
