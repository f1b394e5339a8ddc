"""``borough residents datasets``: the declared datasets, and what each holds now."""

from django.core.management.base import CommandError

from borough.residents.config import DatasetConfigError, datasets_dir
from borough.residents.queries import datasets_with_counts, latest_load
from borough.residents.services import sync_datasets
from borough.transparency.coverage import data_use

DATA_USE = data_use(none="Lists the declared datasets and how many records each holds")

NAME = "datasets"
HELP = "List the declared source datasets (from BOROUGH_DATASETS_DIR or the shipped folder)."


def add_arguments(parser) -> None:
    parser.add_argument(
        "--verbose", action="store_true", help="Show each dataset's lawful basis and columns"
    )


def run(command, options: dict) -> None:
    try:
        sync_datasets()
    except DatasetConfigError as error:
        raise CommandError(str(error)) from None
    command.stdout.write(f"Declared datasets in {datasets_dir()}:")
    for dataset in datasets_with_counts().filter(declared=True):
        load = latest_load(dataset.code)
        loaded = (
            f"last loaded {load.started_at:%d %b %Y %H:%M} from {load.file_name}"
            if load
            else "never loaded"
        )
        command.stdout.write(
            f"  {dataset.code:<26} {dataset.title} ({dataset.owner}); proves "
            f"{', '.join(dataset.proves)}; {dataset.current:,} current records, "
            f"{dataset.ended:,} ended; {loaded}"
        )
        if options["verbose"]:
            command.stdout.write(f"      lawful basis: {dataset.lawful_basis}")
            command.stdout.write(f"      ({dataset.lawful_basis_reference})")
            command.stdout.write(f"      declared in {dataset.config_path}")
