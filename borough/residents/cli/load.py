"""``borough residents load DATASET FILE``: load an export as the dataset's new snapshot."""

import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import CommandError

from borough.residents.config import DatasetConfigError
from borough.residents.results import set_aside_csv
from borough.residents.services import LoadResult, load_dataset
from borough.transparency.coverage import RESIDENT_DATA, data_use

DATA_USE = data_use(touches=RESIDENT_DATA, purpose="residents_index_maintenance")

NAME = "load"
HELP = (
    "Load an export (CSV or Parquet) of a declared dataset. The whole file is checked first; "
    "any problem loads nothing and lists the rows and columns to fix. Loading the same file "
    "again changes nothing."
)


def add_arguments(parser) -> None:
    parser.add_argument("dataset", help="The dataset's code (borough residents datasets)")
    parser.add_argument("file", help="The export file")
    parser.add_argument(
        "--set-aside-bad-rows",
        nargs="?",
        const=0.1,
        type=float,
        metavar="PERCENT",
        help="Leave out rows with problems instead of refusing the file, if they are at most "
        "PERCENT of its rows (default 0.1); each is listed, with its row, column and reason, "
        "in a CSV report. Without this, any problem loads nothing.",
    )
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
    parser.add_argument(
        "--warnings",
        action="store_true",
        help="List the warnings: the first 50, at most 10 of one column (every column's count "
        "is printed either way)",
    )


def run(command, options: dict) -> None:
    began = time.perf_counter()
    percent = options.get("set_aside_bad_rows")
    if percent is not None and not 0 < percent <= 10:
        raise CommandError("--set-aside-bad-rows takes a percentage above 0 and at most 10.")
    try:
        result = load_dataset(
            options["dataset"],
            options["file"],
            force=options["force"],
            set_aside_share=None if percent is None else percent / 100,
        )
    except DatasetConfigError as error:
        raise CommandError(str(error)) from None
    except FileNotFoundError:
        raise CommandError(f"There is no file {options['file']}.") from None
    report(command, result, options, time.perf_counter() - began)
    if not result.ok:
        raise CommandError(f"Nothing was loaded from {result.file_name}.")
    if result.set_aside_rows:
        path = write_set_aside_report(result)
        command.stdout.write(
            f"  {result.set_aside_rows:,} row{'s' if result.set_aside_rows != 1 else ''} set "
            f"aside: every row, column and reason is in {path} (and on the load's page in the "
            "admin)."
        )
    if result.created or result.updated or result.ended or result.reopened:
        command.stdout.write(
            "  The resident index and verification use these changes after the next "
            "borough residents link."
        )


def write_set_aside_report(result: LoadResult) -> Path:
    """The set-aside rows as a CSV file in the data folder's reports."""
    folder = Path(settings.DATA_DIR) / "reports"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{result.dataset}-load-{result.load.pk}-set-aside.csv"
    path.write_text(set_aside_csv(result.load), encoding="utf-8")
    return path


def report(command, result: LoadResult, options: dict, seconds: float) -> None:
    """The result of one load, as the command line shows it."""
    if not result.ok:
        command.stderr.write(result.summary())
        if len(result.problems_by_column) > 1:
            command.stderr.write(f"  ({result.by_column_words(result.problems_by_column)})")
        for line in result.problem_lines():
            command.stderr.write(f"  {line}")
        return
    command.stdout.write(command.style.SUCCESS(result.summary()) + f" ({seconds:.1f}s)")
    if result.warning_count:
        if options.get("warnings"):
            for line in result.warning_lines():
                command.stdout.write(f"  warning: {line}")
        else:
            where = result.by_column_words(result.warnings_by_column)
            command.stdout.write(f"  ({where}; --warnings lists the first of each column)")
    if result.uprn_unmatched:
        if options.get("unmatched"):
            command.stdout.write(f"  Addresses that matched no UPRN ({result.uprn_unmatched:,}):")
            for line in result.unmatched_lines():
                command.stdout.write(f"    {line}")
        else:
            command.stdout.write(
                f"  {result.uprn_unmatched:,} addresses matched no UPRN (--unmatched lists them)"
            )
