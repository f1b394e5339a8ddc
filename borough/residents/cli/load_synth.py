"""``borough residents load-synth DIR``: a synthetic borough's gazetteer and its seven datasets."""

import time
from pathlib import Path

from django.core.management.base import CommandError

from borough.places.services import import_gazetteer
from borough.residents.cli.load import add_output_arguments, report
from borough.residents.services import load_many
from borough.transparency.coverage import RESIDENT_DATA, data_use

DATA_USE = data_use(touches=RESIDENT_DATA, purpose="residents_index_maintenance")

NAME = "load-synth"
HELP = (
    "Load the folder `borough synth` wrote: its gazetteer.csv (if not already loaded), then "
    "each of the seven source datasets. Stops at the first file that does not load."
)
DATASETS = (
    "council_tax",
    "electoral_register",
    "housing_tenancies",
    "housing_benefit",
    "school_admissions",
    "freedom_pass",
    "parking_permits_history",
)


def add_arguments(parser) -> None:
    parser.add_argument("folder", help="The folder borough synth --out wrote")
    add_output_arguments(parser)


def run(command, options: dict) -> None:
    folder = Path(options["folder"])
    missing = [f"{name}.csv" for name in DATASETS if not (folder / f"{name}.csv").is_file()]
    if missing:
        raise CommandError(f"{folder} is not a synthetic borough: {', '.join(missing)} missing.")
    began = time.perf_counter()
    if (folder / "gazetteer.csv").is_file():
        gazetteer = import_gazetteer(folder / "gazetteer.csv", "llpg", via="command line")
        if not gazetteer.ok:
            for line in gazetteer.problem_lines(with_file=True):
                command.stderr.write(f"  {line}")
            raise CommandError("The gazetteer did not load, so no dataset was loaded.")
        command.stdout.write(gazetteer.summary())
    pairs = [(name, folder / f"{name}.csv") for name in DATASETS]
    results = load_many(pairs, force=options["force"])
    while True:
        started = time.perf_counter()
        result = next(results, None)
        if result is None:
            break
        report(command, result, options, time.perf_counter() - started)
        if not result.ok:
            raise CommandError(f"Nothing was loaded from {result.file_name}; stopped there.")
    command.stdout.write(f"Done in {time.perf_counter() - began:.1f}s.")
