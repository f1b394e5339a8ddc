"""``borough residents link``: train, predict and cluster the current records into residents."""

import importlib.util
import time

from django.core.management.base import CommandError

from borough.residents.index import index_dir, link_residents
from borough.residents.linkage.backends import BACKENDS, SPARK_INSTALL, SparkUnavailable
from borough.residents.linkage.spark_config import parse_spark_conf
from borough.transparency.coverage import RESIDENT_DATA, data_use

DATA_USE = data_use(touches=RESIDENT_DATA, purpose="residents_index_maintenance")

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
        help="Where Splink trains and scores: DuckDB in this process (default), or Spark "
        "(local mode unless --spark-master or the Spark environment says otherwise; needs the "
        "spark extra and Java 17 or later)",
    )
    parser.add_argument(
        "--spark-master",
        metavar="URL",
        help="Spark master for --backend spark: local[N], spark://host:7077, yarn, k8s://… "
        "(default: PYSPARK_SUBMIT_ARGS --master, spark.master in spark-defaults.conf, "
        "SPARK_MASTER or MASTER, else local[*])",
    )
    parser.add_argument(
        "--spark-conf",
        metavar="KEY=VALUE",
        action="append",
        default=[],
        help="a Spark setting for --backend spark, over the one computed from the data's size "
        "and the Spark environment's (repeatable), e.g. spark.driver.memory=8g",
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
    spark_master = options.get("spark_master") or None
    try:
        spark_conf = parse_spark_conf(options.get("spark_conf") or [])
    except ValueError as error:
        raise CommandError(str(error)) from None
    if backend != "spark" and (spark_master or spark_conf):
        raise CommandError("--spark-master and --spark-conf need --backend spark")
    try:
        result, events = link_residents(
            progress=progress,
            backend=backend,
            spark_master=spark_master,
            spark_conf=spark_conf,
        )
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
