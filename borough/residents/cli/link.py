"""``borough residents link``: train, predict and cluster the current records into residents."""

import importlib.util
import time

from django.core.management.base import CommandError

from borough.residents.index import index_dir, link_residents
from borough.residents.linkage.pipeline import BACKENDS, SPARK_INSTALL, SparkUnavailable

NAME = "link"
HELP = (
    "Link the current source records into residents with Splink (trained on the data, no labels "
    "needed), keep resident IDs stable across re-links, and save the trained model."
)


def add_arguments(parser) -> None:
    parser.add_argument(
        "--backend",
        choices=BACKENDS,
        default="duckdb",
        help="Where Splink trains and scores: DuckDB in this process (default), or Spark in "
        "local mode (needs the spark extra and Java 17 or later)",
    )


def run(command, options: dict) -> None:
    began = time.perf_counter()

    def progress(message: str) -> None:
        command.stdout.write(f"[{time.perf_counter() - began:6.1f}s] {message}")

    backend = options.get("backend") or "duckdb"
    if backend == "spark" and importlib.util.find_spec("pyspark") is None:
        raise CommandError(
            f"--backend spark needs pyspark, which is not installed. Install it with: "
            f"{SPARK_INSTALL}"
        )
    try:
        result, events = link_residents(progress=progress, backend=backend)
    except (ValueError, SparkUnavailable) as error:
        raise CommandError(str(error)) from None
    command.stdout.write(
        command.style.SUCCESS(
            f"Linked {result.records:,} records into {result.clusters_count:,} residents "
            f"in {time.perf_counter() - began:.1f}s."
        )
    )
    changes = ", ".join(f"{n:,} {kind}" for kind, n in sorted(events.items())) or "no changes"
    command.stdout.write(f"Resident IDs: {changes}.")
    command.stdout.write(f"Model: {result.model_path}")
    command.stdout.write(f"Index: {index_dir() / 'residents.parquet'}")
